package dev.kindbuild.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kindbuild.UserError;
import dev.kindbuild.image.DockerArchive;
import dev.kindbuild.image.ImageCache;
import dev.kindbuild.image.ImagePuller;
import dev.kindbuild.image.ImageRef;
import dev.kindbuild.image.PulledImage;
import dev.kindbuild.image.RegistryAccess;
import dev.kindbuild.image.RegistryMirrors;
import dev.kindbuild.progress.Progress;
import dev.kindbuild.sample.SampleImages;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Pushes docker-archives back to a scratch loopback registry and compares digests; sample images' determinism. */
class RegistryPusherTest {

    @RegisterExtension
    static final LocalRegistry REGISTRY = new LocalRegistry();

    @TempDir
    Path tmp;

    final RegistryAccess access = RegistryAccess.defaults();

    @Test
    void sampleImagesAreDeterministic() {
        SampleImages samples = new SampleImages(access, Progress.SILENT);
        ImageRef a = ImageRef.parse(REGISTRY.host() + "/det/pause:3.10");
        String first = samples.push(a, "amd64").digest();
        assertEquals(first, samples.push(a, "amd64").digest());
        assertFalse(first.equals(samples.push(a, "arm64").digest()), "arm64 differs from amd64");
        List<SampleImages.Pushed> all = samples.pushAll(List.of(a, ImageRef.parse(REGISTRY.host() + "/det/etcd:3.5.15-0")), "amd64");
        assertEquals(first, all.get(0).digest());
    }

    @Test
    void pulledArchivePushesBackToTheSameDigest() throws Exception {
        SampleImages samples = new SampleImages(access, Progress.SILENT);
        String original = samples.push(ImageRef.parse(REGISTRY.host() + "/rt/coredns:v1.11.3"), "amd64").digest();
        ImagePuller puller = new ImagePuller(access, RegistryMirrors.parse(List.of("registry.k8s.io=" + REGISTRY.host() + "/rt")),
                ImageCache.at(tmp.resolve("cache")), false, Progress.SILENT);
        PulledImage pulled = puller.pull(ImageRef.parse("registry.k8s.io/coredns:v1.11.3"), "amd64", tmp);

        ImageRef target = ImageRef.parse(REGISTRY.host() + "/pushed/coredns:copy");
        String pushed = new RegistryPusher(access, Progress.SILENT).push(pulled.tarball(), target);

        assertEquals(original, pushed);
        JsonNode inspected = skopeo("docker://" + target);
        if (inspected != null) {
            assertEquals(pushed, inspected.path("Digest").asText());
            assertEquals("amd64", inspected.path("Architecture").asText());
        }
    }

    @Test
    void dockerSavedImagePushesAndRunsInDocker() throws Exception {
        Assumptions.assumeTrue(docker("version").exit == 0, "needs a Docker engine");
        Assumptions.assumeTrue(System.getProperty("os.arch").matches("amd64|x86_64"), "needs an x86-64 host");
        // A rootfs with the sample program, imported into Docker with an entrypoint, then docker save'd.
        Path rootfs = tmp.resolve("rootfs.tar");
        byte[] program = SampleImages.program("amd64", "hello from docker");
        try (OutputStream o = Files.newOutputStream(rootfs); TarArchiveOutputStream t = new TarArchiveOutputStream(o)) {
            TarArchiveEntry e = new TarArchiveEntry("pause");
            e.setMode(0100755);
            e.setSize(program.length);
            e.setModTime(FileTime.fromMillis(0));
            t.putArchiveEntry(e);
            t.write(program);
            t.closeArchiveEntry();
        }
        String tag = "kind-build-test/pusher:" + ProcessHandle.current().pid();
        try {
            assertEquals(0, docker("import", "--change", "ENTRYPOINT [\"/pause\"]", rootfs.toString(), tag).exit);
            Run run = docker("run", "--rm", "-d", tag);
            assertEquals(0, run.exit, run.out);
            String id = run.out.strip();
            Thread.sleep(500);
            assertTrue(docker("logs", id).out.contains("hello from docker"));
            docker("stop", "-t", "5", id);
            Path saved = tmp.resolve("saved.tar");
            assertEquals(0, docker("save", "-o", saved.toString(), tag).exit);

            ImageRef target = ImageRef.parse(REGISTRY.host() + "/saved/pause:1");
            String digest = new RegistryPusher(access, Progress.SILENT).push(saved, target);
            assertTrue(digest.startsWith("sha256:"));
            JsonNode inspected = skopeo("docker://" + target);
            if (inspected != null) {
                assertEquals(digest, inspected.path("Digest").asText());
                JsonNode config = skopeo("--config", "docker://" + target);
                assertEquals("/pause", config.path("config").path("Entrypoint").path(0).asText());
                JsonNode local = new ObjectMapper().readTree(docker("image", "inspect", tag).out).get(0);
                assertEquals(java.time.Instant.parse(local.path("Created").asText()),
                        java.time.Instant.parse(config.path("created").asText()), "creation time carried over");
            }
            // and back: pulled through a mirror, it is the same image
            ImagePuller puller = new ImagePuller(access, RegistryMirrors.parse(List.of("docker.io=" + REGISTRY.host())),
                    ImageCache.at(tmp.resolve("cache")), false, Progress.SILENT);
            PulledImage p = puller.pull(ImageRef.parse("docker.io/saved/pause:1"), "amd64", tmp);
            assertEquals(digest, p.digest());
            assertEquals(List.of("docker.io/saved/pause:1"), DockerArchive.repoTags(p.tarball()));
        } finally {
            docker("rmi", "-f", tag);
        }
    }

    @Test
    void unreachableOrInsecureTargetsAreOneLineErrors() throws Exception {
        SampleImages samples = new SampleImages(access, Progress.SILENT);
        samples.push(ImageRef.parse(REGISTRY.host() + "/x/pause:1"), "amd64");
        ImagePuller puller = new ImagePuller(access, RegistryMirrors.NONE, ImageCache.at(tmp.resolve("c")), false, Progress.SILENT);
        Path tar = puller.pull(ImageRef.parse(REGISTRY.host() + "/x/pause:1"), "amd64", tmp).tarball();
        RegistryPusher pusher = new RegistryPusher(access, Progress.SILENT);
        UserError e = assertThrows(UserError.class, () -> pusher.push(tar, ImageRef.parse("127.0.0.1:9/x/pause:1")));
        assertTrue(e.getMessage().contains("127.0.0.1:9/x/pause:1") && !e.getMessage().contains("\n"), e.getMessage());
        UserError missing = assertThrows(UserError.class, () -> pusher.push(tmp.resolve("nope.tar"), ImageRef.parse(REGISTRY.host() + "/x:1")));
        assertTrue(missing.getMessage().contains("nope.tar"));
    }

    record Run(int exit, String out) {}

    static Run docker(String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("docker"));
        cmd.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Run(-1, out);
            }
            return new Run(p.exitValue(), out);
        } catch (java.io.IOException e) {
            return new Run(-1, e.getMessage());
        }
    }

    static JsonNode skopeo(String... args) throws Exception {
        if (!Files.isExecutable(Path.of("/usr/bin/skopeo"))) {
            return null;
        }
        List<String> cmd = new java.util.ArrayList<>(List.of("skopeo", "inspect", "--tls-verify=false"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        return new ObjectMapper().readTree(out);
    }
}
