package dev.kindbuild.node;

import dev.kindbuild.UserError;
import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.engine.ExecResult;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Step: the images a cluster of this version needs — kubeadm's own list (asked of the kubeadm just installed, so it
 * is exactly what `kubeadm init` will want), the addon manifests' images and the user's extras.
 */
public final class RequiredImages {
    private RequiredImages() {}

    /** What kubeadm lists, the pause image among them. */
    public record Required(List<String> kubeadm, List<String> addons, List<String> extras) {
        /*
         * kubeadm's images in name order, whoever listed them: the release's kubeadm or kind-build's table (a foreign
         * architecture, a kubeadm that cannot run where the build runs). The same images then make the same node,
         * byte for byte, on any build host.
         */
        public Required {
            kubeadm = kubeadm.stream().sorted().distinct().toList();
            addons = List.copyOf(addons);
            extras = List.copyOf(extras);
        }

        public List<String> all() {
            Set<String> all = new LinkedHashSet<>(kubeadm);
            all.addAll(addons);
            all.addAll(extras);
            return List.copyOf(all);
        }

        /** The sandbox image kubeadm expects (the pause image it lists). */
        public String pauseImage() {
            return kubeadm.stream().filter(i -> i.contains("/pause:")).findFirst()
                    .orElseThrow(() -> new UserError("kubeadm config images list named no pause image: " + kubeadm));
        }
    }

    /**
     * The list: the release's own kubeadm run on this host when it can run here
     * (same architecture), else kind-build's table ({@link KubeadmImageTable}). {@code how} receives which it was.
     */
    public static Required listOnHost(java.nio.file.Path kubeadm, String arch, dev.kindbuild.kube.KubeVersion version,
            AddonManifests manifests, List<String> extras, java.util.function.Consumer<String> how) {
        String hostArch = dev.kindbuild.engine.DockerEngine.normalizeArch(System.getProperty("os.arch"));
        if (arch.equals(hostArch)) {
            try {
                Process p = new ProcessBuilder(kubeadm.toString(), "config", "images", "list", "--kubernetes-version",
                        version.toString()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
                String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
                if (p.waitFor() == 0) {
                    how.accept("asked the release's kubeadm");
                    return new Required(parseList(out), manifests.images(), List.copyOf(extras));
                }
                how.accept("the release's kubeadm failed (exit " + p.exitValue() + "); using kind-build's table");
            } catch (java.io.IOException e) {
                how.accept("cannot run the release's kubeadm (" + e.getMessage() + "); using kind-build's table");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new UserError("interrupted", 130, e);
            }
        } else {
            how.accept("kubeadm for " + arch + " cannot run on this " + hostArch + " host; using kind-build's table");
        }
        KubeadmImageTable table = KubeadmImageTable.bundled();
        List<String> images = table.images(version);
        table.caveat(version).ifPresent(c -> how.accept(c + ": the node may pull what kubeadm asks for instead; build on a "
                + arch + " host to ask the release's own kubeadm"));
        return new Required(images, manifests.images(), List.copyOf(extras));
    }

    /** kubeadm prints one image per line; anything else (warnings) is dropped. */
    static List<String> parseList(String output) {
        List<String> images = new ArrayList<>();
        for (String line : output.split("\n")) {
            String s = line.strip();
            if (!s.isEmpty() && !s.contains(" ") && s.contains(":") && s.contains("/")) {
                images.add(s);
            }
        }
        if (images.isEmpty()) {
            throw new UserError("kubeadm config images list printed no images: " + output.strip());
        }
        return images;
    }
}
