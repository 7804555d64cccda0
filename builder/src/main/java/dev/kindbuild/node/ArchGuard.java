package dev.kindbuild.node;

import dev.kindbuild.UserError;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * Refuses a node image whose parts disagree on the architecture: the base's userland, the Kubernetes binaries and
 * the images baked in must all be the target's. Images say it in their config; programs in their ELF header
 * ({@code e_machine}). A script has no architecture and passes.
 */
public final class ArchGuard {
    /** e_machine values of the architectures kind-build builds for. */
    private static final Map<Integer, String> MACHINES = Map.of(0x3e, "amd64", 0xb7, "arm64", 0x03, "386", 0x28, "arm",
            0x15, "ppc64le", 0x16, "s390x", 0xf3, "riscv64");

    /** Base files whose ELF header tells the userland's architecture; the first one present is read. */
    public static final java.util.List<String> USERLAND_PROBES = java.util.List.of("/usr/local/bin/containerd", "/usr/bin/containerd",
            "/usr/lib/systemd/systemd",
            "/usr/bin/bash", "/bin/bash");

    private ArchGuard() {}

    /** The architecture of an ELF program, empty when {@code header} is not one (a script, a data file). */
    public static Optional<String> elfArch(byte[] header) {
        if (header.length < 20 || header[0] != 0x7f || header[1] != 'E' || header[2] != 'L' || header[3] != 'F') {
            return Optional.empty();
        }
        boolean littleEndian = header[5] == 1;
        int machine = littleEndian ? (header[18] & 0xff) | (header[19] & 0xff) << 8 : (header[19] & 0xff) | (header[18] & 0xff) << 8;
        return Optional.of(MACHINES.getOrDefault(machine, "e_machine 0x" + Integer.toHexString(machine)));
    }

    /** As {@link #elfArch(byte[])} for the first bytes of a stream (which is closed). */
    public static Optional<String> elfArch(InputStream in) throws IOException {
        try (in) {
            return elfArch(in.readNBytes(20));
        }
    }

    /** Fails with one line when the program {@code what} (at {@code file}) is an ELF binary of another architecture. */
    public static void checkBinary(String what, Path file, String arch) {
        Optional<String> found;
        try {
            found = elfArch(Files.newInputStream(file));
        } catch (IOException e) {
            throw new UserError("cannot read " + what + " (" + file + "): " + e.getMessage(), e);
        }
        found.filter(a -> !a.equals(arch)).ifPresent(a -> {
            throw mismatch(what, a, arch);
        });
    }

    /** Fails with one line when {@code what}'s architecture (from an image config or ELF header) is not {@code arch}. */
    public static void check(String what, String found, String arch) {
        if (!found.isEmpty() && !found.equals(arch)) {
            throw mismatch(what, found, arch);
        }
    }

    private static UserError mismatch(String what, String found, String arch) {
        return new UserError(what + " is " + found + ", but this node image is for " + arch
                + ": every part of a node (base userland, Kubernetes binaries, images) must be " + arch
                + "; give the " + arch + " one");
    }
}
