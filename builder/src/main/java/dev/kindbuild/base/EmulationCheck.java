package dev.kindbuild.base;

import java.nio.file.Files;
import java.nio.file.Path;

/** Whether the kernel can run another architecture's binaries (binfmt_misc with a qemu handler registered). */
final class EmulationCheck {
    private EmulationCheck() {}

    static boolean canRun(String arch) {
        String handler = switch (arch) {
            case "arm64" -> "qemu-aarch64";
            case "amd64" -> "qemu-x86_64";
            default -> "qemu-" + arch;
        };
        return Files.exists(Path.of("/proc/sys/fs/binfmt_misc", handler));
    }
}
