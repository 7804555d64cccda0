package dev.kindbuild.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kindbuild.engine.ContainerSpec;
import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.engine.Labels;
import dev.kindbuild.lifecycle.CleanupStack;
import dev.kindbuild.testing.CliRun;
import dev.kindbuild.testing.Leaks;
import dev.kindbuild.testing.RecordingProgress;
import dev.kindbuild.testing.TestBaseImage;
import dev.kindbuild.testing.TestEngine;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * `kind-build cleanup` against the real engine: containers a user started (`docker run`) from kind-build's images
 * — a node image as committed now, and an image carrying the labels earlier versions committed (owner label, a dead
 * PID, even a kind-build container mark) — keep running, while a container kind-build created and whose process died
 * is removed.
 */
class CleanupIT {

    @Test
    void cleanupRemovesALeakedToolContainerAndNoContainerStartedFromAKindBuildImage() throws Exception {
        String suffix = Leaks.PID;
        String nodeTag = "kind-build-test/cleanup-node:" + suffix;
        String oldTag = "kind-build-test/cleanup-old-labels:" + suffix;
        List<String> userContainers = List.of("kind-build-test-user-node-" + suffix, "kind-build-test-user-old-" + suffix,
                "kind-build-test-user-base-" + suffix);
        String leakedName = "kind-build-test-leaked-" + suffix;
        List<String> toRemove = new ArrayList<>(userContainers);
        toRemove.add(leakedName);
        try (DockerEngine engine = TestEngine.connect()) {
            String base = TestBaseImage.get(engine, false, new RecordingProgress()).image();
            try (CleanupStack cleanup = new CleanupStack()) {
                // A builder container with the marks node-image's builder carries, committed with a node image's labels.
                String id = engine.create(ContainerSpec.builder("kind-build-test-builder-" + suffix, base).entrypoint("sleep")
                        .cmd("infinity").labels(Labels.forContainer("node-builder")).networkMode("none").build());
                record Builder(String id) {}
                Builder builder = new Builder(id);
                cleanup.push("builder", () -> engine.remove(id));
                engine.start(id);
                List<String> changes = new ArrayList<>();
                NodeImageConfig.labels("v1.31.2", base, "").forEach((k, v) -> changes.add("LABEL " + k + "=\"" + v + "\""));
                engine.commit(builder.id(), nodeTag, changes);
                // The worst an earlier version left in an image: the builder's labels as they were, plus the old owner
                // label and the PID of a process that is gone.
                engine.commit(builder.id(), oldTag, List.of("LABEL " + Labels.LEGACY_OWNER + "=kind-build",
                        "LABEL " + Labels.PID + "=" + deadProcess()[0]));
            }
            Map<String, String> oldLabels = engine.inspectImage(oldTag).orElseThrow().labels();
            assertFalse(oldLabels.getOrDefault(Labels.CONTAINER, "").isEmpty(), "the old-style image must carry a mark: " + oldLabels);

            dockerRun(userContainers.get(0), nodeTag);
            dockerRun(userContainers.get(1), oldTag);
            dockerRun(userContainers.get(2), base);
            long[] dead = deadProcess();
            String leaked = engine.create(ContainerSpec.builder(leakedName, base).entrypoint("sleep").cmd("infinity")
                    .networkMode("none")
                    .labels(Map.of(Labels.CONTAINER, dead[0] + "." + dead[1] + ".0badc0de", Labels.PID, Long.toString(dead[0]),
                            Labels.PURPOSE, "node-builder"))
                    .build());
            engine.start(leaked);

            CliRun run = CliRun.of("cleanup");

            assertEquals(0, run.exit(), run.err());
            for (String name : userContainers) {
                assertTrue(engine.isRunning(name), name + " was started by a user and must survive cleanup: " + run.out());
            }
            assertFalse(engine.containerLabels(leaked).containsKey(Labels.CONTAINER), "the leaked container must be removed");
        } finally {
            try (DockerEngine engine = DockerEngine.connect()) {
                toRemove.forEach(engine::remove);
                engine.removeImage(nodeTag);
                engine.removeImage(oldTag);
            }
        }
    }

    /** The PID and start time (epoch ms) of a process that has exited. */
    private static long[] deadProcess() throws IOException, InterruptedException {
        Process p = new ProcessBuilder("true").start();
        long start = p.info().startInstant().map(i -> i.toEpochMilli()).orElse(1L);
        p.waitFor();
        return new long[] {p.pid(), start};
    }

    private static void dockerRun(String name, String image) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("docker", "run", "-d", "--name", name, "--network", "none", "--entrypoint", "sleep",
                image, "infinity").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), "docker run " + image + ": " + out);
    }
}
