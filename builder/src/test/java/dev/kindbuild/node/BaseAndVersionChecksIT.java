package dev.kindbuild.node;

import dev.kindbuild.testing.DockerBuilds;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kindbuild.UserError;
import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.image.registry.RegistryAccess;
import dev.kindbuild.image.registry.RegistryMirrors;
import dev.kindbuild.kube.KubernetesSource;
import dev.kindbuild.kube.ReleaseTarball;
import dev.kindbuild.lifecycle.TempPaths;
import dev.kindbuild.sample.SampleRelease;
import dev.kindbuild.testing.Leaks;
import dev.kindbuild.testing.RecordingProgress;
import dev.kindbuild.testing.TestBaseImage;
import dev.kindbuild.testing.TestCache;
import dev.kindbuild.testing.TestEngine;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Builds that would have produced a wrong image with exit 0 are refused, in the real engine, before any pull: a base
 * image of another architecture, an image that is no base image, binaries whose versions disagree. Each leaves no
 * container and no tag.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BaseAndVersionChecksIT {
    private static final String V = "v1.31.2";
    private static final String TAG = "kind-build-test/checks-it:" + Leaks.PID;

    private DockerEngine engine;
    private String arch;
    private String base;
    private TestCache cache;
    private Path tmp;

    @BeforeAll
    void setUp() throws IOException {
        engine = TestEngine.connect();
        arch = engine.facts().architecture();
        base = TestBaseImage.get(engine, false, new RecordingProgress()).image();
        cache = TestCache.create();
        tmp = Files.createTempDirectory("kind-build-it-checks-");
    }

    @AfterAll
    void tearDown() {
        if (engine != null) {
            engine.removeImage(TAG);
            engine.close();
        }
        if (cache != null) {
            cache.close();
        }
        TempPaths.deleteTree(tmp);
    }

    /** A binaries directory: kubeadm from {@code kubeadmVersion}, the rest and the version file from {@code version}. */
    private Path binaries(String name, String version, String kubeadmVersion) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve(name));
        ReleaseTarball.Contents main = unpacked(version);
        for (Path p : main.binaries().values()) {
            Files.copy(p, dir.resolve(p.getFileName()), StandardCopyOption.COPY_ATTRIBUTES, StandardCopyOption.REPLACE_EXISTING);
        }
        Path kubeadm = unpacked(kubeadmVersion).binaries().get("kubeadm");
        Files.copy(kubeadm, dir.resolve("kubeadm"), StandardCopyOption.COPY_ATTRIBUTES, StandardCopyOption.REPLACE_EXISTING);
        Files.writeString(dir.resolve("version"), version + "\n");
        return dir;
    }

    private ReleaseTarball.Contents unpacked(String version) throws IOException {
        Path out = Files.createTempDirectory(tmp, "release-" + version + "-");
        SampleRelease.Written w = SampleRelease.write(out.resolve("tarball"), version, arch);
        return ReleaseTarball.extract(w.tarball(), out.resolve("kubernetes"), w.tarball().toString());
    }

    private UserError buildFails(Path dir, Optional<String> baseImage, String forArch) {
        NodeImageRequest request = new NodeImageRequest(KubernetesSource.detect(dir.toString(), Optional.of("dir"), null),
                Optional.of(TAG), baseImage, forArch, RegistryMirrors.parse(List.of()), RegistryAccess.defaults(), List.of(),
                false, false, Optional.empty());
        UserError e = assertThrows(UserError.class, () -> DockerBuilds.run(engine, new RecordingProgress(), request));
        assertTrue(engine.inspectImage(TAG).isEmpty(), TAG + " was tagged");
        Leaks.assertNoContainers(engine);
        return e;
    }

    @Test
    void kubeadmOfAnotherVersionFailsTheBuild() throws IOException {
        UserError e = buildFails(binaries("mixed", V, "v1.30.0"), Optional.of(base), arch);
        assertEquals("the Kubernetes binaries disagree with the version " + V + " they came with (kubeadm reports v1.30.0): "
                + "use kubeadm, kubelet and kubectl from one build of " + V, e.getMessage());
    }

    @Test
    void aBaseImageOfAnotherArchitectureIsRefused() throws IOException {
        String other = arch.equals("amd64") ? "arm64" : "amd64";
        UserError e = assertThrows(UserError.class, () -> EnsureBaseImage.run(engine, Optional.of(base), other, new RecordingProgress()));
        assertTrue(e.getMessage().startsWith("--base-image " + base + " is a linux/" + arch + " image, but the node image is for linux/" + other),
                e.getMessage());
    }

    @Test
    void aPlainDebianImageIsNotABaseImage() throws IOException {
        String plain = List.of("kind-build/debian-bootstrap:" + dev.kindbuild.base.BaseImageRequest.DEFAULT_SUITE + "-" + arch, dev.kindbuild.base.BaseImageRequest.DEFAULT_FROM).stream()
                .filter(ref -> engine.inspectImage(ref).isPresent()).findFirst()
                .orElseThrow(() -> new AssertionError("the test base image was built from neither Debian image"));
        UserError e = buildFails(binaries("plain", V, V), Optional.of(plain), arch);
        assertTrue(e.getMessage().startsWith("--base-image " + plain + " is not a kind base image (it has no /sbin/init"),
                e.getMessage());
    }
}
