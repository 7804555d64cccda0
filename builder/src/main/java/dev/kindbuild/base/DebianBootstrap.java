package dev.kindbuild.base;

import dev.kindbuild.UserError;
import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.engine.Labels;
import dev.kindbuild.progress.Progress;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Makes a Debian root image without any registry: mmdebstrap writes a minbase root filesystem from Debian's package
 * mirror as a tar on stdout, which streams straight into the engine's image import. Package integrity comes from
 * apt's signed Release files, so a plain-HTTP mirror is safe here.
 */
final class DebianBootstrap {
    private static final Pattern DEBIAN_REF = Pattern.compile("(?:docker\\.io/)?(?:library/)?debian:([a-z]+)(?:-slim)?");

    private DebianBootstrap() {}

    /** The Debian suite named by a FROM reference like debian:bookworm-slim, if it is one. */
    static Optional<String> suiteOf(String fromImage) {
        Matcher m = DEBIAN_REF.matcher(fromImage);
        return m.matches() ? Optional.of(m.group(1)) : Optional.empty();
    }

    /** The local name a bootstrapped root gets; distinct from Docker Hub's so nobody mistakes one for the other. */
    static String localName(String suite, String arch) {
        return "kind-build/debian-bootstrap:" + suite + "-" + arch;
    }

    /** Runs mmdebstrap and imports its output; returns the image reference. */
    static String bootstrap(DockerEngine engine, String suite, String arch, String mirror, Progress progress) {
        String ref = localName(suite, arch);
        if (mirror.isEmpty()) {
            throw new UserError("cannot pull the FROM image, and no Debian mirror is configured in this machine's apt "
                    + "sources (/etc/apt/sources.list*) to bootstrap " + suite + " from: pass --debian-mirror URL");
        }
        // Not --quiet: apt's own reason ("Could not connect to …") is only printed in the normal output.
        List<String> command = new ArrayList<>(List.of("mmdebstrap", "--variant=minbase", "--arch=" + arch,
                suite, "-", mirror));
        progress.detail("running: " + String.join(" ", command));
        Path errLog;
        Process process;
        try {
            errLog = Files.createTempFile("kind-build-mmdebstrap", ".log");
            process = new ProcessBuilder(command).redirectError(errLog.toFile()).start();
        } catch (IOException e) {
            throw new UserError("mmdebstrap is needed to bootstrap " + suite + " (the FROM image could not be pulled) but cannot run: "
                    + e.getMessage() + "; install it with scripts/install-deps or apt-get install mmdebstrap");
        }
        try (InputStream rootfs = process.getInputStream()) {
            RuntimeException importFailure = null;
            try {
                engine.importRootfs(rootfs, ref, List.of("LABEL " + Labels.IMAGE_KIND + "=debian-bootstrap",
                        "CMD [\"bash\"]"));
            } catch (RuntimeException e) {
                importFailure = e;
            }
            if (!process.waitFor(10, TimeUnit.MINUTES)) {
                process.destroyForcibly();
                throw new UserError("mmdebstrap did not finish within 10 minutes; check the mirror " + mirror);
            }
            if (process.exitValue() != 0) {
                engine.removeImage(ref);
                throw new UserError("mmdebstrap could not bootstrap Debian " + suite + " from " + mirror + ": "
                        + reason(errLog) + "; check the mirror is reachable or pass --debian-mirror");
            }
            if (importFailure != null) {
                throw new UserError("the engine could not import the bootstrapped root: " + DockerEngine.rootMessage(importFailure), importFailure);
            }
            if (!arch.equals(engine.facts().architecture())) {
                ForeignArchLabel.apply(engine, ref, arch, dev.kindbuild.image.store.ImageStore.defaultLocation());
            }
            return ref;
        } catch (IOException e) {
            throw new UserError("reading mmdebstrap output failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new UserError("interrupted while bootstrapping Debian");
        } finally {
            try {
                Files.deleteIfExists(errLog);
            } catch (IOException ignored) {
                // a temp log; nothing to do
            }
        }
    }

    /** The most telling line of mmdebstrap's log: apt's first "E:" line, else the last line. */
    static String reason(Path log) throws IOException {
        List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8).stream().map(String::strip)
                .filter(l -> !l.isEmpty()).toList();
        return lines.stream().filter(l -> l.startsWith("E: ")).findFirst().map(l -> l.substring(3).replaceAll("\\s+", " "))
                .orElse(lines.isEmpty() ? "no output" : lines.get(lines.size() - 1));
    }
}
