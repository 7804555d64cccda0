package dev.kindbuild.engine;

import java.nio.file.Path;

/**
 * A file to place in a container: its absolute path there, its mode, and its content — either bytes in memory
 * (small generated files) or a host file streamed from disk (binaries, image tarballs).
 */
public record ContainerFile(String path, int mode, byte[] content, Path source) {

    public ContainerFile {
        if (!path.startsWith("/")) {
            throw new IllegalArgumentException("container path must be absolute: " + path);
        }
        if ((content == null) == (source == null)) {
            throw new IllegalArgumentException("give either content or a source file for " + path);
        }
    }

    public static ContainerFile ofBytes(String path, int mode, byte[] content) {
        return new ContainerFile(path, mode, content, null);
    }

    public static ContainerFile ofText(String path, int mode, String text) {
        return ofBytes(path, mode, text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    public static ContainerFile ofHostFile(String path, int mode, Path source) {
        return new ContainerFile(path, mode, null, source);
    }
}
