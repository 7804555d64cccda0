package dev.kindbuild.engine;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kindbuild.UserError;
import dev.kindbuild.testing.Leaks;
import dev.kindbuild.testing.RecordingProgress;
import dev.kindbuild.testing.TestBaseImage;
import dev.kindbuild.testing.TestEngine;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;

/**
 * An image build that fails inside the engine (a RUN step failing, as when the engine's own network is down during
 * apt-get) is a user-facing error naming the step's output, not "a kind-build bug".
 */
class EngineBuildIT {

    @Test
    void aFailingRunStepIsOneUserError() throws IOException {
        String tag = "kind-build-test/engine-build-fails:" + Leaks.PID;
        try (DockerEngine engine = TestEngine.connect()) {
            String base = TestBaseImage.get(engine, false, new RecordingProgress()).image();
            String dockerfile = "FROM " + base + "\nRUN echo 'Could not resolve host: mirror.example' >&2; exit 100\n";
            UserError e = assertThrows(UserError.class, () -> engine.build(context(dockerfile), Map.of(), Map.of(), tag, false, line -> {}));
            assertTrue(e.getMessage().startsWith("image build failed: "), e.getMessage());
            assertTrue(e.getMessage().contains("Could not resolve host: mirror.example"), e.getMessage());
            assertTrue(engine.inspectImage(tag).isEmpty());
        }
    }

    private static ByteArrayInputStream context(String dockerfile) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            byte[] data = dockerfile.getBytes(StandardCharsets.UTF_8);
            TarArchiveEntry entry = new TarArchiveEntry("Dockerfile");
            entry.setSize(data.length);
            tar.putArchiveEntry(entry);
            tar.write(data);
            tar.closeArchiveEntry();
        }
        return new ByteArrayInputStream(bytes.toByteArray());
    }
}
