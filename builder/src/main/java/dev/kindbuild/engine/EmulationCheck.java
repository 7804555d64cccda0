package dev.kindbuild.engine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Whether the kernel can run another architecture's binaries (binfmt_misc with a qemu handler registered). */
public final class EmulationCheck {
    private EmulationCheck() {}

    /** Whether programs built for {@code arch} (Go/OCI name) run on this kernel. */
    public static boolean canRun(String arch) {
        String handler = switch (arch) {
            case "arm64" -> "qemu-aarch64";
            case "amd64" -> "qemu-x86_64";
            default -> "qemu-" + arch;
        };
        try {
            // A handler can be registered but disabled (its file then starts with "disabled").
            return Files.readString(Path.of("/proc/sys/fs/binfmt_misc", handler)).startsWith("enabled");
        } catch (IOException e) {
            return false;
        }
    }
}
