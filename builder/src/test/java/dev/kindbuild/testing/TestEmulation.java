package dev.kindbuild.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * arm64 emulation (qemu-user-static through binfmt_misc) for the multi-arch tests: needed to build the arm64 base
 * image's Debian userland and to run its programs, never for a node-image build — which the tests prove by running
 * that build with the handler unregistered.
 */
public final class TestEmulation {
    private static final Path HANDLER = Path.of("/proc/sys/fs/binfmt_misc/qemu-aarch64");

    private TestEmulation() {}

    public static boolean arm64Registered() {
        return Files.exists(HANDLER);
    }

    /** Aborts the test without emulation, or fails it under CI=true (scripts/test registers it). */
    public static void requireArm64() {
        if (arm64Registered()) {
            return;
        }
        String why = "no arm64 emulation registered (" + HANDLER + "): run scripts/enable-emulation";
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            throw new IllegalStateException("CI=true and " + why);
        }
        Assumptions.abort(why);
    }

    /** Runs {@code work} with the arm64 handler unregistered from the kernel, registering it again afterwards. */
    public static <T> T withoutArm64(Callable<T> work) throws Exception {
        binfmts("--disable");
        try {
            if (arm64Registered()) {
                throw new IllegalStateException("update-binfmts --disable qemu-aarch64 left " + HANDLER + " registered");
            }
            return work.call();
        } finally {
            binfmts("--enable");
        }
    }

    private static void binfmts(String action) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("update-binfmts", action, "qemu-aarch64").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("update-binfmts " + action + " qemu-aarch64 failed: " + out);
        }
    }
}
