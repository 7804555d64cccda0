package dev.kindbuild.release;

import dev.kindbuild.UserError;
import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.image.ImageRef;
import dev.kindbuild.image.registry.RegistryAccess;
import dev.kindbuild.image.registry.RegistryMirrors;
import dev.kindbuild.image.archive.ArchiveFormat;
import dev.kindbuild.image.registry.OciIndex;
import dev.kindbuild.image.registry.PushResult;
import dev.kindbuild.image.registry.RegistryClients;
import dev.kindbuild.image.registry.RegistryPush;
import dev.kindbuild.image.registry.Platform;
import dev.kindbuild.image.registry.RegistryPull;
import dev.kindbuild.image.registry.RegistryTrust;
import dev.kindbuild.image.store.Descriptor;
import dev.kindbuild.image.store.ImageStore;
import dev.kindbuild.kube.KubeVersion;
import dev.kindbuild.kube.KubernetesSource;
import dev.kindbuild.node.EnsureBaseImage;
import dev.kindbuild.node.NodeImageRequest;
import dev.kindbuild.node.pipeline.NodeBuild;
import dev.kindbuild.progress.Progress;
import dev.kindbuild.progress.StepTimes;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * `kind-build release FILE`: every version × architecture of a {@link ReleaseFile} built with the daemonless builder
 * (sharing the download cache and the image store), a few at a time; then, only if all of them succeeded, each
 * version's OCI index pushed — first every index by digest, then the tags, so a failed push leaves no release tag
 * pointing at a partial set.
 */
public final class ReleaseBuild {

    /** One image of the release. */
    public record Target(String version, String arch, String tag) {
        public String label() {
            return version + " " + arch;
        }
    }

    /** What a release file asks for, before anything runs ({@code --dry-run} prints it). */
    public record Plan(ReleaseFile file, List<Target> targets) {
        public static Plan of(ReleaseFile file) {
            List<Target> targets = new ArrayList<>();
            for (String v : file.versions()) {
                for (String a : file.arches()) {
                    targets.add(new Target(v, a, file.tag(v)));
                }
            }
            return new Plan(file, List.copyOf(targets));
        }

        /** The plan as lines a person reads. */
        public List<String> lines() {
            List<String> out = new ArrayList<>();
            out.add(targets.size() + " node images (" + file.versions().size() + " versions × " + file.arches().size()
                    + " arches), " + Math.min(file.jobs(), targets.size()) + " at a time; then " + file.versions().size()
                    + " OCI indexes pushed, only if every build succeeded:");
            for (String v : file.versions()) {
                out.add("  " + file.tag(v) + "  ← " + String.join(" + ", file.arches().stream().map(a -> "linux/" + a).toList())
                        + ", Kubernetes " + v + " from " + dev.kindbuild.support.Urls.redact(file.releaseUrl()));
            }
            out.add("  base image: " + file.baseImage().map(ImageRef::redact).orElse("the bundled recipe, built per arch in the engine"));
            if (!file.extraImages().isEmpty()) {
                out.add("  extra images: " + String.join(", ", file.extraImages().stream().map(ImageRef::redact).toList()));
            }
            if (!file.mirrors().isEmpty()) {
                out.add("  registry mirrors: " + String.join(", ", file.mirrors().stream().map(ImageRef::redact).toList()));
            }
            return out;
        }
    }

    /** One image a shard built and left in the registry for {@code --finalize}, pinned by digest. */
    public record Staged(Target target, PushResult pushed, NodeBuild.Built built) {}

    /** One version as {@code --finalize} published it: its index, the push, and each architecture's manifest digest. */
    public record Finalized(String version, String tag, Descriptor index, PushResult pushed, Map<String, String> arches) {}

    /** One version as published: its index, the push, and each architecture's image. */
    public record Published(String version, String tag, Descriptor index, PushResult pushed, List<NodeBuild.Built> images) {}

    private final ImageStore store;
    private final Progress progress;

    public ReleaseBuild(ImageStore store, Progress progress) {
        this.store = store;
        this.progress = progress;
    }

    /** @param sourceDateEpoch the images' time; empty: each release's own */
    public List<Published> run(Plan plan, Optional<DockerEngine> engine, Optional<java.time.Instant> sourceDateEpoch) {
        ReleaseFile file = plan.file();
        RegistryTrust trust = file.trust();
        RegistryAccess access = RegistryAccess.of(file.insecureRegistries());
        RegistryMirrors mirrors = RegistryMirrors.parse(file.mirrors());
        Map<Target, String> bases = bases(plan, engine);
        NodeBuild.Options options = new NodeBuild.Options(engine, Optional.empty(),
                ArchiveFormat.OCI, true, trust, sourceDateEpoch);

        Map<Target, NodeBuild.Built> built = new LinkedHashMap<>();
        // Collected first, pushed only when all were built: a release is published whole or not at all.
        buildAll(plan, bases, mirrors, access, options, built::put, "release not published (%s builds failed, nothing pushed)");

        RegistryClients clients = new RegistryClients(access, trust, progress);
        Optional<String> mount = built.values().stream().findFirst().flatMap(NodeBuild.Built::baseRepository)
                .filter(r -> r.registry().equals(file.repository().registry())).map(ImageRef::repository);
        Map<Target, dev.kindbuild.image.store.StoredImage> images = new LinkedHashMap<>();
        built.forEach((t, b) -> images.put(t, b.image()));
        List<Published> published = new ArrayList<>();
        // The images are whole in the store: pushed with their indexes, kept there under the release tags.
        RegistryPush push = new RegistryPush(clients, store, progress);
        Map<String, VersionPush> indexes = publish(plan, images, (index, target) -> push.push(index, target, mount));
        indexes.forEach((v, p) -> store.tag(file.tag(v), p.index()));
        indexes.forEach((v, p) -> published.add(new Published(v, file.tag(v), p.index(), p.pushed(),
                plan.targets().stream().filter(t -> t.version().equals(v)).map(built::get).toList())));
        return published;
    }

    /**
     * `release FILE --shard I/N`: builds this shard's images and pushes each, by digest, under its staging reference
     * ({@link ReleaseFile#staging}); blobs the registry has are not sent again, so a re-run of a finished shard uploads
     * nothing. No release tag moves.
     */
    public List<Staged> stage(Plan plan, Shard shard, Optional<DockerEngine> engine, Optional<java.time.Instant> sourceDateEpoch) {
        ReleaseFile file = plan.file();
        List<Target> mine = shard.select(plan.targets());
        if (mine.isEmpty()) {
            progress.notice("shard " + shard + ": no image of the " + plan.targets().size() + " falls to this shard");
            return List.of();
        }
        Plan share = new Plan(file, mine);
        RegistryTrust trust = file.trust();
        RegistryAccess access = RegistryAccess.of(file.insecureRegistries());
        NodeBuild.Options options = new NodeBuild.Options(engine, Optional.empty(), ArchiveFormat.OCI, true, trust, sourceDateEpoch);
        RegistryPush push = new RegistryPush(new RegistryClients(access, trust, progress), store, progress);
        List<Staged> staged = new ArrayList<>();
        // Each image is staged as soon as it is built (in plan order): a shard stopped half-way keeps what it staged,
        // and one that fails stages the rest and names what failed.
        buildAll(share, bases(share, engine), RegistryMirrors.parse(file.mirrors()), access, options, (t, b) -> {
            Optional<String> mount = b.baseRepository().filter(r -> r.registry().equals(file.repository().registry())).map(ImageRef::repository);
            PushResult pushed = push.push(b.image(), file.staging(t.version(), t.arch()), mount);
            progress.notice("staged " + t.label() + " as " + pushed.pinned() + " (" + pushed.uploaded() + " blobs, "
                    + String.format(java.util.Locale.ROOT, "%.1f MB", pushed.bytesUploaded() / 1e6) + " uploaded)");
            staged.add(new Staged(t, pushed, b));
        }, "shard " + shard + " incomplete (%s builds failed; the others are staged)");
        return staged;
    }

    /**
     * `release FILE --finalize`: reads every staged image back from the registry, checks that it is the image this file
     * asks for (its inputs label: the architecture and the Kubernetes version), writes each version's index, pushes the
     * indexes by digest and then moves the tags. Refuses, naming each, while any image is missing or stale: no tag
     * moves then.
     */
    public List<Finalized> finalizeRelease(Plan plan) {
        return finalizeRelease(plan, java.time.Duration.ZERO);
    }

    /**
     * As {@link #finalizeRelease(Plan)}, waiting up to {@code wait} for images not staged yet (checked again every 10 s;
     * a stale image is refused at once): a finalize started beside the shards finishes right after the last of them.
     */
    public List<Finalized> finalizeRelease(Plan plan, java.time.Duration wait) {
        ReleaseFile file = plan.file();
        RegistryClients clients = new RegistryClients(RegistryAccess.of(file.insecureRegistries()), file.trust(), progress);
        RegistryPull pull = new RegistryPull(clients, RegistryMirrors.parse(List.of()), store, progress);
        Map<Target, dev.kindbuild.image.store.StoredImage> images = new LinkedHashMap<>();
        long deadline = System.nanoTime() + wait.toNanos();
        while (true) {
            List<String> missing = new ArrayList<>();
            List<String> stale = new ArrayList<>();
            for (Target t : plan.targets()) {
                if (!images.containsKey(t)) {
                    readStaged(pull, file, t, images, missing, stale);
                }
            }
            long left = deadline - System.nanoTime();
            if (!stale.isEmpty() || !missing.isEmpty() && left <= 0) {
                throw new UserError("release not finalized, no tag moved: " + (missing.isEmpty() ? "" : "not staged: " + String.join(", ", missing))
                        + (missing.isEmpty() || stale.isEmpty() ? "" : "; ") + (stale.isEmpty() ? "" : "stale: " + String.join(", ", stale))
                        + " — run the shards that build them (release FILE --shard I/N)");
            }
            if (missing.isEmpty()) {
                break;
            }
            progress.notice("waiting for the shards (" + java.time.Duration.ofNanos(left).toSeconds() + " s left): not staged yet: "
                    + String.join(", ", missing));
            try {
                Thread.sleep(Math.min(10_000, java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(left) + 1));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new UserError("interrupted", 130, e);
            }
        }
        List<Finalized> out = new ArrayList<>();
        // Only manifests and configs were read: the indexes go up over the images the repository holds.
        RegistryPush push = new RegistryPush(clients, store, progress);
        publish(plan, images, push::publishIndex).forEach((v, p) -> {
            Map<String, String> arches = new LinkedHashMap<>();
            plan.targets().stream().filter(t -> t.version().equals(v)).forEach(t -> arches.put(t.arch(), images.get(t).manifest().digest()));
            out.add(new Finalized(v, file.tag(v), p.index(), p.pushed(), arches));
        });
        return out;
    }

    /** The node image's inputs label ({@code dev.kind-build.inputs}), parsed; an empty object when it has none. */
    private static com.fasterxml.jackson.databind.JsonNode inputsOf(dev.kindbuild.image.store.StoredImage image) {
        String label = image.configJson().path("config").path("Labels").path("dev.kind-build.inputs").asText("");
        try {
            return label.isEmpty() ? JSON.createObjectNode() : JSON.readTree(label);
        } catch (java.io.IOException e) {
            return JSON.createObjectNode();
        }
    }

    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

    /**
     * Each image's base: the file's, else the bundled recipe's image in the engine for that architecture and that
     * Kubernetes (a kubelet below 1.23 needs the containerd 1.7 base), each built once, here, before the builds.
     */
    private Map<Target, String> bases(Plan plan, Optional<DockerEngine> engine) {
        Map<Target, String> bases = new LinkedHashMap<>();
        Map<String, String> bundled = new LinkedHashMap<>();
        for (Target t : plan.targets()) {
            if (plan.file().baseImage().isPresent()) {
                bases.put(t, plan.file().baseImage().get());
                continue;
            }
            DockerEngine e = engine.orElseThrow(() -> new UserError("no Docker engine to build the bundled base image in: "
                    + "set baseImage in the release file (a multi-arch base in a registry, or oci-archive:FILE)"));
            Optional<KubeVersion> version = KubeVersion.tryParse(t.version());
            String key = t.arch() + " " + EnsureBaseImage.bundledRequest(t.arch(), version).components();
            bases.put(t, bundled.computeIfAbsent(key, k -> EnsureBaseImage.run(e, Optional.empty(), t.arch(), version, progress)));
        }
        return bases;
    }

    /** Reads {@code t}'s staged image into {@code images}, or names it as missing or stale. */
    private static void readStaged(RegistryPull pull, ReleaseFile file, Target t, Map<Target, dev.kindbuild.image.store.StoredImage> images,
            List<String> missing, List<String> stale) {
        ImageRef staged = file.staging(t.version(), t.arch());
        try {
            // Manifest and config only: the layers are in the repository already, and finalize writes only indexes.
            dev.kindbuild.image.store.StoredImage image = pull.pullManifestAndConfig(staged, Platform.linux(t.arch())).image();
            com.fasterxml.jackson.databind.JsonNode inputs = inputsOf(image);
            if (!t.arch().equals(inputs.path("arch").asText()) || !t.version().equals(inputs.path("kubernetes").asText())) {
                stale.add(t.label() + " (" + staged + " holds " + inputs.path("kubernetes").asText("?") + " "
                        + inputs.path("arch").asText("?") + ")");
            } else {
                images.put(t, image);
            }
        } catch (dev.kindbuild.image.registry.RegistryException e) {
            if (!e.notFound()) {
                throw e; // an unreachable registry or refused credentials say so themselves
            }
            missing.add(t.label());
        }
    }

    /** One version's index as published. */
    private record VersionPush(Descriptor index, PushResult pushed) {}

    /** How an index goes to the registry: with its images (from the store), or over images the registry holds. */
    private interface IndexPush {
        PushResult push(Descriptor index, ImageRef target);
    }

    /**
     * Each version's index over its images, into the store and to the registry: every index by digest first, then the
     * tags, so a push that fails half-way leaves no release tag on a partial set.
     */
    private Map<String, VersionPush> publish(Plan plan, Map<Target, dev.kindbuild.image.store.StoredImage> images, IndexPush push) {
        ReleaseFile file = plan.file();
        Map<String, Descriptor> indexes = new LinkedHashMap<>();
        for (String v : file.versions()) {
            indexes.put(v, OciIndex.write(store, plan.targets().stream().filter(t -> t.version().equals(v)).map(images::get).toList()));
        }
        ImageRef repo = file.repository();
        for (Descriptor index : indexes.values()) {
            push.push(index, new ImageRef(repo.registry(), repo.repository(), null, index.digest()));
        }
        Map<String, VersionPush> pushed = new LinkedHashMap<>();
        indexes.forEach((v, index) -> pushed.put(v, new VersionPush(index, push.push(index, ImageRef.parse(file.tag(v))))));
        return pushed;
    }

    /** What is done with each image built, in plan order, while the later ones may still be building. */
    private interface EachBuilt {
        void accept(Target target, NodeBuild.Built built);
    }

    /**
     * Builds the plan's images, {@code file.jobs()} at a time, handing each to {@code each} in plan order as it is
     * ready; then fails, naming every build that failed after {@code failed} (its %s: how many failed).
     */
    private void buildAll(Plan plan, Map<Target, String> bases, RegistryMirrors mirrors,
            RegistryAccess access, NodeBuild.Options options, EachBuilt each, String failed) {
        ReleaseFile file = plan.file();
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(file.jobs(), plan.targets().size()), r -> {
            Thread t = new Thread(r, "release-build");
            t.setDaemon(true);
            return t;
        });
        Map<Target, Future<NodeBuild.Built>> running = new LinkedHashMap<>();
        try {
            for (Target t : plan.targets()) {
                KubernetesSource source = KubernetesSource.detect(t.version(), Optional.of("release"), file.releaseUrl());
                NodeImageRequest request = new NodeImageRequest(source, Optional.of(t.tag()), Optional.of(bases.get(t)), t.arch(),
                        mirrors, access, file.extraImages(), false, file.allowInsecureHttp(), Optional.empty());
                Progress own = progress.prefixed("[" + t.label() + "] ");
                running.put(t, pool.submit(() -> new NodeBuild(store, own).build(request, options, new StepTimes(own))));
            }
            List<String> failures = new ArrayList<>();
            for (Map.Entry<Target, Future<NodeBuild.Built>> e : running.entrySet()) {
                try {
                    each.accept(e.getKey(), e.getValue().get());
                } catch (ExecutionException ex) {
                    failures.add(e.getKey().label() + ": " + reason(ex.getCause()));
                }
            }
            if (!failures.isEmpty()) {
                throw new UserError(failed.formatted(failures.size() + " of " + plan.targets().size()) + ": " + String.join("; ", failures));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UserError("interrupted", 130, e);
        } finally {
            pool.shutdownNow();
        }
    }

    private static String reason(Throwable t) {
        for (Throwable cur = t; cur != null; cur = cur.getCause()) {
            if (cur instanceof UserError u) {
                return u.getMessage();
            }
        }
        return t.getClass().getSimpleName() + ": " + t.getMessage();
    }
}
