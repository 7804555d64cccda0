package dev.kindbuild.base;

import dev.kindbuild.UserError;
import dev.kindbuild.engine.ContainerSpec;
import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.engine.ExecResult;
import dev.kindbuild.engine.Labels;
import dev.kindbuild.kube.ContainerdVersion;
import dev.kindbuild.lifecycle.CleanupStack;
import dev.kindbuild.progress.Progress;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import dev.kindbuild.support.TarWriter;

/**
 * Labels a freshly built base with the containerd it got ({@link Labels#CONTAINERD_VERSION}), so that a node build
 * can check it against the Kubernetes version without running the base. The version is only known once the
 * packages are installed, so it is read from the built image ({@code containerd --version}) and added as a label on
 * top: a config-only image over the same layers.
 */
final class ContainerdLabel {
    private ContainerdLabel() {}

    /** Re-tags {@code tag} with the label; returns the new image ID. */
    static String apply(DockerEngine engine, String tag, Optional<String> platform, Progress progress) {
        ContainerdVersion version = read(engine, tag);
        String dockerfile = "FROM " + engine.inspectImage(tag).orElseThrow().id() + "\n";
        return engine.build(new ByteArrayInputStream(context(dockerfile)), Map.of(), Map.of(Labels.CONTAINERD_VERSION, version.text()),
                tag, false, platform, progress::detail);
    }

    /** {@code containerd --version} in a throwaway container of the image (no network, removed on any exit). */
    static ContainerdVersion read(DockerEngine engine, String image) {
        String name = "kind-build-base-probe-" + Integer.toHexString(ThreadLocalRandom.current().nextInt(1 << 24));
        try (CleanupStack cleanup = new CleanupStack()) {
            String id = engine.create(ContainerSpec.builder(name, image).entrypoint("sleep").cmd("infinity")
                    .labels(Labels.forContainer("base-probe")).networkMode("none").build());
            cleanup.push("container " + name, () -> engine.remove(id));
            engine.start(id);
            ExecResult r = engine.exec(id, List.of("containerd", "--version"));
            return ContainerdVersion.fromVersionOutput(r.stdout()).orElseThrow(() -> new UserError(
                    "the built base image has no working containerd (`containerd --version`: " + (r.ok() ? r.stdout().strip() : r.lastErrorLine())
                            + "): check the recipe's package list"));
        }
    }

    static byte[] context(String dockerfile) {
        byte[] content = dockerfile.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try {
            TarWriter tar = new TarWriter(bytes);
            tar.file("Dockerfile", 0644, content);
            tar.finish();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }
}
