package dev.kindbuild.debian;

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
 * A Debian root filesystem with extra packages, as a tar made by mmdebstrap from Debian's package mirror (package
 * integrity comes from apt's signed Release files) and kept in the cache by what went into it. kube-proxy's image is
 * built on one (it runs iptables, conntrack and ipset), and so is kind-build's own image (a JRE).
 */
public final class DebianRoot {
    private DebianRoot() {}

    /** How much of Debian the root holds. */
    public enum Variant {
        /** Essential packages, apt and the ones asked for, installed: maintainer scripts run (in emulation for a foreign arch). */
        MINBASE("minbase"),
        /**
         * Only the packages asked for and their dependencies, unpacked: no maintainer script runs, so any architecture is
         * made without emulation; what those scripts would have made (links, keystores, users) is the caller's to add.
         */
        EXTRACT("extract");

        private final String option;

        Variant(String option) {
            this.option = option;
        }
    }

    /** What a root is made of. */
    public record Spec(String suite, Variant variant, String arch, List<String> packages) {
        public Spec {
            packages = List.copyOf(packages);
        }

        String describe() {
            return "Debian " + suite + " " + arch + " root with " + String.join(", ", packages);
        }
    }

    /** The cached root for {@code spec}, made on first use. */
    public static Path obtain(Path cacheDir, Spec spec, String mirror, Progress progress) {
        if (mirror == null || mirror.isBlank()) {
            throw new UserError("a " + spec.describe() + " is needed, but this machine's apt sources name no Debian mirror:"
                    + " add one to /etc/apt/sources.list.d");
        }
        Path tar = cachedPath(cacheDir, spec, mirror);
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
            List<String> command = new ArrayList<>(List.of("mmdebstrap", "--variant=" + spec.variant().option, "--arch=" + spec.arch(),
                    "--include=" + String.join(",", spec.packages()), "--format=tar", spec.suite(), partial.toString(), mirror));
            progress.detail("running: " + String.join(" ", command));
            ProcessBuilder builder = new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(errLog.toFile());
            // mmdebstrap's own convention: the tar's times come from here, not from the clock.
            builder.environment().put("SOURCE_DATE_EPOCH", "0");
            Process p;
            try {
                p = builder.start();
            } catch (IOException e) {
                throw new UserError("mmdebstrap is needed to make a " + spec.describe() + " but cannot run: " + e.getMessage()
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
                throw new UserError("mmdebstrap could not make a " + spec.describe() + " from " + mirror + ": " + reason.strip());
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
    public static Path cachedPath(Path cacheDir, Spec spec, String mirror) {
        String key = Sha256.of(String.join("\n", spec.suite(), spec.variant().option, spec.arch(), mirror, String.join(",", spec.packages()))
                .getBytes(StandardCharsets.UTF_8)).substring(0, 16);
        return cacheDir.resolve("debian-roots").resolve(spec.suite() + "-" + spec.variant().option + "-" + spec.arch() + "-" + key + ".tar");
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
