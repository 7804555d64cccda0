package dev.kindbuild.testing;

import dev.kindbuild.base.BaseImageBuild;
import dev.kindbuild.base.BaseImageRequest;
import dev.kindbuild.base.BaseImageResult;
import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.engine.ImageInfo;
import java.util.Optional;

/**
 * One base image for the whole test run, built (or reused by recipe hash) on first use under a test-only tag, which
 * is removed at JVM exit. A developer's own kindest/base images are never removed; at most they lose nothing.
 */
public final class TestBaseImage {
    public static final String TAG = "kind-build-test/base:" + ProcessHandle.current().pid();
    private static BaseImageResult built;

    private TestBaseImage() {}

    /**
     * The base image under {@link #TAG}: reused by recipe hash when the engine has one, else built; with
     * {@code force} a real rebuild. Made once per JVM.
     */
    public static synchronized BaseImageResult get(DockerEngine engine, boolean force, RecordingProgress progress) {
        if (built == null) {
            boolean bootstrapExisted = engine.inspectImage("kind-build/debian-bootstrap:" + dev.kindbuild.base.BaseImageRequest.DEFAULT_SUITE + "-" + engine.facts().architecture()).isPresent();
            BaseImageRequest request = new BaseImageRequest(Optional.of(TAG), BaseImageRequest.DEFAULT_FROM,
                    engine.facts().architecture(), BaseImageRequest.DEFAULT_MIRROR, force, false);
            built = new BaseImageBuild(engine, progress).run(request);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try (DockerEngine e = DockerEngine.connect()) {
                    e.removeImage(TAG);
                    if (!bootstrapExisted) {
                        e.removeImage("kind-build/debian-bootstrap:" + dev.kindbuild.base.BaseImageRequest.DEFAULT_SUITE + "-" + e.facts().architecture());
                    }
                } catch (RuntimeException ignored) {
                    // best effort at exit
                }
            }));
        }
        return built;
    }

    public static Optional<ImageInfo> inspect(DockerEngine engine) {
        return engine.inspectImage(TAG);
    }
}
