package dev.kindbuild.node.pipeline;

import dev.kindbuild.engine.ContainerSpec;
import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.engine.Labels;
import dev.kindbuild.lifecycle.CleanupStack;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Step: the container the node image is assembled in. It runs the base image with `sleep infinity` instead of
 * systemd, needs no privileges and no network (images are pulled on the host), and is removed by the cleanup stack
 * on success, failure and Ctrl-C alike.
 */
final class BuilderContainer {
    private BuilderContainer() {}

    /** The running builder: its ID and name. */
    record Builder(String id, String name) {}

    static Builder start(DockerEngine engine, String baseImage, CleanupStack cleanup) {
        String name = "kind-build-node-" + Long.toHexString(System.currentTimeMillis() / 1000) + "-"
                + Integer.toHexString(ThreadLocalRandom.current().nextInt(1 << 16));
        ContainerSpec spec = ContainerSpec.builder(name, baseImage)
                .entrypoint("sleep")
                .cmd("infinity")
                .labels(Labels.forContainer("node-builder"))
                .networkMode("none")
                .build();
        String id = engine.create(spec);
        cleanup.push("builder container " + name, () -> engine.remove(id));
        engine.start(id);
        return new Builder(id, name);
    }
}
