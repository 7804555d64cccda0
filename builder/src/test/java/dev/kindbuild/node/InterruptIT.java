package dev.kindbuild.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.engine.Labels;
import dev.kindbuild.lifecycle.TempPaths;
import dev.kindbuild.sample.SampleEnvironment;
import dev.kindbuild.testing.RecordingProgress;
import dev.kindbuild.testing.StallingServer;
import dev.kindbuild.testing.TestBaseImage;
import dev.kindbuild.testing.TestEngine;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Ctrl-C (SIGTERM here: a background process ignores SIGINT) in the middle of a node-image build, in a real
 * kind-build process: the builder container, the work dir and partial downloads go, and no image is tagged.
 * The registry mirror accepts connections and never answers, so the build is reliably caught while pulling.
 */
class InterruptIT {

    @Test
    void aSignalDuringPullsLeavesNothingBehind() throws Exception {
        Path tmp = Files.createTempDirectory("kind-build-interrupt-");
        try (DockerEngine engine = TestEngine.connect();
                StallingServer stall = new StallingServer();
                SampleEnvironment env = SampleEnvironment.start("v1.31.2", engine.facts().architecture(), 0, null,
                        new RecordingProgress())) {
            String base = TestBaseImage.get(engine, false, new RecordingProgress()).image();
            String mirror = stall.host();
            String tag = "kind-build-test/node-interrupt:" + ProcessHandle.current().pid();
            Path cache = Files.createDirectories(tmp.resolve("cache"));
            Path childTmp = Files.createDirectories(tmp.resolve("tmp"));
            Process build = new ProcessBuilder(javaBin(), "-cp", System.getProperty("java.class.path"),
                    "-Dkindbuild.cache=" + cache, "-Djava.io.tmpdir=" + childTmp,
                    "dev.kindbuild.cli.Main", "node-image", "--k8s-version", "v1.31.2",
                    "--k8s-release-url", env.releaseUrl().toString(), "--base-image", base, "--image", tag,
                    "--registry-mirror", "registry.k8s.io=" + mirror, "--registry-mirror", "docker.io=" + mirror)
                    .redirectErrorStream(true).start();
            StringBuilder output = new StringBuilder();
            CountDownLatch pulling = new CountDownLatch(1);
            Thread reader = new Thread(() -> {
                try (BufferedReader out = new BufferedReader(new InputStreamReader(build.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line = out.readLine(); line != null; line = out.readLine()) {
                        synchronized (output) {
                            output.append(line).append('\n');
                        }
                        if (line.contains("Pulling images")) {
                            pulling.countDown();
                        }
                    }
                } catch (IOException closed) {
                    // the process is gone
                }
            });
            reader.start();
            assertTrue(pulling.await(120, TimeUnit.SECONDS), "the build never reached the pulls:\n" + output);
            String childPid = Long.toString(build.pid());
            // Images go into the store before any container exists: the builder starts only once everything is there.
            assertEquals(List.of(), engine.containersWithLabel(Labels.PID, childPid), "no builder container while pulling:\n" + output);
            build.destroy(); // SIGTERM
            assertTrue(build.waitFor(60, TimeUnit.SECONDS), "kind-build did not stop after SIGTERM");
            reader.join(10_000);
            assertNotEquals(0, build.exitValue(), output.toString());
            assertEquals(List.of(), engine.containersWithLabel(Labels.PID, childPid), "builder container left:\n" + output);
            assertTrue(engine.inspectImage(tag).isEmpty(), "an interrupted build must not tag " + tag);
            try (Stream<Path> left = Files.list(childTmp)) {
                assertEquals(List.of(), left.map(p -> p.getFileName().toString()).toList(), "temp files left");
            }
            try (Stream<Path> files = Files.walk(cache)) {
                assertEquals(List.of(), files.filter(p -> p.getFileName().toString().contains("partial")).toList());
            }
        } finally {
            TempPaths.deleteTree(tmp);
        }
    }

    private static String javaBin() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }
}
