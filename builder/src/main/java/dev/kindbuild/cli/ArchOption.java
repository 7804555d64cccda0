package dev.kindbuild.cli;

import dev.kindbuild.UserError;
import dev.kindbuild.base.BaseImageRequest;
import dev.kindbuild.engine.DockerEngine;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.Option;

/** --arch: one architecture, or a comma-separated list for a multi-arch image (an OCI index over one image per arch). */
final class ArchOption {

    @Option(names = "--arch", paramLabel = "ARCH[,ARCH]", description = "amd64, arm64, or both as amd64,arm64 (an OCI index); default: the engine's.")
    String arch;

    /** Fails with one line on an unknown or repeated architecture. */
    void validate() {
        if (arch != null) {
            arches();
        }
    }

    /** The architectures asked for, in order; empty when --arch was not given. */
    List<String> arches() {
        if (arch == null) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        for (String a : arch.split(",", -1)) {
            String name = a.strip();
            BaseImageRequest.checkArch(name);
            if (out.contains(name)) {
                throw new UserError("--arch " + arch + " names " + name + " twice");
            }
            out.add(name);
        }
        return List.copyOf(out);
    }

    /** For commands that make one image: a list is refused with one line. */
    void requireSingle(String command) {
        if (arches().size() > 1) {
            throw new UserError(command + " works on one architecture at a time: give --arch " + arches().get(0) + " (not " + arch + ")");
        }
    }

    boolean multiple() {
        return arches().size() > 1;
    }

    /** The architecture asked for, else the engine's when one answers, else this host's. */
    String resolve(Optional<DockerEngine> engine) {
        return arch != null ? arches().get(0)
                : engine.map(e -> e.facts().architecture()).orElse(DockerEngine.normalizeArch(System.getProperty("os.arch")));
    }

    /** The architecture asked for, or the engine's. */
    String resolve(DockerEngine engine) {
        return arch != null ? arches().get(0) : engine.facts().architecture();
    }
}
