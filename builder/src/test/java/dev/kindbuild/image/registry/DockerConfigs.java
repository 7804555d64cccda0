package dev.kindbuild.image.registry;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;

/** Docker client config files for tests, holding one registry's credential as {@code docker login} writes it. */
final class DockerConfigs {
    private DockerConfigs() {}

    static Path withLogin(Path dir, String registry, String user, String password) {
        try {
            Files.createDirectories(dir);
            Path config = dir.resolve("config.json");
            Files.writeString(config, "{\"auths\":{\"" + registry + "\":{\"auth\":\"" + basic(user, password) + "\"}}}");
            return config;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String basic(String user, String password) {
        return Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    /** Every message in {@code e}'s cause chain, so a test can check none carries a secret. */
    static String allMessages(Throwable e) {
        StringBuilder sb = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            sb.append(t).append('\n');
        }
        return sb.toString();
    }
}
