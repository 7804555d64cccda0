package dev.kindbuild.sample;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kindbuild.support.Sha256;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SampleReleaseTest {
    @TempDir
    Path tmp;

    @Test
    void layoutMatchesARealServerTarball() throws Exception {
        SampleRelease.Written w = SampleRelease.write(tmp, "1.31.2", "arm64");
        assertEquals(tmp.resolve("kubernetes-server-linux-arm64.tar.gz"), w.tarball());
        assertEquals("v1.31.2", w.version());
        assertEquals(w.sha256(), Files.readString(w.sha256File()));
        assertEquals(Sha256.of(w.tarball()), w.sha256());

        Map<String, byte[]> entries = readTar(Files.newInputStream(w.tarball()), true);
        assertEquals(List.of("kubernetes/", "kubernetes/server/", "kubernetes/server/bin/",
                "kubernetes/server/bin/kube-apiserver.docker_tag", "kubernetes/server/bin/kube-apiserver.tar",
                "kubernetes/server/bin/kube-controller-manager.tar", "kubernetes/server/bin/kube-proxy.tar",
                "kubernetes/server/bin/kube-scheduler.tar", "kubernetes/server/bin/kubeadm",
                "kubernetes/server/bin/kubectl", "kubernetes/server/bin/kubelet", "kubernetes/version"),
                List.copyOf(entries.keySet()));
        assertEquals("v1.31.2\n", new String(entries.get("kubernetes/version"), StandardCharsets.UTF_8));
        assertEquals("v1.31.2\n", new String(entries.get("kubernetes/server/bin/kube-apiserver.docker_tag"), StandardCharsets.UTF_8));
    }

    @Test
    void deterministic() throws Exception {
        SampleRelease.Written a = SampleRelease.write(tmp.resolve("a"), "v1.31.2", "amd64");
        Thread.sleep(1100);
        SampleRelease.Written b = SampleRelease.write(tmp.resolve("b"), "v1.31.2", "amd64");
        assertArrayEquals(Files.readAllBytes(a.tarball()), Files.readAllBytes(b.tarball()));
        byte[] gz = Files.readAllBytes(a.tarball());
        assertEquals(0, gz[4] | gz[5] | gz[6] | gz[7], "gzip mtime is 0");
        assertNotEquals(a.sha256(), SampleRelease.write(tmp.resolve("c"), "v1.31.3", "amd64").sha256());
    }

    @Test
    void imageTarsAreDockerArchives() throws Exception {
        SampleRelease.Written w = SampleRelease.write(tmp, "v1.32.0", "amd64");
        Map<String, byte[]> entries = readTar(Files.newInputStream(w.tarball()), true);
        Map<String, byte[]> image = readTar(new ByteArrayInputStream(entries.get("kubernetes/server/bin/kube-proxy.tar")), false);
        String manifest = new String(image.get("manifest.json"), StandardCharsets.UTF_8);
        SampleImage expected = SampleRelease.controlPlaneImage("kube-proxy", "v1.32.0", "amd64");
        String configHex = expected.configDigest().substring(7);
        String layerHex = expected.diffId().substring(7);
        assertEquals("[{\"Config\":\"" + configHex + ".json\",\"RepoTags\":[\"registry.k8s.io/kube-proxy-amd64:v1.32.0\"],"
                + "\"Layers\":[\"" + layerHex + "/layer.tar\"]}]", manifest);
        byte[] config = image.get(configHex + ".json");
        assertEquals(configHex, Sha256.of(config), "config file is named by its digest");
        String configText = new String(config, StandardCharsets.UTF_8);
        assertTrue(configText.contains("\"architecture\":\"amd64\""), configText);
        assertTrue(configText.contains("\"os\":\"linux\""), configText);
        assertTrue(configText.contains("\"rootfs\":{\"diff_ids\":[\"sha256:" + layerHex + "\"],\"type\":\"layers\"}"), configText);
        byte[] layer = image.get(layerHex + "/layer.tar");
        assertEquals(layerHex, Sha256.of(layer), "diff_id is the digest of the uncompressed layer");
        Map<String, byte[]> files = readTar(new ByteArrayInputStream(layer), false);
        assertTrue(files.containsKey("usr/local/bin/kube-proxy"), files.keySet().toString());
        assertEquals("{\"registry.k8s.io/kube-proxy-amd64\":{\"v1.32.0\":\"" + layerHex + "\"}}",
                new String(image.get("repositories"), StandardCharsets.UTF_8));
    }

    @Test
    void sampleImageIsReusableForRegistries() {
        SampleImage img = SampleImage.of("arm64", "localhost:5000/x:1").withFile("/etc/hello", "hi\n", 0644).withCmd("/bin/true");
        assertEquals(img.configDigest(), SampleImage.of("arm64", "other:2").withFile("etc/hello", "hi\n", 0644)
                .withCmd("/bin/true").configDigest(), "names are not part of the image");
        assertEquals(img.layerGzDigest(), "sha256:" + Sha256.of(img.layerTarGz()));
        String manifest = new String(img.ociManifestJson(true), StandardCharsets.UTF_8);
        assertTrue(manifest.contains("\"digest\":\"" + img.configDigest() + "\",\"size\":" + img.configJson().length), manifest);
        assertTrue(manifest.contains("application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"" + img.layerGzDigest()), manifest);
    }

    @Test
    void kubeadmImageTable() {
        assertEquals(List.of("registry.k8s.io/kube-apiserver:v1.31.2", "registry.k8s.io/kube-controller-manager:v1.31.2",
                "registry.k8s.io/kube-scheduler:v1.31.2", "registry.k8s.io/kube-proxy:v1.31.2",
                "registry.k8s.io/coredns/coredns:v1.11.3", "registry.k8s.io/pause:3.10", "registry.k8s.io/etcd:3.5.15-0"),
                SampleRelease.kubeadmImages("v1.31.2"));
        assertEquals("registry.k8s.io/etcd:3.5.10-0", SampleRelease.kubeadmImages("v1.28.0").get(6), "older: oldest entry");
        assertEquals("registry.k8s.io/pause:3.10.1", SampleRelease.kubeadmImages("v1.40.0").get(5), "newer: newest entry");
    }

    @Test
    void scriptsAnswerLikeTheRealBinaries() throws Exception {
        SampleRelease.Written w = SampleRelease.write(tmp, "v1.31.2", "amd64");
        Map<String, byte[]> entries = readTar(Files.newInputStream(w.tarball()), true);
        Path bin = Files.createDirectories(tmp.resolve("bin"));
        for (String b : List.of("kubeadm", "kubelet", "kubectl")) {
            Files.write(bin.resolve(b), entries.get("kubernetes/server/bin/" + b));
        }
        assertEquals("v1.31.2\n", run(bin, "kubeadm", "version", "-o", "short"));
        String info = run(bin, "kubeadm", "version");
        assertTrue(info.startsWith("kubeadm version: &version.Info{Major:\"1\", Minor:\"31\", GitVersion:\"v1.31.2\", GitCommit:\""),
                info);
        assertTrue(info.endsWith("Compiler:\"gc\", Platform:\"linux/amd64\"}\n"), info);
        assertTrue(run(bin, "kubeadm", "version", "-o", "json").contains("\"gitVersion\": \"v1.31.2\""));
        assertEquals(String.join("\n", SampleRelease.kubeadmImages("v1.31.2")) + "\n",
                run(bin, "kubeadm", "config", "images", "list", "--kubernetes-version", "v1.31.2"));
        assertEquals(String.join("\n", SampleRelease.kubeadmImages("v1.31.2")) + "\n",
                run(bin, "kubeadm", "config", "images", "list", "--kubernetes-version=1.31.2"));
        // another control-plane version: its tag and that minor's etcd; coredns and pause are this kubeadm's
        String other = run(bin, "kubeadm", "config", "images", "list", "--kubernetes-version", "v1.30.5");
        assertTrue(other.contains("registry.k8s.io/kube-apiserver:v1.30.5\n"), other);
        assertTrue(other.endsWith("registry.k8s.io/pause:3.10\nregistry.k8s.io/etcd:3.5.12-0\n"), other);
        assertTrue(run(bin, "kubeadm", "config", "images", "list", "--image-repository", "mirror.local/k8s")
                .contains("mirror.local/k8s/coredns:v1.11.3\n"));
        assertEquals("Kubernetes v1.31.2\n", run(bin, "kubelet", "--version"));
        assertEquals("Client Version: v1.31.2\nKustomize Version: v5.4.2\n", run(bin, "kubectl", "version", "--client"));
        assertTrue(run(bin, "kubectl", "version", "--client", "-o", "json").contains("\"kustomizeVersion\": \"v5.4.2\""));
        assertEquals(1, exit(bin, "kubelet", "--config", "x"));
        assertEquals(1, exit(bin, "kubeadm", "init"));
    }

    private static String run(Path bin, String... cmd) throws Exception {
        Process p = start(bin, cmd);
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(20, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + ": " + err);
        return out;
    }

    private static int exit(Path bin, String... cmd) throws Exception {
        Process p = start(bin, cmd);
        p.getInputStream().readAllBytes();
        p.getErrorStream().readAllBytes();
        assertTrue(p.waitFor(20, TimeUnit.SECONDS));
        return p.exitValue();
    }

    private static Process start(Path bin, String... cmd) throws IOException {
        List<String> full = new ArrayList<>(List.of("bash", bin.resolve(cmd[0]).toString()));
        full.addAll(List.of(cmd).subList(1, cmd.length));
        return new ProcessBuilder(full).start();
    }

    static Map<String, byte[]> readTar(InputStream raw, boolean gzip) throws IOException {
        Map<String, byte[]> out = new LinkedHashMap<>();
        try (InputStream in = gzip ? new GzipCompressorInputStream(raw) : raw;
                TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
            TarArchiveEntry e;
            while ((e = tar.getNextEntry()) != null) {
                assertEquals(Tars.MTIME.getEpochSecond(), e.getModTime().toInstant().getEpochSecond(), e.getName());
                assertEquals(0, e.getLongUserId());
                out.put(e.getName(), tar.readAllBytes());
            }
        }
        return out;
    }
}
