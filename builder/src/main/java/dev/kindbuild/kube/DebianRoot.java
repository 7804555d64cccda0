package dev.kindbuild.kube;

import dev.kindbuild.UserError;
import dev.kindbuild.progress.Progress;
import dev.kindbuild.support.Sha256;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A Debian minbase root filesystem with extra packages, as a tar made by mmdebstrap from Debian's package mirror
 * (package integrity comes from apt's signed Release files) and kept in the cache by what went into it. kube-proxy's
 * image is built on one: it runs iptables, conntrack and ipset.
 */
final class DebianRoot {
    static final String SUITE = "bookworm";

    private DebianRoot() {}

    /** The cached root for {@code packages} on {@code arch}, made on first use. */
    static Path obtain(Path cacheDir, String arch, List<String> packages, String mirror, Progress progress) {
        if (mirror == null || mirror.isBlank()) {
            throw new UserError("kube-proxy's image needs a Debian root, but this machine's apt sources name no Debian mirror:"
                    + " add one to /etc/apt/sources.list.d");
        }
        Path tar = cachedPath(cacheDir, arch, packages, mirror);
        Path dir = tar.getParent();
        if (Files.isRegularFile(tar)) {
            progress.detail("reusing Debian root " + tar);
            return tar;
        }
        Path partial = null;
        Path errLog = null;
        try {
            Files.createDirectories(dir);
            partial = Files.createTempFile(dir, ".partial-root-", ".tar");
            errLog = Files.createTempFile(dir, ".partial-root-", ".log");
            List<String> command = new ArrayList<>(List.of("mmdebstrap", "--variant=minbase", "--arch=" + arch,
                    "--include=" + String.join(",", packages), "--format=tar", SUITE, partial.toString(), mirror));
            progress.detail("running: " + String.join(" ", command));
            Process p;
            try {
                p = new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(errLog.toFile()).start();
            } catch (IOException e) {
                throw new UserError("mmdebstrap is needed to make kube-proxy's Debian root but cannot run: " + e.getMessage()
                        + "; install it with scripts/install-deps or apt-get install mmdebstrap");
            }
            try {
                if (!p.waitFor(15, TimeUnit.MINUTES)) {
                    p.destroyForcibly();
                    throw new UserError("mmdebstrap did not finish within 15 minutes; check the mirror " + mirror);
                }
            } catch (InterruptedException e) {
                p.descendants().forEach(ProcessHandle::destroy);
                p.destroyForcibly();
                Thread.currentThread().interrupt();
                throw new UserError("interrupted while making a Debian root", 130, e);
            }
            if (p.exitValue() != 0) {
                List<String> lines = Files.readAllLines(errLog, StandardCharsets.UTF_8);
                String reason = lines.stream().filter(l -> l.startsWith("E: ")).findFirst()
                        .orElse(lines.isEmpty() ? "no output" : lines.get(lines.size() - 1));
                throw new UserError("mmdebstrap could not make a Debian " + SUITE + " root with " + String.join(", ", packages)
                        + " from " + mirror + ": " + reason.strip());
            }
            Files.move(partial, tar, StandardCopyOption.ATOMIC_MOVE);
            partial = null;
            return tar;
        } catch (IOException e) {
            throw new UserError("cannot write a Debian root under " + dir + ": " + e.getMessage(), e);
        } finally {
            deleteQuietly(partial);
            deleteQuietly(errLog);
        }
    }

    /** Where the root for these inputs is kept in the cache. */
    static Path cachedPath(Path cacheDir, String arch, List<String> packages, String mirror) {
        String key = Sha256.of(String.join("\n", SUITE, arch, mirror, String.join(",", packages)).getBytes(StandardCharsets.UTF_8))
                .substring(0, 16);
        return cacheDir.resolve("debian-roots").resolve(SUITE + "-" + arch + "-" + key + ".tar");
    }

    private static void deleteQuietly(Path p) {
        if (p != null) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException ignored) {
                // best effort: a partial file in the cache's own directory, swept by the next run's name check
            }
        }
    }
}
