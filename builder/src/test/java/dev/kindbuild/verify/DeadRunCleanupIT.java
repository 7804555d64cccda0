package dev.kindbuild.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.engine.Labels;
import dev.kindbuild.lifecycle.TempPaths;
import dev.kindbuild.node.NodeLayout;
import dev.kindbuild.testing.RecordingProgress;
import dev.kindbuild.testing.TestBaseImage;
import dev.kindbuild.testing.TestEngine;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * A {@code verify --cluster} killed with SIGKILL, then {@code kind-build cleanup}, both real kind-build processes on
 * the real engine and the real host sysctls. The node image is the test base image with stand-ins for what a cluster
 * would run: a kubeadm that starts kubelet and then waits, and a kubelet that sets the host's kernel tunables as
 * kubelet's container manager does at start. So the run goes through the real steps (record, internal network, node
 * boot, loader, kubeadm init) and is killed once its kubelet changed the host. Cleanup must then remove the node and
 * the network, and put the sysctls back; networks kind-build did not create, or whose run is alive, stay. Whatever
 * happens, the test puts the host's sysctls back itself.
 */
class DeadRunCleanupIT {
    private static final String FAKE_KUBELET = """
            #!/bin/sh
            # Stand-in for kubelet: what its container manager does to the host at start (setupKernelTunables).
            set_if() { [ "$(cat /proc/sys/$1)" = "$2" ] || echo "$2" > /proc/sys/$1; }
            set_if vm/overcommit_memory 1
            set_if vm/panic_on_oom 0
            set_if kernel/panic 10
            set_if kernel/panic_on_oops 1
            set_if kernel/keys/root_maxkeys 1000000
            set_if kernel/keys/root_maxbytes 25000000
            exec sleep infinity
            """;
    private static final String FAKE_KUBEADM = """
            #!/bin/sh
            # Stand-in for kubeadm init: writes kubelet's config, starts it, then waits for a control plane.
            mkdir -p /var/lib/kubelet
            echo 'kind: KubeletConfiguration' > /var/lib/kubelet/config.yaml
            systemctl start kubelet
            exec sleep 600
            """;
    private static final String LOADER = """
            [Unit]
            Description=stand-in image loader: nothing to load
            [Service]
            Type=oneshot
            RemainAfterExit=yes
            ExecStart=/bin/true
            [Install]
            WantedBy=multi-user.target
            """;
    private static final String DOCKERFILE = """
            FROM %s
            COPY kubelet kubeadm /usr/bin/
            COPY version /kind/version
            COPY %s /etc/systemd/system/
            RUN systemctl enable %s
            """;

    /** The two the issue names: with their values before the test, and kubelet's. */
    private static final List<String> WATCHED = List.of("vm/overcommit_memory", "kernel/panic_on_oops");

    @Test
    void cleanupAfterAKilledVerifyClusterRemovesItsNetworkAndPutsTheHostSysctlsBack() throws Exception {
        requireWritableSysctls();
        Map<String, String> original = readSysctls();
        Path tmp = Files.createTempDirectory("kind-build-dead-run-");
        String tag = "kind-build-test/fake-node:" + ProcessHandle.current().pid();
        String foreignNetwork = "kind-build-test-foreign-" + ProcessHandle.current().pid();
        String liveNetworkName = "kind-build-test-live-" + ProcessHandle.current().pid();
        Process verify = null;
        String childPid = null;
        try (DockerEngine engine = TestEngine.connect()) {
            // Values kubelet would change, so that a change and its undoing can be seen.
            for (String key : WATCHED) {
                writeSysctl(key, "0");
            }
            Map<String, String> before = readSysctls();
            String base = TestBaseImage.get(engine, false, new RecordingProgress()).image();
            engine.build(new ByteArrayInputStream(fakeNodeContext(base)), Map.of(), Map.of(NodeLayout.LABEL_K8S_VERSION, "v1.31.2"),
                    tag, false, line -> {});
            // Networks cleanup must not touch: one kind-build did not create, one of a run that is alive (this JVM).
            docker("network", "create", foreignNetwork);
            String liveNetwork = engine.createNetwork(liveNetworkName, true, Labels.forContainer("test"));

            Path cache = Files.createDirectories(tmp.resolve("cache"));
            Path childTmp = Files.createDirectories(tmp.resolve("tmp"));
            verify = kindBuild(cache, childTmp, "verify", "--cluster", tag).redirectErrorStream(true).start();
            childPid = Long.toString(verify.pid());
            StringBuilder output = collect(verify);

            // Killed once its kubelet changed the host, as a user's kill -9 would catch it.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
            while (!(changedByKubelet() && !engine.networksWithLabel(Labels.PID, childPid).isEmpty())) {
                if (!verify.isAlive() || System.nanoTime() > deadline) {
                    fail("verify --cluster never got its kubelet started (exit " + (verify.isAlive() ? "-" : verify.exitValue())
                            + "):\n" + output);
                }
                Thread.sleep(200);
            }
            List<Path> records = list(cache.resolve("runs"));
            verify.destroyForcibly(); // SIGKILL
            assertTrue(verify.waitFor(30, TimeUnit.SECONDS));
            assertEquals(1, engine.networksWithLabel(Labels.PID, childPid).size(), "the killed run left its network:\n" + output);
            assertEquals(1, engine.containersWithLabel(Labels.PID, childPid).size(), "the killed run left its node:\n" + output);
            assertTrue(changedByKubelet(), "the killed run left the sysctls changed");

            Process cleanup = kindBuild(cache, childTmp, "cleanup").redirectErrorStream(true).start();
            String cleanupOut = new String(cleanup.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(cleanup.waitFor(120, TimeUnit.SECONDS));
            System.out.println("host sysctls at the start: " + original + "\nkilled verify --cluster:\n" + output + "cleanup:\n" + cleanupOut);

            assertEquals(0, cleanup.exitValue(), cleanupOut);
            assertEquals(List.of(), engine.networksWithLabel(Labels.PID, childPid), "the dead run's network must go: " + cleanupOut);
            assertEquals(List.of(), engine.containersWithLabel(Labels.PID, childPid), "the dead run's node must go: " + cleanupOut);
            assertEquals(before, readSysctls(), "the sysctls the dead run's kubelet changed must be put back: " + cleanupOut);
            for (Map.Entry<String, String> e : before.entrySet()) {
                String kubelet = HostSysctls.KUBELET_VALUES.get(e.getKey());
                if (!kubelet.equals(e.getValue())) {
                    String line = e.getKey().replace('/', '.') + " " + kubelet + "→" + e.getValue();
                    assertTrue(cleanupOut.contains(line), "cleanup must say " + line + ": " + cleanupOut);
                }
            }
            assertEquals(1, records.size(), "the run recorded its sysctls before its kubelet changed them: " + records);
            assertEquals(List.of(), list(cache.resolve("runs")), "the record is done with");
            assertTrue(engine.networksWithLabel(Labels.PID, Long.toString(ProcessHandle.current().pid())).contains(liveNetwork),
                    "a live run's network stays");
            assertEquals(0, docker("network", "inspect", foreignNetwork), "a network kind-build did not create stays");
        } finally {
            if (verify != null) {
                verify.destroyForcibly();
            }
            restoreSysctls(original);
            try (DockerEngine engine = DockerEngine.connect()) {
                if (childPid != null) {
                    engine.containersWithLabel(Labels.PID, childPid).forEach(engine::remove);
                    engine.networksWithLabel(Labels.PID, childPid).forEach(engine::removeNetwork);
                }
                engine.removeNetwork(liveNetworkName);
                engine.removeNetwork(foreignNetwork);
                engine.removeImage(tag);
            }
            TempPaths.deleteTree(tmp);
        }
    }

    // ---- the host's sysctls ----

    private static void requireWritableSysctls() {
        Path p = Path.of("/proc/sys", WATCHED.get(0));
        try {
            Files.writeString(p, read(p) + "\n");
        } catch (IOException e) {
            String why = "the host sysctls cannot be written here (" + e.getMessage() + "): run the test as root";
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                fail("CI=true and " + why);
            }
            Assumptions.abort(why);
        }
    }

    private static Map<String, String> readSysctls() throws IOException {
        Map<String, String> values = new LinkedHashMap<>();
        for (String key : HostSysctls.KUBELET_VALUES.keySet().stream().sorted().toList()) {
            Path p = Path.of("/proc/sys", key);
            if (Files.isReadable(p)) {
                values.put(key, read(p));
            }
        }
        return values;
    }

    private static boolean changedByKubelet() throws IOException {
        for (String key : WATCHED) {
            if (!read(Path.of("/proc/sys", key)).equals(HostSysctls.KUBELET_VALUES.get(key))) {
                return false;
            }
        }
        return true;
    }

    /** In one read: from a non-zero offset the kernel's integer handlers return nothing. */
    private static String read(Path sysctl) throws IOException {
        try (var in = Files.newInputStream(sysctl)) {
            return new String(in.readNBytes(4096), StandardCharsets.UTF_8).strip();
        }
    }

    private static void writeSysctl(String key, String value) throws IOException {
        Files.writeString(Path.of("/proc/sys", key), value + "\n");
    }

    /** Puts back every value that differs from {@code original}, whatever failed before. */
    private static void restoreSysctls(Map<String, String> original) {
        original.forEach((key, value) -> {
            try {
                if (!read(Path.of("/proc/sys", key)).equals(value)) {
                    writeSysctl(key, value);
                }
            } catch (IOException e) {
                System.err.println("WARN: could not restore " + key + "=" + value + ": " + e.getMessage());
            }
        });
    }

    // ---- processes ----

    private static ProcessBuilder kindBuild(Path cache, Path tmp, String... args) {
        List<String> command = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "-Dkindbuild.cache=" + cache, "-Djava.io.tmpdir=" + tmp,
                "dev.kindbuild.cli.Main"));
        command.addAll(List.of(args));
        return new ProcessBuilder(command);
    }

    private static StringBuilder collect(Process p) {
        StringBuilder output = new StringBuilder();
        Thread reader = new Thread(() -> {
            try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = out.readLine(); line != null; line = out.readLine()) {
                    synchronized (output) {
                        output.append(line).append('\n');
                    }
                }
            } catch (IOException closed) {
                // the process is gone
            }
        }, "verify-output");
        reader.setDaemon(true);
        reader.start();
        return output;
    }

    private static int docker(String... args) throws IOException, InterruptedException {
        List<String> command = new java.util.ArrayList<>(List.of("docker"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        return p.waitFor(60, TimeUnit.SECONDS) ? p.exitValue() : -1;
    }

    private static List<Path> list(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.toList();
        }
    }

    private static byte[] fakeNodeContext(String base) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            add(tar, "Dockerfile", 0644, DOCKERFILE.formatted(base, NodeLayout.LOADER_UNIT, NodeLayout.LOADER_UNIT));
            add(tar, "kubelet", 0755, FAKE_KUBELET);
            add(tar, "kubeadm", 0755, FAKE_KUBEADM);
            add(tar, "version", 0644, "v1.31.2\n");
            add(tar, NodeLayout.LOADER_UNIT, 0644, LOADER);
        }
        return bytes.toByteArray();
    }

    private static void add(TarArchiveOutputStream tar, String name, int mode, String text) throws IOException {
        byte[] content = text.getBytes(StandardCharsets.UTF_8);
        TarArchiveEntry e = new TarArchiveEntry(name);
        e.setMode(0100000 | mode);
        e.setSize(content.length);
        tar.putArchiveEntry(e);
        tar.write(content);
        tar.closeArchiveEntry();
    }
}
