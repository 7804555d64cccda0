package dev.kindbuild.node.pipeline;

import dev.kindbuild.UserError;
import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.kube.KubernetesArtifacts;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Check: kubeadm and kubelet must be of the version the image is named after and records in /kind/version — binaries
 * of mixed versions make an image kind cannot boot. Asked of the binaries themselves when they run on this host (same
 * architecture); binaries of another architecture are not emulated for this: the check is skipped.
 */
final class KubernetesVersions {
    private KubernetesVersions() {}

    static void check(KubernetesArtifacts k8s, String arch) {
        if (!arch.equals(DockerEngine.normalizeArch(System.getProperty("os.arch")))) {
            return;
        }
        String version = k8s.version();
        List<String> wrong = new ArrayList<>();
        reported(k8s.binary("kubeadm"), "version", "-o", "short").filter(v -> !v.equals(version))
                .ifPresent(v -> wrong.add("kubeadm reports " + v));
        reported(k8s.binary("kubelet"), "--version").map(v -> v.replaceFirst("^Kubernetes\\s+", "")).filter(v -> !v.equals(version))
                .ifPresent(v -> wrong.add("kubelet reports " + v));
        if (!wrong.isEmpty()) {
            throw new UserError("the Kubernetes binaries disagree with the version " + version + " they came with ("
                    + String.join(", ", wrong) + "): use kubeadm, kubelet and kubectl from one build of " + version);
        }
    }

    /** What a binary prints for its version; empty when it cannot run here. */
    private static Optional<String> reported(Path binary, String... args) {
        List<String> command = new ArrayList<>(List.of(binary.toString()));
        command.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            return p.waitFor() == 0 ? Optional.of(out) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UserError("interrupted", 130, e);
        }
    }
}
