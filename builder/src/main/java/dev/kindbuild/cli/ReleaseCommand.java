package dev.kindbuild.cli;

import dev.kindbuild.UserError;
import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.image.store.ImageStore;
import dev.kindbuild.node.BaseImageSource;
import dev.kindbuild.progress.Progress;
import dev.kindbuild.image.ImageRef;
import dev.kindbuild.release.ClusterPlan;
import dev.kindbuild.release.ReleaseBuild;
import dev.kindbuild.release.WorkflowPlan;
import dev.kindbuild.release.Shard;
import dev.kindbuild.release.ReleaseFile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** `kind-build release FILE`: several Kubernetes versions × architectures built, then published together. */
@Command(name = "release", mixinStandardHelpOptions = true,
        description = {"Build and publish the node images a release file lists (versions × arches), with the daemonless builder.",
                "Pushes only after every build succeeded; ends with a summary and the pinned REPO:TAG@sha256 references."})
final class ReleaseCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "FILE", description = "The release file (YAML: repository, versions, arches, baseImage, …).")
    Path file;

    @Option(names = "--dry-run", description = "Print the plan and stop: nothing is built or pushed.")
    boolean dryRun;

    @Option(names = "--shard", paramLabel = "I/N", description = {"Build only share I of N of the images (a stable split: any shard can be re-run) "
            + "and push each by digest under its staging reference; no tag moves. Then run --finalize once."})
    String shard;

    @Option(names = "--finalize", description = "Read every shard's staged image back, check it is this file's, push each version's index "
            + "and move the tags; refuses, naming them, while any image is missing or stale.")
    boolean finalizeRelease;

    @Option(names = "--wait", paramLabel = "DURATION", description = "With --finalize: wait up to this long (e.g. 30m, 90s) for images"
            + " not staged yet, checking every 10 s (default: no wait).")
    String waitFor;

    @Option(names = "--plan", paramLabel = "kubernetes|github-actions", description = "Print how to run this release sharded and stop:"
            + " kubernetes (a ConfigMap, a Job per shard, then a finalize Job) or github-actions (a matrix workflow).")
    String planFor;

    @Option(names = "--shards", paramLabel = "N", defaultValue = "2", description = "With --plan: how many shards (default: 2).")
    int shards;

    @Option(names = "--kind-build-image", paramLabel = "IMAGE", description = "With --plan: kind-build's own image the Jobs run.")
    String kindBuildImage;

    @Option(names = "--registry-secret", paramLabel = "NAME", description = "With --plan: a dockerconfigjson Secret with push access.")
    String registrySecret;

    @Option(names = "--record", paramLabel = "FILE", description = "Also write the result as JSON to FILE (the build record).")
    Path recordFile;

    @Mixin
    OutputOptions output;

    @Override
    public Integer call() {
        ReleaseFile release = ReleaseFile.read(file);
        new CommandFiles()
                .reads("release file", file)
                .reads("caCert of the release file", release.caCert().orElse(null))
                .reads("baseImage archive of the release file", release.baseImage().filter(BaseImageSource::isArchive)
                        .flatMap(b -> BaseImageSource.parse(Optional.of(b)).archive()).orElse(null))
                .writes("--record", recordFile)
                .refuseOverwrites();
        ReleaseBuild.Plan plan = ReleaseBuild.Plan.of(release);
        Progress progress = output.progress();
        if (dryRun) {
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("dryRun", true);
            json.put("targets", plan.targets().stream().map(t -> Map.of("version", t.version(), "arch", t.arch(), "tag", t.tag())).toList());
            output.print(json, String.join("\n", plan.lines()));
            return 0;
        }
        if (planFor != null) {
            if (kindBuildImage == null) {
                throw new UserError("--plan " + planFor + " needs --kind-build-image IMAGE: the image of kind-build the jobs run");
            }
            ImageRef.check(kindBuildImage, "--kind-build-image");
            int count = Shard.count(shards);
            String document = switch (planFor) {
                case "kubernetes" -> ClusterPlan.of(release, file, count, kindBuildImage, Optional.ofNullable(registrySecret)).yaml();
                case "github-actions" -> {
                    if (registrySecret != null) {
                        throw new UserError("--registry-secret is for --plan kubernetes; the workflow logs in with the secrets REGISTRY_USER and REGISTRY_PASSWORD");
                    }
                    yield WorkflowPlan.of(release, file, count, kindBuildImage).yaml();
                }
                default -> throw new UserError("--plan " + planFor + ": choose kubernetes (Jobs for a cluster) or github-actions (a matrix workflow)");
            };
            output.printText(document);
            return 0;
        }
        if (waitFor != null && !finalizeRelease) {
            throw new UserError("--wait is for --finalize: how long it waits for the shards' images");
        }
        if (shard != null && finalizeRelease) {
            throw new UserError("--shard builds a share and --finalize publishes what the shards built: run them as separate steps");
        }
        if (shard != null) {
            return stage(release, plan, Shard.parse(shard), progress);
        }
        if (finalizeRelease) {
            return finalizeRelease(release, plan, progress);
        }
        plan.lines().forEach(progress::notice);
        long start = System.nanoTime();
        Optional<DockerEngine> engine = DockerEngine.tryConnect();
        try {
            List<ReleaseBuild.Published> published = new ReleaseBuild(ImageStore.defaultLocation(), progress)
                    .run(plan, engine, ArchiveOutputOptions.sourceDateEpoch());
            List<Map<String, Object>> versions = new ArrayList<>();
            List<String> pinned = new ArrayList<>();
            StringBuilder table = new StringBuilder(String.format("%-12s %-6s %-21s %8s %7s  %s%n", "VERSION", "ARCH", "MANIFEST", "MB", "SECONDS", "BUILT"));
            for (ReleaseBuild.Published p : published) {
                Map<String, Object> v = new LinkedHashMap<>();
                v.put("version", p.version());
                v.put("tag", p.tag());
                v.put("pinned", p.pushed().pinned().toString());
                pinned.add(p.pushed().pinned().toString());
                List<Map<String, Object>> arches = new ArrayList<>();
                for (var b : p.images()) {
                    Map<String, Object> a = new LinkedHashMap<>();
                    String ref = p.pushed().reference().withDigest(b.image().manifest().digest()).toString();
                    long bytes = b.image().layers().stream().mapToLong(dev.kindbuild.image.store.Descriptor::size).sum();
                    a.put("arch", b.arch());
                    a.put("pinned", ref);
                    a.put("manifestDigest", b.image().manifest().digest());
                    a.put("imageId", b.image().config().digest());
                    a.put("bytes", bytes);
                    a.put("reused", b.reused());
                    a.put("images", NodeImageCommand.imagesJson(b.node().images()));
                    a.put("stepSeconds", b.node().stepSeconds());
                    arches.add(a);
                    pinned.add(ref + " (linux/" + b.arch() + ")");
                    double seconds = b.node().stepSeconds().values().stream().mapToDouble(Double::doubleValue).sum();
                    table.append(String.format("%-12s %-6s %-21s %8.1f %7.1f  %s%n", p.version(), b.arch(),
                            b.image().manifest().digest().substring(0, 19), bytes / 1e6, seconds, b.reused() ? "reused" : "built"));
                }
                v.put("arches", arches);
                versions.add(v);
            }
            return printPublished(release, versions, start, table + "Pinned references:\n" + String.join("\n", pinned));
        } finally {
            engine.ifPresent(DockerEngine::close);
        }
    }

    private Integer stage(ReleaseFile release, ReleaseBuild.Plan plan, Shard share, Progress progress) {
        long start = System.nanoTime();
        Optional<DockerEngine> engine = DockerEngine.tryConnect();
        try {
            List<ReleaseBuild.Staged> staged = new ReleaseBuild(ImageStore.defaultLocation(), progress)
                    .stage(plan, share, engine, ArchiveOutputOptions.sourceDateEpoch());
            List<Map<String, Object>> images = new ArrayList<>();
            List<String> lines = new ArrayList<>();
            for (ReleaseBuild.Staged s : staged) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("version", s.target().version());
                m.put("arch", s.target().arch());
                m.put("staged", s.pushed().pinned().toString());
                m.put("uploaded", s.pushed().uploaded());
                m.put("uploadedBytes", s.pushed().bytesUploaded());
                m.put("reused", s.built().reused());
                images.add(m);
                lines.add(s.pushed().pinned() + " (" + s.target().label() + ", " + s.pushed().uploaded() + " blobs uploaded)");
            }
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("shard", share.toString());
            json.put("staged", images);
            json.put("seconds", (System.nanoTime() - start) / 1e9);
            if (recordFile != null) {
                OutputOptions.writeJson(recordFile, json);
            }
            output.print(json, "Shard " + share + ": " + staged.size() + " of " + plan.targets().size() + " images staged"
                    + (lines.isEmpty() ? "" : ":\n" + String.join("\n", lines)));
            return 0;
        } finally {
            engine.ifPresent(DockerEngine::close);
        }
    }

    private Integer finalizeRelease(ReleaseFile release, ReleaseBuild.Plan plan, Progress progress) {
        long start = System.nanoTime();
        List<ReleaseBuild.Finalized> done = new ReleaseBuild(ImageStore.defaultLocation(), progress).finalizeRelease(plan, waitDuration());
        List<Map<String, Object>> versions = new ArrayList<>();
        List<String> pinned = new ArrayList<>();
        for (ReleaseBuild.Finalized f : done) {
            Map<String, Object> v = new LinkedHashMap<>();
            v.put("version", f.version());
            v.put("tag", f.tag());
            v.put("pinned", f.pushed().pinned().toString());
            pinned.add(f.pushed().pinned().toString());
            List<Map<String, Object>> arches = new ArrayList<>();
            f.arches().forEach((arch, digest) -> {
                String ref = f.pushed().reference().withDigest(digest).toString();
                arches.add(Map.of("arch", arch, "pinned", ref, "manifestDigest", digest));
                pinned.add(ref + " (linux/" + arch + ")");
            });
            v.put("arches", arches);
            versions.add(v);
        }
        return printPublished(release, versions, start, "Pinned references:\n" + String.join("\n", pinned));
    }

    /** A published release, from one machine or finalized from shards: the record, then JSON or the human lines. */
    private int printPublished(ReleaseFile release, List<Map<String, Object>> versions, long start, String details) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("repository", release.repository().registry() + "/" + release.repository().repository());
        json.put("versions", versions);
        json.put("seconds", (System.nanoTime() - start) / 1e9);
        if (recordFile != null) {
            OutputOptions.writeJson(recordFile, json);
        }
        output.print(json, "Release published: " + versions.size() + " versions × " + release.arches().size() + " arches\n" + details);
        return 0;
    }

    /** --wait as a duration: a number with s, m or h. */
    private java.time.Duration waitDuration() {
        if (waitFor == null) {
            return java.time.Duration.ZERO;
        }
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d{1,6})([smh])").matcher(waitFor.strip());
        if (!m.matches()) {
            throw new UserError("--wait " + waitFor + ": give a duration such as 90s, 30m or 2h");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "s" -> java.time.Duration.ofSeconds(n);
            case "m" -> java.time.Duration.ofMinutes(n);
            default -> java.time.Duration.ofHours(n);
        };
    }
}
