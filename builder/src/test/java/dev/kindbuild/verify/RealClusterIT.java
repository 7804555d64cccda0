package dev.kindbuild.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.image.registry.RegistryAccess;
import dev.kindbuild.image.registry.RegistryMirrors;
import dev.kindbuild.image.archive.ArchiveFormat;
import dev.kindbuild.image.layer.ImageContents;
import dev.kindbuild.image.registry.RegistryTrust;
import dev.kindbuild.image.store.ImageStore;
import dev.kindbuild.kube.KubernetesArtifacts;
import dev.kindbuild.kube.KubernetesResolver;
import dev.kindbuild.kube.KubernetesSource;
import dev.kindbuild.lifecycle.TempPaths;
import dev.kindbuild.node.ArchGuard;
import dev.kindbuild.testing.DockerBuilds;
import dev.kindbuild.node.NodeImageRequest;
import dev.kindbuild.node.NodeImageResult;
import dev.kindbuild.node.pipeline.NodeBuild;
import dev.kindbuild.testing.LocalRegistry;
import dev.kindbuild.testing.CliRun;
import dev.kindbuild.testing.Leaks;
import dev.kindbuild.testing.RealKubernetes;
import dev.kindbuild.testing.RecordingProgress;
import dev.kindbuild.testing.TestEmulation;
import dev.kindbuild.testing.TestEngine;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A real Kubernetes (v1.20.2, built here from Debian's source package with Go 1.15 by scripts/fetch-real-kubernetes
 * and `node-image --type source`) in node images that must run a real cluster with no route out: from the source
 * tree, and from a release tarball made of the same binaries. A node image whose kubelet cannot start must fail.
 * Images beyond Kubernetes' own come from scripts/real-cluster-images (real pause and etcd, stand-in addons) in a
 * local registry. The source build is cached in the user's kind-build cache, so only the first run compiles. The same
 * tree cross-compiled for arm64 makes an arm64 node that boots under emulation (no cluster: no container starts there).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RealClusterIT {
    static final String VERSION = "v1.20.2";
    static final String TAG_PREFIX = "kind-build-test/node-real:" + Leaks.PID + "-";

    @RegisterExtension
    static final LocalRegistry REGISTRY = new LocalRegistry();

    static DockerEngine engine;
    static RealKubernetes real;
    static Path tree;
    static Path goRoot;
    static Path work;
    static RegistryMirrors mirrors;
    static KubernetesArtifacts sourceBuild;
    static final List<String> tags = new ArrayList<>();

    @BeforeAll
    static void realKubernetesAndImages() throws Exception {
        engine = TestEngine.connect();
        real = RealKubernetes.fetch();
        tree = real.tree();
        goRoot = real.goRoot();
        real.pushClusterImages(REGISTRY.host());
        mirrors = RegistryMirrors.parse(List.of("k8s.gcr.io=" + REGISTRY.host(), "registry.k8s.io=" + REGISTRY.host(),
                "docker.io=" + REGISTRY.host()));
        work = Files.createTempDirectory("kind-build-real-");
    }

    @AfterAll
    static void removeImages() {
        if (engine != null) {
            tags.forEach(engine::removeImage);
            Leaks.assertNoContainers(engine);
            engine.close();
        }
        TempPaths.deleteTree(work);
    }

    @Test
    @Order(1)
    void aNodeImageFromTheRealSourceTreeRunsACluster() {
        NodeImageResult node = build(new KubernetesSource.SourceTree(tree), "source", Optional.of(goRoot));
        assertEquals(VERSION, node.version());
        String containerd = engine.inspectImage(node.image()).orElseThrow().labels().get("dev.kind-build.containerd-version");
        assertTrue(containerd.startsWith("1.7."), "the bundled base for " + VERSION + " has containerd " + containerd);
        sourceBuild = new KubernetesResolver(KubernetesResolver.Options.defaults(engine.facts().architecture())
                .withGoRoot(Optional.of(goRoot)).withFallbackVersion(Optional.of(VERSION)), new RecordingProgress())
                .resolve(new KubernetesSource.SourceTree(tree), work.resolve("resolve"));

        ClusterReport report = verifyCluster(node.image());
        assertTrue(report.passed(), describe(report));
        assertTrue(check(report, "pod").detail().contains("imagePullPolicy Never"), describe(report));
        assertTrue(check(report, "no pulls").ok(), describe(report));
    }

    /**
     * The daemonless builder's image of the same tree (its base read from the engine), pushed to a registry and pulled
     * back by the engine, runs the same cluster.
     */
    @Test
    @Order(2)
    void theDaemonlessBuildersImageOfTheTreeRunsACluster() {
        String tag = REGISTRY.host() + "/" + TAG_PREFIX.replaceFirst(":.*$", "") + ":oci-" + Leaks.PID;
        tags.add(tag);
        NodeImageRequest request = new NodeImageRequest(new KubernetesSource.SourceTree(tree), Optional.of(tag), Optional.empty(),
                engine.facts().architecture(), mirrors, RegistryAccess.defaults(), List.of(), false, false, Optional.empty(),
                Optional.of(VERSION), Optional.of(goRoot));
        NodeBuild.Result built = new NodeBuild(ImageStore.defaultLocation(), new RecordingProgress()).run(request,
                new NodeBuild.Options(Optional.of(engine), Optional.empty(), ArchiveFormat.DOCKER, true,
                        RegistryTrust.jvmDefault(), Optional.empty()));
        assertTrue(built.pushed().isPresent());
        engine.removeImage(tag);
        assertTrue(engine.inspectImage(tag).isEmpty());
        assertTrue(engine.tryPull(tag, "linux/" + engine.facts().architecture(), java.time.Duration.ofMinutes(5), line -> {}),
                "the engine pulls the pushed image back");
        assertEquals(built.node().imageId(), engine.inspectImage(tag).orElseThrow().id(), "the registry's copy is the image built");
        ClusterReport report = verifyCluster(tag);
        assertTrue(report.passed(), describe(report));
        assertTrue(check(report, "no pulls").ok(), describe(report));
    }

    @Test
    @Order(3)
    void aNodeImageFromAReleaseTarballOfTheSameBinariesRunsACluster() throws IOException {
        Path tarball = releaseTarball(sourceBuild, work.resolve("kubernetes-server-linux-" + sourceBuild.arch() + ".tar.gz"), Map.of());
        NodeImageResult node = build(new KubernetesSource.File(tarball), "release-tarball", Optional.empty());
        assertEquals(VERSION, node.version());
        ClusterReport report = verifyCluster(node.image());
        assertTrue(report.passed(), describe(report));
    }

    @Test
    @Order(4)
    void aNodeImageWhoseKubeletCannotStartFailsVerifyCluster() throws IOException {
        // Answers --version like the real one, so the image builds and `verify` without --cluster passes its version
        // check; but as a daemon it dies at once, as a kubelet with a broken config or runtime would.
        Path kubelet = work.resolve("broken-kubelet");
        Files.writeString(kubelet, "#!/bin/sh\nif [ \"$1\" = --version ]; then echo 'Kubernetes " + VERSION + "'; exit 0; fi\n"
                + "echo 'F1202 failed to run Kubelet: stand-in for a kubelet that cannot start' >&2\nexit 1\n");
        Files.setPosixFilePermissions(kubelet, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path tarball = releaseTarball(sourceBuild, work.resolve("broken.tar.gz"), Map.of("kubelet", kubelet));
        NodeImageResult node = build(new KubernetesSource.File(tarball), "broken-kubelet", Optional.empty());

        long start = System.nanoTime();
        ClusterReport report = verifyCluster(node.image());
        assertFalse(report.passed(), describe(report));
        Check failed = report.checks().stream().filter(c -> !c.ok()).findFirst().orElseThrow();
        assertEquals("kubeadm init", failed.name(), describe(report));
        assertTrue(failed.detail().startsWith("kubelet cannot start"), describe(report));
        assertTrue(failed.detail().contains("stand-in for a kubelet that cannot start"), describe(report));
        assertTrue(System.nanoTime() - start < TimeUnit.MINUTES.toNanos(3), "a dead kubelet must be reported without kubeadm's 4-minute wait");
    }

    /**
     * The same tree cross-compiled for linux/arm64 (static binaries, no C cross-compiler), with arm64 pause and etcd,
     * makes an arm64 node image whose programs are arm64 ELF; under binfmt emulation it boots offline, its real kubeadm
     * and kubelet answer, and every image loads — all verify can check where no container starts (see NodeArch).
     */
    @Test
    @Order(5)
    void aRealArm64NodeImageIsArm64ThroughoutAndBootsUnderEmulation() throws Exception {
        TestEmulation.requireArm64();
        String flags = real.pushClusterImages(REGISTRY.host() + "/arm64", "arm64");
        String tag = TAG_PREFIX + "arm64";
        tags.add(tag);
        // Not the bundled base (trixie's containerd 1.7): its systemd 257 cannot spawn services under qemu-user, so the
        // node could not boot here. Bookworm's containerd 1.6 speaks CRI v1alpha2 to this kubelet as well.
        String base = TAG_PREFIX + "base-bookworm-arm64";
        tags.add(base);
        CliRun baseBuilt = CliRun.of("base-image", "--arch", "arm64", "--debian-suite", "bookworm", "--containerd", "1.6", "--image", base);
        assertEquals(0, baseBuilt.exit(), baseBuilt.err());
        Path archive = work.resolve("node-arm64.tar");
        List<String> args = new ArrayList<>(List.of("node-image", "--type", "source", tree.toString(), "--k8s-version", VERSION,
                "--arch", "arm64", "--builder", "oci", "--base-image", base, "--go-root", goRoot.toString(), "--image", tag,
                "--output", archive.toString()));
        args.addAll(List.of(flags.strip().split("\\s+")));
        CliRun built = CliRun.of(args.toArray(String[]::new));
        assertEquals(0, built.exit(), built.err());

        ImageStore store = ImageStore.defaultLocation();
        ImageContents files = ImageContents.of(store, store.image(store.resolve(tag).orElseThrow()));
        for (String binary : List.of("kubeadm", "kubelet", "kubectl")) {
            assertEquals(Optional.of("arm64"), ArchGuard.elfArch(files.open("/usr/bin/" + binary)), binary);
        }

        Process load = new ProcessBuilder("docker", "load", "-q", "-i", archive.toString()).redirectErrorStream(true).start();
        String loaded = new String(load.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(load.waitFor(5, TimeUnit.MINUTES) && load.exitValue() == 0, loaded);
        assertEquals("arm64", engine.inspectImage(tag).orElseThrow().architecture());
        CliRun verify = CliRun.of("verify", tag, "--offline", "--json");
        assertEquals(0, verify.exit(), verify.out() + verify.err());
        JsonNode report = new ObjectMapper().readTree(verify.out());
        String versions = "";
        for (JsonNode c : report.path("checks")) {
            if (c.path("name").asText().equals("versions")) {
                versions = c.path("detail").asText();
            }
        }
        assertEquals("/kind/version=" + VERSION + ", kubeadm=" + VERSION + ", kubelet=" + VERSION, versions, report.toString());
        assertEquals(12, report.path("checks").size(), report.toString()); // loader, versions, 10 images
        assertEquals(2, report.path("notChecked").size(), report.toString()); // the ctr run and the CRI v1 pod
        assertTrue(report.path("notChecked").path(1).asText().startsWith("CRI v1 pod: "), report.toString());
    }

    // ---- helpers --------------------------------------------------------------------------------------------------

    private NodeImageResult build(KubernetesSource source, String name, Optional<Path> go) {
        String tag = TAG_PREFIX + name;
        tags.add(tag);
        // No --base-image: v1.20's kubelet speaks CRI v1alpha2 only, so the bundled containerd 1.7 base is taken.
        NodeImageRequest request = new NodeImageRequest(source, Optional.of(tag), Optional.empty(),
                engine.facts().architecture(), mirrors, RegistryAccess.defaults(), List.of(), false, false, Optional.empty(),
                go.isPresent() ? Optional.of(VERSION) : Optional.empty(), go);
        return DockerBuilds.run(engine, new RecordingProgress(), request);
    }

    private static ClusterReport verifyCluster(String image) {
        return new ClusterVerifier(engine, new RecordingProgress(), true).run(image);
    }

    /** A kubernetes-server tarball in the release layout, from built artifacts; {@code replace} swaps binaries. */
    static Path releaseTarball(KubernetesArtifacts a, Path out, Map<String, Path> replace) throws IOException {
        Map<String, Path> files = new LinkedHashMap<>();
        for (Map.Entry<String, Path> b : a.binaries().entrySet()) {
            files.put("kubernetes/server/bin/" + b.getKey(), replace.getOrDefault(b.getKey(), b.getValue()));
        }
        for (Path image : a.imageTars()) {
            files.put("kubernetes/server/bin/" + image.getFileName(), image);
        }
        try (OutputStream raw = Files.newOutputStream(out);
                TarArchiveOutputStream tar = new TarArchiveOutputStream(new GzipCompressorOutputStream(raw))) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            byte[] version = (a.version() + "\n").getBytes(StandardCharsets.UTF_8);
            TarArchiveEntry v = new TarArchiveEntry("kubernetes/version");
            v.setSize(version.length);
            tar.putArchiveEntry(v);
            tar.write(version);
            tar.closeArchiveEntry();
            for (Map.Entry<String, Path> f : files.entrySet()) {
                TarArchiveEntry e = new TarArchiveEntry(f.getKey());
                e.setSize(Files.size(f.getValue()));
                e.setMode(f.getKey().endsWith(".tar") ? 0100644 : 0100755);
                tar.putArchiveEntry(e);
                Files.copy(f.getValue(), tar);
                tar.closeArchiveEntry();
            }
        }
        return out;
    }

    private static Check check(ClusterReport report, String name) {
        return report.checks().stream().filter(c -> c.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no check " + name + ": " + describe(report)));
    }

    private static String describe(ClusterReport report) {
        return report.checks().stream().map(c -> (c.ok() ? "ok " : "FAIL ") + c.name() + ": " + c.detail())
                .collect(Collectors.joining("\n")) + "\n" + report.seconds();
    }
}
