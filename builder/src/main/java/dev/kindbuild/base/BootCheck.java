package dev.kindbuild.base;

import dev.kindbuild.UserError;
import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.engine.ExecResult;
import dev.kindbuild.engine.NodeLauncher;
import dev.kindbuild.engine.NodeMode;
import dev.kindbuild.lifecycle.CleanupStack;
import dev.kindbuild.progress.Progress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Step: boot a base image the way kind boots a node and check that systemd reaches multi-user.target, containerd is
 * active and answers `ctr version`. The container is removed afterwards, whatever happens.
 */
public final class BootCheck {
    private BootCheck() {}

    public static NodeMode run(DockerEngine engine, String image, Progress progress) {
        NodeLauncher launcher = new NodeLauncher(engine);
        String name = "kind-build-check-" + Integer.toHexString(ThreadLocalRandom.current().nextInt(1 << 24));
        try (CleanupStack cleanup = new CleanupStack()) {
            NodeLauncher.Node node = progress.step("Booting " + image, () -> {
                NodeLauncher.Node started = launcher.start(image, name, "boot-check", true);
                cleanup.push("container " + name, () -> engine.remove(started.id()));
                launcher.awaitBoot(started, Duration.ofSeconds(90));
                return started;
            }, n -> n.mode() == NodeMode.PRIVILEGED ? "privileged" : "fallback mode");
            progress.notice("node mode: " + node.mode().description());
            progress.run("Checking containerd", () -> {
                launcher.awaitUnitActive(node, "containerd", Duration.ofSeconds(30));
                ExecResult version = engine.exec(node.id(), List.of("ctr", "version"));
                if (!version.ok() || !version.stdout().contains("Server:")) {
                    throw new UserError("`ctr version` in the node failed: " + version.lastErrorLine());
                }
                progress.detail(version.stdout().strip());
            });
            return node.mode();
        }
    }
}
