package dev.kindbuild.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/** skopeo, the independent reader of images and registries the tests check kind-build's outputs with. */
public final class Skopeo {
    private Skopeo() {}

    /**
     * Runs {@code skopeo --insecure-policy ARGS} and returns its stdout; a non-zero exit fails the test. Loopback
     * registries speak plain HTTP, so {@code inspect} gets --tls-verify=false unless the args set TLS or credentials.
     * Missing skopeo aborts the test, or fails it under CI=true.
     */
    public static byte[] run(String... args) throws Exception {
        if (!Files.isExecutable(Path.of("/usr/bin/skopeo"))) {
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                throw new IllegalStateException("CI=true and skopeo is missing (scripts/install-deps installs it)");
            }
            Assumptions.abort("skopeo is not installed");
        }
        List<String> command = new ArrayList<>(List.of("skopeo", "--insecure-policy"));
        command.addAll(List.of(args));
        if (args[0].equals("inspect") && List.of(args).stream().noneMatch(a -> a.startsWith("--tls-verify") || a.startsWith("--cert-dir")
                || a.startsWith("--creds"))) {
            command.add(3, "--tls-verify=false");
        }
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.PIPE).start();
        byte[] out = p.getInputStream().readAllBytes();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), String.join(" ", command) + ": " + err);
        return out;
    }
}
