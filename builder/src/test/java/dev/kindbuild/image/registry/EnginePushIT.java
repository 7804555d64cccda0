package dev.kindbuild.image.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kindbuild.UserError;
import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.testing.LocalRegistry;
import dev.kindbuild.testing.RecordingProgress;
import dev.kindbuild.testing.TestBaseImage;
import dev.kindbuild.testing.TestEngine;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** --push goes through the engine, keeps the image exactly (stop signal included) and follows the TLS rule. */
class EnginePushIT {
    @RegisterExtension
    static final LocalRegistry REGISTRY = new LocalRegistry();

    @Test
    void pushesTheBaseImageWithItsStopSignalToALoopbackRegistry() throws Exception {
        try (DockerEngine engine = TestEngine.connect()) {
            RecordingProgress progress = new RecordingProgress();
            String id = TestBaseImage.get(engine, false, progress).imageId();
            String target = REGISTRY.host() + "/kind-build-test/base:push";
            engine.tag(id, target);
            try {
                String digest = EnginePush.push(engine, target, List.of(), progress);
                assertTrue(digest.startsWith("sha256:"), digest);
                Process skopeo = new ProcessBuilder("skopeo", "inspect", "--tls-verify=false", "--config",
                        "docker://" + target).redirectErrorStream(true).start();
                String config = new String(skopeo.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertEquals(0, skopeo.waitFor(), config);
                assertTrue(config.contains("\"StopSignal\": \"SIGRTMIN+3\""), config);
                assertTrue(config.contains("/usr/local/bin/entrypoint"), config);
            } finally {
                engine.removeImage(target);
            }
        }
    }

    @Test
    void refusesPlainHttpToARemoteRegistryTheUserDidNotName() {
        try (DockerEngine engine = TestEngine.connect()) {
            UserError e = assertThrows(UserError.class,
                    () -> EnginePush.push(engine, "kindest/base:v1", List.of(), new RecordingProgress()));
            assertTrue(e.getMessage().startsWith("--push needs a registry in the image name"), e.getMessage());
        }
    }
}
