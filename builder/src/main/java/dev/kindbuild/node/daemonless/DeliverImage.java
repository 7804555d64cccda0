package dev.kindbuild.node.daemonless;

import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.engine.ImageInfo;
import dev.kindbuild.image.ImageRef;
import dev.kindbuild.image.archive.DockerArchiveOutput;
import dev.kindbuild.image.archive.EngineImages;
import dev.kindbuild.image.archive.OciArchiveOutput;
import dev.kindbuild.image.registry.PushResult;
import dev.kindbuild.image.registry.RegistryClients;
import dev.kindbuild.image.registry.RegistryPush;
import dev.kindbuild.image.store.ImageStore;
import dev.kindbuild.image.store.StoredImage;
import dev.kindbuild.progress.Progress;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Step: an image from the store to where it was asked for — a file (docker-archive or OCI archive), else the engine
 * when there is one (skipped when the engine has that image already), and a registry with push.
 */
final class DeliverImage {
    private DeliverImage() {}

    /**
     * @param mountFrom a repository the image's lower layers came from: a push to the same registry mounts them
     * @param outputs   receives one line per place the image went
     */
    static Optional<PushResult> run(ImageStore store, StoredImage image, String tag, Optional<ImageRef> mountFrom,
            DaemonlessNodeBuild.Options options, RegistryClients clients, List<String> outputs, Progress progress) {
        if (options.output().isPresent()) {
            Path file = options.output().get();
            if (options.format() == DaemonlessNodeBuild.ArchiveFormat.OCI) {
                progress.run("Writing OCI archive " + file, () -> OciArchiveOutput.write(store, image, tag, file));
                outputs.add("OCI archive " + file);
            } else {
                progress.run("Writing docker-archive " + file, () -> DockerArchiveOutput.write(store, image, List.of(tag), file));
                outputs.add("docker-archive " + file);
            }
        } else if (options.engine().isPresent()) {
            DockerEngine engine = options.engine().get();
            boolean present = engine.inspectImage(tag).map(ImageInfo::id).filter(image.config().digest()::equals).isPresent();
            if (present) {
                progress.notice("the engine has " + tag + " at this image already");
            } else {
                progress.run("Loading " + tag + " into the engine", () -> EngineImages.load(engine, store, image, List.of(tag)));
            }
            outputs.add("the Docker engine as " + tag);
        }
        if (!options.push()) {
            return Optional.empty();
        }
        ImageRef target = ImageRef.parse(tag);
        Optional<String> mount = mountFrom.filter(r -> r.registry().equals(target.registry())).map(ImageRef::repository);
        PushResult pushed = new RegistryPush(clients, store, progress).push(image, target, mount);
        outputs.add("registry " + pushed.pinned());
        return Optional.of(pushed);
    }
}
