package dev.kindbuild.kube;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kindbuild.support.Sha256;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import dev.kindbuild.support.TarWriter;

/**
 * Packages Kubernetes' control-plane components as docker-archive images without any Docker build, as the release
 * does: the static binary at {@code /usr/local/bin/NAME} on a minimal root (passwd, group, CA certificates), or for
 * kube-proxy on a Debian root that has iptables, conntrack and ipset. Entries are sorted with fixed times and owners,
 * so the same binaries give the same image.
 */
public final class ComponentImages {
    /** The components kubeadm runs as images, in the order a release ships them. */
    public static final List<String> COMPONENTS = List.of("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy");
    /** What kube-proxy runs besides itself. */
    static final List<String> KUBE_PROXY_PACKAGES = List.of("iptables", "conntrack", "ipset", "kmod");

    /** kube-proxy's Debian root on {@code arch}. */
    static dev.kindbuild.debian.DebianRoot.Spec kubeProxyRoot(String arch) {
        return new dev.kindbuild.debian.DebianRoot.Spec("bookworm", dev.kindbuild.debian.DebianRoot.Variant.MINBASE, arch, KUBE_PROXY_PACKAGES);
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private ComponentImages() {}

    /**
     * Writes {@code out} (a docker-archive holding {@code repoTag}) with {@code binary} as {@code /usr/local/bin/NAME}
     * on {@code baseRoot} (a root filesystem tar) or, when empty, on a minimal root.
     */
    public static void write(Path out, String repoTag, String name, String arch, Path binary, Optional<Path> baseRoot,
            Instant mtime) throws IOException {
        Path work = Files.createTempDirectory(out.getParent(), ".partial-image-");
        try {
            List<Layer> layers = new ArrayList<>();
            layers.add(baseRoot.isPresent() ? copyLayer(baseRoot.get(), work.resolve("base.tar"))
                    : writeLayer(work.resolve("base.tar"), mtime, ComponentImages::minimalRoot));
            layers.add(writeLayer(work.resolve("bin.tar"), mtime, tar -> {
                tar.directory("usr/", 0755);
                tar.directory("usr/local/", 0755);
                tar.directory("usr/local/bin/", 0755);
                file(tar, "usr/local/bin/" + name, binary, 0755);
            }));
            byte[] config = config(name, arch, layers, mtime);
            String configName = Sha256.of(config) + ".json";
            List<String> layerNames = new ArrayList<>();
            for (Layer l : layers) {
                layerNames.add(l.diffId().substring("sha256:".length()) + "/layer.tar");
            }
            Map<String, Object> manifest = new LinkedHashMap<>();
            manifest.put("Config", configName);
            manifest.put("RepoTags", List.of(repoTag));
            manifest.put("Layers", layerNames);
            Path partial = work.resolve("image.tar");
            try (OutputStream archive = Files.newOutputStream(partial)) {
                TarWriter tar = new TarWriter(archive, mtime);
                tar.file("manifest.json", 0644, JSON.writeValueAsBytes(List.of(manifest)));
                tar.file(configName, 0644, config);
                for (int i = 0; i < layers.size(); i++) {
                    file(tar, layerNames.get(i), layers.get(i).file(), 0644);
                }
                tar.finish();
            }
            Files.move(partial, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            dev.kindbuild.lifecycle.TempPaths.deleteTree(work);
        }
    }

    private record Layer(Path file, String diffId) {}

    private interface TarBody {
        void write(TarWriter tar) throws IOException;
    }

    private static Layer writeLayer(Path file, Instant mtime, TarBody body) throws IOException {
        MessageDigest digest = Sha256.newDigest();
        try (OutputStream out = new DigestOutputStream(Files.newOutputStream(file), digest)) {
            TarWriter tar = new TarWriter(out, mtime);
            body.write(tar);
            tar.finish();
        }
        return new Layer(file, "sha256:" + Sha256.hex(digest));
    }

    private static Layer copyLayer(Path source, Path file) throws IOException {
        Files.copy(source, file);
        return new Layer(file, "sha256:" + Sha256.of(file));
    }

    private static void minimalRoot(TarWriter tar) throws IOException {
        tar.directory("etc/", 0755);
        tar.file("etc/group", 0644, "root:x:0:\nnogroup:x:65534:\n".getBytes(StandardCharsets.UTF_8));
        tar.file("etc/nsswitch.conf", 0644, "hosts: files dns\n".getBytes(StandardCharsets.UTF_8));
        tar.file("etc/passwd", 0644, "root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n"
                .getBytes(StandardCharsets.UTF_8));
        // Components talk TLS to cloud APIs and webhooks; the host's bundle is what its admin trusts.
        Path bundle = Path.of("/etc/ssl/certs/ca-certificates.crt");
        if (Files.isRegularFile(bundle)) {
            tar.directory("etc/ssl/", 0755);
            tar.directory("etc/ssl/certs/", 0755);
            file(tar, "etc/ssl/certs/ca-certificates.crt", bundle, 0644);
        }
        tar.directory("tmp/", 01777);
    }

    private static byte[] config(String name, String arch, List<Layer> layers, Instant mtime) throws IOException {
        Map<String, Object> container = new LinkedHashMap<>();
        container.put("Env", List.of("PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin"));
        container.put("Entrypoint", List.of("/usr/local/bin/" + name));
        Map<String, Object> rootfs = new LinkedHashMap<>();
        rootfs.put("type", "layers");
        rootfs.put("diff_ids", layers.stream().map(Layer::diffId).toList());
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("architecture", arch);
        config.put("os", "linux");
        config.put("created", mtime.toString());
        config.put("config", container);
        config.put("rootfs", rootfs);
        config.put("history", List.of(
                Map.of("created", mtime.toString(), "created_by", "kind-build: root filesystem"),
                Map.of("created", mtime.toString(), "created_by", "kind-build: /usr/local/bin/" + name)));
        return JSON.writeValueAsBytes(config);
    }

    private static void file(TarWriter tar, String name, Path source, int mode) throws IOException {
        try (InputStream in = Files.newInputStream(source)) {
            tar.file(name, mode, 0, 0, Files.size(source), in);
        }
    }

}
