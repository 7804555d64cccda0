package dev.kindbuild.node;

import dev.kindbuild.UserError;
import dev.kindbuild.base.BaseImageBuild;
import dev.kindbuild.base.BaseImageRequest;
import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.progress.Progress;
import java.time.Duration;
import java.util.Optional;

/**
 * Step: the base image the node is built on — the one named by --base-image (present or pullable), or else the
 * bundled base recipe, reused when already built (so node-image works on a machine that has nothing yet).
 */
final class EnsureBaseImage {
    private EnsureBaseImage() {}

    static String run(DockerEngine engine, Optional<String> named, String arch, Progress progress) {
        if (named.isPresent()) {
            String ref = named.get();
            if (engine.inspectImage(ref).isPresent()) {
                return ref;
            }
            StringBuilder why = new StringBuilder();
            if (engine.tryPull(ref, "linux/" + arch, Duration.ofMinutes(10), why::append)) {
                return ref;
            }
            throw new UserError("base image " + ref + " is not in the engine and cannot be pulled (" + why
                    + "): build one with `kind-build base-image`, or omit --base-image to use the bundled recipe");
        }
        BaseImageRequest request = new BaseImageRequest(Optional.empty(), BaseImageRequest.DEFAULT_FROM, arch,
                BaseImageRequest.DEFAULT_MIRROR, false, false);
        return new BaseImageBuild(engine, progress).run(request).image();
    }
}
