package dev.kindbuild.image.delivery;

import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.engine.ImageInfo;
import dev.kindbuild.image.ImageRef;
import dev.kindbuild.image.archive.EngineImages;
import dev.kindbuild.image.archive.OciArchiveOutput;
import dev.kindbuild.image.registry.PushResult;
import dev.kindbuild.image.registry.RegistryClients;
import dev.kindbuild.image.registry.RegistryPush;
import dev.kindbuild.image.store.Descriptor;
import dev.kindbuild.image.store.ImageStore;
import dev.kindbuild.image.store.StoredImage;
import dev.kindbuild.progress.Progress;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Step: an image from the store to where it was asked for — a file (docker-archive or OCI archive) and/or a registry
 * with push, else the engine when there is one (skipped when the engine has that image already). A push goes from the
 * store straight to the registry: the engine is not a way station, so a failed push leaves no tag in it.
 */
public final class DeliverImage {
    private DeliverImage() {}

    /**
     * @param mountFrom a repository the image's lower layers came from: a push to the same registry mounts them
     * @param reuse     false (--no-cache): an output file is written again even when kind-build's mark says it holds
     *                  this image already
     * @return where it went
     */
    public static Delivery run(ImageStore store, StoredImage image, String tag, Optional<ImageRef> mountFrom,
            Targets options, boolean reuse, RegistryClients clients, Progress progress) {
        Delivery delivery = Delivery.toStore(store.root(), tag);
        if (options.output().isPresent()) {
            delivery = delivery.withFile(writeFile(store, image.manifest(), tag, options, reuse, progress,
                    file -> options.format().write(store, image, tag, file)));
        } else if (options.engine().isPresent() && !options.push()) {
            delivery = delivery.withEngine(load(store, image, tag, options.engine().get(), progress));
        }
        return push(store, image.manifest(), tag, mountFrom, options, clients, progress).map(delivery::withPush).orElse(delivery);
    }

    /**
     * The multi-arch flavour: the index (over {@code images}) to an OCI archive or a registry; an engine, which holds
     * one architecture per tag, gets the image of its own architecture.
     */
    public static Delivery runIndex(ImageStore store, Descriptor index, List<StoredImage> images, String tag,
            Optional<ImageRef> mountFrom, Targets options, boolean reuse, RegistryClients clients,
            Progress progress) {
        Delivery delivery = Delivery.toStore(store.root(), tag);
        if (options.output().isPresent()) {
            delivery = delivery.withFile(writeFile(store, index, tag, options, reuse, progress,
                    file -> OciArchiveOutput.writeIndex(store, index, images, tag, file)));
        } else if (options.engine().isPresent() && !options.push()) {
            DockerEngine engine = options.engine().get();
            String engineArch = engine.facts().architecture();
            Optional<StoredImage> own = images.stream().filter(i -> i.architecture().equals(engineArch)).findFirst();
            if (own.isPresent()) {
                delivery = delivery.withEngine(load(store, own.get(), tag, engine, progress));
                progress.notice("the engine holds one architecture per tag: it got " + engineArch + "; the index is in the store (--push or --output-format oci delivers it)");
            } else {
                progress.notice("no image for the engine's " + engineArch + ": nothing loaded (--push or --output-format oci delivers the index)");
            }
        }
        return push(store, index, tag, mountFrom, options, clients, progress).map(delivery::withPush).orElse(delivery);
    }

    private interface FileWriter {
        void write(Path file) throws Exception;
    }

    /** Writes the archive (unless kind-build's mark says the file holds it already); returns it, described. */
    private static String writeFile(ImageStore store, Descriptor top, String tag, Targets options, boolean reuse,
            Progress progress, FileWriter writer) {
        Path file = options.output().get();
        String written = top.digest() + " " + tag + " " + options.format();
        String what = options.format().describe(file);
        if (reuse && writtenMark(store, file).filter(written::equals).isPresent()) {
            progress.notice(file + " holds this image already (unchanged since kind-build wrote it)");
        } else {
            progress.run("Writing " + what, () -> writer.write(file));
        }
        remember(store, file, written);
        return what;
    }

    /** Loads the image into the engine under {@code tag} (unless it has it); returns the tag. */
    private static String load(ImageStore store, StoredImage image, String tag, DockerEngine engine, Progress progress) {
        boolean present = engine.inspectImage(tag).map(ImageInfo::id).filter(image.config().digest()::equals).isPresent();
        if (present) {
            progress.notice("the engine has " + tag + " at this image already");
        } else {
            progress.run("Loading " + tag + " into the engine", () -> EngineImages.load(engine, store, image, List.of(tag)));
        }
        return tag;
    }

    private static Optional<PushResult> push(ImageStore store, Descriptor top, String tag, Optional<ImageRef> mountFrom,
            Targets options, RegistryClients clients, Progress progress) {
        if (!options.push()) {
            return Optional.empty();
        }
        if (options.output().isEmpty() && options.engine().isPresent()) {
            progress.notice("--push sends " + tag + " from kind-build's store to its registry; the engine is not given a copy (`docker pull` it)");
        }
        ImageRef target = ImageRef.parse(tag);
        Optional<String> mount = mountFrom.filter(r -> r.registry().equals(target.registry())).map(ImageRef::repository);
        return Optional.of(new RegistryPush(clients, store, progress).push(top, target, mount));
    }

    /*
     * An archive file kind-build wrote is marked in the store with what it holds (the image or index digest, tag and
     * format) plus the file's size and mtime when it was written. A rebuild whose file still matches is not written
     * again (an archive of the same image, tag and format is the same bytes); a file changed since, by size or mtime, is.
     */
    private static String markName(Path file) {
        return "kind-build.output/" + dev.kindbuild.support.Sha256.of(file.toAbsolutePath().normalize().toString()
                .getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    private static String fileState(Path file) throws java.io.IOException {
        return java.nio.file.Files.size(file) + " " + java.nio.file.Files.getLastModifiedTime(file).toMillis();
    }

    /** The mark recorded for {@code file}, if the file is still as it was written. */
    private static Optional<String> writtenMark(ImageStore store, Path file) {
        try {
            if (!java.nio.file.Files.isRegularFile(file)) {
                return Optional.empty();
            }
            Optional<dev.kindbuild.image.store.Descriptor> d = store.resolve(markName(file)).filter(x -> store.has(x.digest()));
            if (d.isEmpty()) {
                return Optional.empty();
            }
            String[] mark = new String(store.readSmall(d.get().digest()), java.nio.charset.StandardCharsets.UTF_8).split("\n", 2);
            return mark.length == 2 && mark[0].equals(fileState(file)) ? Optional.of(mark[1]) : Optional.empty();
        } catch (java.io.IOException e) {
            return Optional.empty();
        }
    }

    private static void remember(ImageStore store, Path file, String written) {
        try {
            byte[] mark = (fileState(file) + "\n" + written).getBytes(java.nio.charset.StandardCharsets.UTF_8);
            store.tag(markName(file), store.put(mark, "application/vnd.kind-build.output-mark"));
        } catch (java.io.IOException e) {
            // no mark: the next build writes the file again
        }
    }
}
