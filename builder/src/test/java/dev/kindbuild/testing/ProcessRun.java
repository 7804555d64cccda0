package dev.kindbuild.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One run of a program with stdout and stderr captured: the kind-build jar on this host (as a release job runs it,
 * its version an input of every image) or any command (docker run of kind-build's image).
 */
public record ProcessRun(int exit, String out, String err) {
    /** The self-contained jar `mvn package` made (the integration tests run after it). */
    public static final Path JAR = Path.of(System.getProperty("kindbuild.home", "..")).resolve("builder/target/kind-build-all.jar");

    /** {@code java -jar kind-build-all.jar ARGS} with {@code cacheDir} as its cache. */
    public static ProcessRun jar(Path cacheDir, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dkindbuild.cache=" + cacheDir, "-jar", JAR.toString()));
        command.addAll(List.of(args));
        return of(command);
    }

    /** {@code command}, within 15 minutes. */
    public static ProcessRun of(List<String> command) throws Exception {
        Path out = Files.createTempFile("kind-build-it-run-", ".out");
        try {
            Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(ProcessBuilder.Redirect.PIPE).start();
            String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(15, TimeUnit.MINUTES), String.join(" ", command) + " did not end");
            return new ProcessRun(p.exitValue(), Files.readString(out), err);
        } finally {
            Files.deleteIfExists(out);
        }
    }
}
