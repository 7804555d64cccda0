package dev.kindbuild.node.pipeline;

import dev.kindbuild.node.BaseImageSource;
import dev.kindbuild.UserError;
import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.engine.ImageInfo;
import dev.kindbuild.image.archive.ArchiveImport;
import dev.kindbuild.image.archive.EngineImages;
import dev.kindbuild.image.registry.Platform;
import dev.kindbuild.image.registry.PullResult;
import dev.kindbuild.image.registry.RegistryPull;
import dev.kindbuild.image.store.Descriptor;
import dev.kindbuild.image.store.MediaTypes;
import dev.kindbuild.image.store.ImageStore;
import dev.kindbuild.image.store.StoredImage;
import dev.kindbuild.support.Sha256;
import dev.kindbuild.node.EnsureBaseImage;
import dev.kindbuild.progress.Progress;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Supplier;
import com.google.common.base.Suppliers;
import java.util.ArrayList;
import java.util.List;
import dev.kindbuild.image.layer.ImageContents;
import dev.kindbuild.node.ArchGuard;

/**
 * Step: the base image in the store. An archive or an engine image is read into the store once: a later build finds
 * it by the archive's path, size and mtime, or by the engine's image ID, without reading it again. A registry image
 * is pulled byte for byte, so its layers are pushed back unchanged. The image must be linux/{@code arch} and must
 * not be a node image.
 */
final class ObtainBaseImage {
    private ObtainBaseImage() {}

    /**
     * The base in the store.
     *
     * @param image     the image
     * @param name      what the node image's base label says: the reference, or the manifest digest for an archive
     * @param repository the repository it was pulled from (a push to the same registry mounts its layers), if pulled
     */
    record Base(StoredImage image, String name, Optional<dev.kindbuild.image.ImageRef> repository, Supplier<ImageContents> contents) {
        /** {@code contents}: its files, indexed on first use and then kept (one pass over its layers per build). */
        static Base of(ImageStore store, StoredImage image, String name, Optional<dev.kindbuild.image.ImageRef> repository) {
            return new Base(image, name, repository, Suppliers.memoize(() -> ImageContents.of(store, image)));
        }
    }

    /**
     * The base, checked; {@code reuse} false (--no-cache) takes nothing the store holds from earlier runs: an archive
     * or engine image is read again, a registry image pulled again (give {@code pull} that does not reuse the store).
     */
    static Base run(BaseImageSource source, ImageStore store, Optional<DockerEngine> engine, RegistryPull pull, String arch,
            Optional<dev.kindbuild.kube.KubeVersion> version, boolean reuse, Progress progress) {
        Base base = obtain(source, store, engine, pull, arch, version, reuse, progress);
        check(base, arch);
        checkContents(base, store, arch);
        return base;
    }

    /**
     * Refused before any pull: a base that lacks what every kind base image has, or whose programs are for another
     * architecture than its config says. One pass over its layers, once per base: the store remembers a base that
     * passed.
     */
    private static void checkContents(Base base, ImageStore store, String arch) {
        String passed = "kind-build.base-checked/" + base.image().manifest().hex() + "/" + arch;
        if (store.resolve(passed).filter(d -> d.digest().equals(base.image().manifest().digest())).isPresent()) {
            return;
        }
        ImageContents contents = base.contents().get();
        List<String> missing = new ArrayList<>();
        for (String path : EnsureBaseImage.REQUIRED_FILES) {
            if (EnsureBaseImage.alternatives(path).stream().noneMatch(contents::exists)) {
                missing.add(path);
            }
        }
        if (!missing.isEmpty()) {
            throw EnsureBaseImage.notABaseImage(base.name(), missing);
        }
        for (String probe : ArchGuard.USERLAND_PROBES) {
            if (contents.resolve(probe).filter(e -> e.isFile()).isPresent()) {
                try {
                    ArchGuard.elfArch(contents.open(probe)).ifPresent(found -> ArchGuard.check("the userland of base image " + base.name()
                            + " (" + probe + ")", found, arch));
                } catch (IOException e) {
                    throw new UserError("cannot read " + probe + " of base image " + base.name() + ": " + e.getMessage(), e);
                }
                break;
            }
        }
        store.tag(passed, base.image().manifest());
    }

    static Base obtain(BaseImageSource source, ImageStore store, Optional<DockerEngine> engine, RegistryPull pull,
            String arch, Progress progress) {
        return obtain(source, store, engine, pull, arch, true, progress);
    }

    static Base obtain(BaseImageSource source, ImageStore store, Optional<DockerEngine> engine, RegistryPull pull,
            String arch, boolean reuse, Progress progress) {
        return obtain(source, store, engine, pull, arch, Optional.empty(), reuse, progress);
    }

    /** {@code version}: the Kubernetes the bundled base must serve, when known (see EnsureBaseImage). */
    static Base obtain(BaseImageSource source, ImageStore store, Optional<DockerEngine> engine, RegistryPull pull,
            String arch, Optional<dev.kindbuild.kube.KubeVersion> version, boolean reuse, Progress progress) {
        if (source instanceof BaseImageSource.DockerArchiveFile d) {
            StoredImage image = fromFile(store, d.file(), arch, reuse, () -> ArchiveImport.dockerArchive(store, d.file()));
            return Base.of(store, image, image.manifest().digest(), Optional.empty());
        }
        if (source instanceof BaseImageSource.OciArchiveFile o) {
            StoredImage image = fromFile(store, o.file(), arch, reuse, () -> ArchiveImport.ociArchive(store, o.file(), null, arch, reuse));
            return Base.of(store, image, image.manifest().digest(), Optional.empty());
        }
        if (source instanceof BaseImageSource.Named n) {
            // A multi-arch base is one name for several images: only this architecture's copy will do.
            Optional<StoredImage> stored = !reuse ? Optional.empty()
                    : cached(store, n.given(), arch).or(() -> cached(store, n.ref().toString(), arch))
                    .filter(i -> i.architecture().equals(arch));
            Optional<String> engineId = engine.flatMap(e -> e.inspectImage(n.ref().toString()))
                    .filter(i -> DockerEngine.normalizeArch(i.architecture()).equals(arch)).map(ImageInfo::id);
            // An image kind-build made or pulled is in the store byte for byte; the engine's copy (docker save) is
            // not, so the store's is taken whenever the engine holds that same image (or no engine does).
            // Named as the user gave it (labels, messages): what they typed is what they will look for.
            if (stored.isPresent() && engineId.map(stored.get().config().digest()::equals).orElse(true)) {
                return Base.of(store, stored.get(), n.given(), Optional.empty());
            }
            if (engineId.isPresent()) {
                return Base.of(store, fromEngine(store, engine.get(), n.ref().toString(), reuse), n.given(), Optional.empty());
            }
            PullResult pulled = pull.pull(n.ref(), Platform.linux(arch));
            return Base.of(store, pulled.image(), n.given(), Optional.of(n.ref()));
        }
        DockerEngine e = engine.orElseThrow(() -> new UserError("no Docker engine to build the bundled base image in: give "
                + "--base-image REF, docker-archive:PATH or oci-archive:PATH (e.g. `docker save` of a kindest/base image)"));
        String ref = EnsureBaseImage.run(e, Optional.empty(), arch, version, progress);
        return Base.of(store, fromEngine(store, e, ref, reuse), ref, Optional.empty());
    }

    private static StoredImage fromFile(ImageStore store, Path file, String arch, boolean reuse,
            java.util.function.Supplier<StoredImage> read) {
        String key;
        try {
            // The arch is part of the key: an OCI archive may hold an index, one image per architecture.
            key = "kind-build.archive/" + Sha256.of((file + "\n" + arch + "\n" + Files.size(file) + "\n" + Files.getLastModifiedTime(file).toMillis())
                    .getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UserError("cannot read " + file + ": " + e.getMessage(), e);
        }
        return (reuse ? cached(store, key) : Optional.<StoredImage>empty()).orElseGet(() -> {
            StoredImage image = read.get();
            store.tag(key, image.manifest());
            return image;
        });
    }

    private static StoredImage fromEngine(ImageStore store, DockerEngine engine, String ref, boolean reuse) {
        String id = engine.inspectImage(ref).map(ImageInfo::id).orElseThrow(() -> new UserError("base image " + ref + " vanished from the engine"));
        String key = "kind-build.engine-image/" + id.replace(':', '-');
        return (reuse ? cached(store, key) : Optional.<StoredImage>empty()).orElseGet(() -> {
            StoredImage image = EngineImages.save(engine, ref, store);
            store.tag(key, image.manifest());
            return image;
        });
    }

    /** A named image whose blobs are all still in the store (a pruned store reads it again). */
    private static Optional<StoredImage> cached(ImageStore store, String key) {
        return cached(store, key, null);
    }

    /**
     * As {@link #cached(ImageStore, String)}; a name that holds an index (a multi-arch base kind-build pushed) gives
     * its {@code arch} image, when there is one.
     */
    private static Optional<StoredImage> cached(ImageStore store, String key, String arch) {
        Optional<Descriptor> named = store.resolve(key).filter(d -> store.has(d.digest()));
        if (named.isPresent() && MediaTypes.INDEXES.contains(named.get().mediaType())) {
            named = arch == null ? Optional.empty() : child(store, named.get(), Platform.linux(arch));
        }
        return named.flatMap(store::whole);
    }

    private static Optional<Descriptor> child(ImageStore store, Descriptor index, Platform platform) {
        for (com.fasterxml.jackson.databind.JsonNode m : store.readJson(index.digest()).path("manifests")) {
            if (platform.matches(Platform.of(m.path("platform")))) {
                return Optional.of(new Descriptor(m.path("mediaType").asText(), m.path("digest").asText(), m.path("size").asLong()));
            }
        }
        return Optional.empty();
    }

    /**
     * The base's containerd: its label, else the Debian package database in its layers (one pass over them; nothing
     * runs). Empty when neither says.
     */
    static Optional<dev.kindbuild.node.BaseContainerd> containerd(Base base, ImageStore store) {
        return dev.kindbuild.node.BaseContainerd.fromLabels(labels(base.image())).or(() -> {
            ImageContents contents = base.contents().get();
            return contents.exists(DPKG_STATUS) ? dev.kindbuild.node.BaseContainerd.fromDpkgStatus(contents.readText(DPKG_STATUS))
                    : Optional.empty();
        });
    }

    private static final String DPKG_STATUS = "/var/lib/dpkg/status";

    /** The same refusals the docker builder makes: another architecture, or a node image given as a base. */
    private static void check(Base base, String arch) {
        EnsureBaseImage.refuseUnfit(base.name(), base.image().architecture(), labels(base.image()), arch);
    }

    /** The image config's labels. */
    static java.util.Map<String, String> labels(StoredImage image) {
        java.util.Map<String, String> labels = new java.util.LinkedHashMap<>();
        image.configJson().path("config").path("Labels").properties().forEach(e -> labels.put(e.getKey(), e.getValue().asText()));
        return labels;
    }
}
