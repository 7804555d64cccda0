package dev.kindbuild.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real-size release has the sizes it claims and its stand-ins still answer. An IT: it writes and reads back ~350 MB
 * (~25 s on two cores), too slow for the unit tests. (Its determinism follows from its parts': BinaryLikeBytesTest,
 * SampleReleaseTest, and the reproducible parallel gzip; comparing two copies would double the time.)
 */
class SampleRealSizeIT {
    @TempDir
    Path tmp;

    private static void within10Percent(long actual, long claimed, String what) {
        assertTrue(Math.abs(actual - claimed) <= claimed / 10, what + ": " + actual + " bytes, claimed " + claimed);
    }

    @Test
    void realSizeReleaseHasTheRealSizesAndWorkingStandIns() throws Exception {
        SampleRelease.Written w = SampleRelease.write(tmp, "v1.31.2", "amd64", SampleSize.REAL);
        within10Percent(Files.size(w.tarball()), RealSizes.SERVER_TARBALL_GZIPPED, "gzipped tarball");

        Map<String, Long> sizes = new HashMap<>();
        long unpacked = 0;
        Path kubeadm = tmp.resolve("kubeadm");
        try (InputStream in = new BufferedInputStream(Files.newInputStream(w.tarball()), 1 << 16);
             TarArchiveInputStream tar = new TarArchiveInputStream(new GzipCompressorInputStream(in))) {
            for (TarArchiveEntry e; (e = tar.getNextTarEntry()) != null; ) {
                sizes.put(e.getName(), e.getSize());
                unpacked += e.getSize();
                if (e.getName().equals("kubernetes/server/bin/kubeadm")) {
                    Files.copy(tar, kubeadm);
                }
            }
        }
        within10Percent(unpacked, RealSizes.SERVER_TARBALL_UNPACKED, "unpacked tarball");
        for (String name : new String[] {"kubeadm", "kubelet", "kubectl"}) {
            assertEquals(RealSizes.SERVER_BINARIES.get(name), sizes.get("kubernetes/server/bin/" + name), name);
        }
        for (String name : RealSizeRelease.CONTROL_PLANE) {
            long tarSize = sizes.get("kubernetes/server/bin/" + name + ".tar");
            assertTrue(tarSize > RealSizes.SERVER_BINARIES.get(name), name + ".tar holds the binary and base layers: " + tarSize);
        }

        kubeadm.toFile().setExecutable(true);
        Process p = new ProcessBuilder(kubeadm.toString(), "version", "-o", "short").redirectErrorStream(true).start();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals("v1.31.2\n", new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        assertEquals(0, p.exitValue());
    }
}
