package dev.kindbuild.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kindbuild.progress.Progress;
import dev.kindbuild.testing.LocalRegistry;
import dev.kindbuild.sample.SampleImages;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node's way of loading images: {@code ctr -n k8s.io images import --no-unpack FILE} into containerd (1.6 on this
 * host), run as a private daemon with its own root, state and socket. Needs root and the containerd/ctr binaries;
 * skipped otherwise.
 */
class ContainerdImportTest {

    @RegisterExtension
    static final LocalRegistry REGISTRY = new LocalRegistry();

    @TempDir
    Path tmp;

    @Test
    void jibTarballsImportUnderTheOriginalNameAndRun() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/containerd")) && Files.isExecutable(Path.of("/usr/bin/ctr")),
                "needs containerd and ctr");
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")), "needs root to run containerd");
        Assumptions.assumeTrue(System.getProperty("os.arch").matches("amd64|x86_64"), "runs the amd64 sample");

        SampleImages samples = new SampleImages(RegistryAccess.defaults(), Progress.SILENT);
        samples.push(ImageRef.parse(REGISTRY.host() + "/pause:3.10"), "amd64");
        samples.push(ImageRef.parse(REGISTRY.host() + "/kindest/kindnetd:v1"), "amd64");
        ImagePuller puller = new ImagePuller(RegistryAccess.defaults(),
                RegistryMirrors.parse(List.of("registry.k8s.io=" + REGISTRY.host(), "docker.io=" + REGISTRY.host())),
                ImageCache.at(tmp.resolve("cache")), false, Progress.SILENT);
        PulledImage pause = puller.pull(ImageRef.parse("registry.k8s.io/pause:3.10"), "amd64", tmp.resolve("images"));
        PulledImage kindnetd = puller.pull(ImageRef.parse("docker.io/kindest/kindnetd:v1"), "amd64", tmp.resolve("images"));

        Path dir = Files.createTempDirectory(Path.of("/tmp"), "kbctd");
        Path sock = dir.resolve("c.sock");
        Files.writeString(dir.resolve("config.toml"), "version = 2\nroot = \"" + dir.resolve("root") + "\"\nstate = \""
                + dir.resolve("state") + "\"\n[grpc]\n  address = \"" + sock + "\"\n");
        Process containerd = new ProcessBuilder("containerd", "--config", dir.resolve("config.toml").toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("containerd.log").toFile()).start();
        try {
            for (int i = 0; i < 100 && !Files.exists(sock); i++) {
                Thread.sleep(100);
            }
            assertTrue(Files.exists(sock), "containerd started");
            String ctr = "ctr -a " + sock + " -n k8s.io ";
            for (PulledImage p : List.of(pause, kindnetd)) {
                Result r = run(ctr + "images import --no-unpack " + p.tarball());
                assertEquals(0, r.exit, r.out);
            }
            Result ls = run(ctr + "images ls -q");
            List<String> names = ls.out.lines().toList();
            assertTrue(names.contains("registry.k8s.io/pause:3.10"), ls.out);
            assertTrue(names.contains("docker.io/kindest/kindnetd:v1"), ls.out);
            assertTrue(names.stream().noneMatch(n -> n.contains("127.0.0.1")), "never the mirror's name: " + ls.out);

            if (Files.isExecutable(Path.of("/usr/sbin/runc")) || Files.isExecutable(Path.of("/usr/bin/runc"))) {
                assertEquals(0, run(ctr + "images import " + pause.tarball()).exit); // unpack for running
                Process task = new ProcessBuilder(List.of("ctr", "-a", sock.toString(), "-n", "k8s.io", "run", "--rm",
                        "registry.k8s.io/pause:3.10", "kbtest")).redirectErrorStream(true).start();
                String line = new java.io.BufferedReader(new java.io.InputStreamReader(task.getInputStream(),
                        StandardCharsets.UTF_8)).readLine();
                assertTrue(line != null && line.contains("waiting for SIGTERM"), String.valueOf(line));
                assertEquals(0, run(ctr + "task kill -s SIGTERM kbtest").exit);
                assertTrue(task.waitFor(20, TimeUnit.SECONDS));
                assertEquals(0, task.exitValue(), "the sample exits 0 on SIGTERM under containerd");
            }
        } finally {
            containerd.destroy();
            if (!containerd.waitFor(15, TimeUnit.SECONDS)) {
                containerd.destroyForcibly();
            }
            run("umount -R " + dir.resolve("root")); // harmless when nothing is mounted
            run("rm -rf " + dir);
        }
    }

    record Result(int exit, String out) {}

    static Result run(String command) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(command.split(" ")));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return new Result(-1, out);
        }
        return new Result(p.exitValue(), out);
    }
}
