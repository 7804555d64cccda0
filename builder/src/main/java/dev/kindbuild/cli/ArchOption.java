package dev.kindbuild.cli;

import dev.kindbuild.base.BaseImageRequest;
import dev.kindbuild.engine.DockerEngine;
import picocli.CommandLine.Option;

/** --arch, shared by the commands that build for a platform: validated before anything connects or downloads. */
final class ArchOption {

    @Option(names = "--arch", paramLabel = "ARCH", description = "amd64 or arm64 (default: the engine's).")
    String arch;

    /** Fails with one line on an unknown architecture. */
    void validate() {
        if (arch != null) {
            BaseImageRequest.checkArch(arch);
        }
    }

    /** The architecture asked for, else the engine's when one answers, else this host's. */
    String resolve(java.util.Optional<DockerEngine> engine) {
        return arch != null ? arch
                : engine.map(e -> e.facts().architecture()).orElse(DockerEngine.normalizeArch(System.getProperty("os.arch")));
    }

    /** The architecture asked for, or the engine's. */
    String resolve(DockerEngine engine) {
        return arch != null ? arch : engine.facts().architecture();
    }
}
