package dev.kindbuild.cli;

import dev.kindbuild.UserError;
import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.progress.Progress;
import java.util.List;

/** Placeholder until the registry package lands: pushing is wired through dev.kindbuild.registry. */
final class ImagePush {
    private ImagePush() {}

    static String push(DockerEngine engine, String image, List<String> insecureRegistries, Progress progress) {
        throw new UserError("--push is not available in this build");
    }
}
