package dev.kindbuild.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kindbuild.UserError;
import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.testing.Leaks;
import dev.kindbuild.testing.RecordingProgress;
import dev.kindbuild.testing.TestBaseImage;
import dev.kindbuild.testing.TestEngine;
import java.util.List;
import org.junit.jupiter.api.Test;

/** `verify` of something that is no node image says so at once, in one line, and boots nothing. */
class VerifyWrongImageIT {

    @Test
    void aBaseImageIsRefusedBeforeAnythingBoots() {
        try (DockerEngine engine = TestEngine.connect()) {
            String base = TestBaseImage.get(engine, false, new RecordingProgress()).image();
            RecordingProgress progress = new RecordingProgress();
            long start = System.nanoTime();
            UserError e = assertThrows(UserError.class, () -> new NodeVerifier(engine, progress).run(base, true));
            assertTrue((System.nanoTime() - start) / 1e9 < 10, "took too long");
            assertEquals(base + " is a base image, not a node image: build a node image from it with "
                    + "`kind-build node-image --base-image " + base + "` and verify that", e.getMessage());
            assertEquals(List.of(), progress.events(), "nothing may boot");
            Leaks.assertNoContainers(engine);
        }
    }

    @Test
    void aPlainDebianImageIsRefusedBeforeAnythingBoots() {
        try (DockerEngine engine = TestEngine.connect()) {
            String arch = engine.facts().architecture();
            TestBaseImage.get(engine, false, new RecordingProgress());
            String plain = List.of("kind-build/debian-bootstrap:" + dev.kindbuild.base.BaseImageRequest.DEFAULT_SUITE + "-" + arch, dev.kindbuild.base.BaseImageRequest.DEFAULT_FROM).stream()
                    .filter(ref -> engine.inspectImage(ref).isPresent()).findFirst()
                    .orElseThrow(() -> new AssertionError("the test base image was built from neither Debian image"));
            long start = System.nanoTime();
            UserError e = assertThrows(UserError.class, () -> new NodeVerifier(engine, new RecordingProgress()).run(plain, true));
            assertTrue((System.nanoTime() - start) / 1e9 < 10, "took too long");
            assertEquals(plain + " is not a node image (it has no /kind/version): build one with `kind-build node-image`",
                    e.getMessage());
            Leaks.assertNoContainers(engine);
        }
    }
}
