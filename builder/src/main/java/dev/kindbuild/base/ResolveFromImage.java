package dev.kindbuild.base;

import dev.kindbuild.UserError;
import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.progress.Progress;
import java.time.Duration;
import java.util.Optional;

/** Step: make sure the engine has the image the recipe starts FROM — present, pulled, or bootstrapped from Debian. */
final class ResolveFromImage {
    private ResolveFromImage() {}

    static FromImage run(DockerEngine engine, BaseImageRequest request, Progress progress) {
        String from = request.fromImage();
        if (engine.inspectImage(from).isPresent()) {
            return new FromImage(from, "present", "");
        }
        StringBuilder why = new StringBuilder();
        if (engine.tryPull(from, "linux/" + request.arch(), Duration.ofMinutes(10), why::append)) {
            return new FromImage(from, "pulled", "");
        }
        progress.detail("pull of " + from + " failed: " + why);
        Optional<String> suite = DebianBootstrap.suiteOf(from);
        if (suite.isEmpty()) {
            throw new UserError("cannot pull --from image " + from + " (" + why
                    + "); only debian:<suite>[-slim] images can be bootstrapped offline: load the image into the engine or use a Debian one");
        }
        String local = DebianBootstrap.localName(suite.get(), request.arch());
        String reason = "cannot pull " + from;
        if (engine.inspectImage(local).isPresent()) {
            return new FromImage(local, "bootstrapped", reason + " (reusing the earlier bootstrap)");
        }
        String ref = DebianBootstrap.bootstrap(engine, suite.get(), request.arch(), request.debianMirror(), progress);
        return new FromImage(ref, "bootstrapped", reason);
    }
}
