package dev.kindbuild.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kindbuild.testing.CliRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faults of the command line that need no engine: a password inside a reference is refused and never printed; an
 * output that would overwrite an input is refused before any work; --json reports a failure as a JSON object on stdout.
 * (CliFaultsIT has the cases that need the engine and a registry.)
 */
class CliFaultsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SECRET_REF = "kbuser:Secret@127.0.0.1:5092/repo:tag";
    /** Nothing answers here: a run that got past the checks fails fast instead of doing real work. */
    private static final String NO_RELEASE = "http://127.0.0.1:1";

    @TempDir
    Path dir;

    /** Exit 1, one ERROR line with {@code parts}, the secret nowhere in stdout or stderr. */
    private static CliRun refusedWithoutSecret(List<String> args, String... parts) {
        CliRun r = CliRun.of(args.toArray(String[]::new));
        assertEquals(1, r.exit(), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().startsWith("ERROR: "), r.err());
        assertFalse(r.err().contains("Secret") || r.out().contains("Secret"), "the password is printed: " + r.err() + r.out());
        assertFalse(r.err().contains("kbuser"), r.err());
        assertFalse(r.err().contains("invalid digest"), "a user:password@ is not a digest: " + r.err());
        for (String part : parts) {
            assertTrue(r.err().contains(part), "expected '" + part + "' in: " + r.err());
        }
        return r;
    }

    @Test
    void aPasswordInAReferenceIsRefusedAndNeverPrinted() {
        String login = "docker login 127.0.0.1:5092";
        refusedWithoutSecret(List.of("node-image", "v1.31.2", "--extra-image", SECRET_REF), "--extra-image: ", "credentials", login);
        refusedWithoutSecret(List.of("node-image", "v1.31.2", "--image", SECRET_REF), "--image: ", "credentials", login);
        refusedWithoutSecret(List.of("node-image", "v1.31.2", "--base-image", SECRET_REF), "--base-image: ", "credentials", login);
        refusedWithoutSecret(List.of("node-image", "v1.31.2", "--registry-mirror", "registry.k8s.io=kbuser:Secret@127.0.0.1:5092"),
                "--registry-mirror ***@127.0.0.1:5092", login);
        refusedWithoutSecret(List.of("node-image", "v1.31.2", "--insecure-registry", "kbuser:Secret@127.0.0.1:5092"),
                "--insecure-registry", login);
        refusedWithoutSecret(List.of("add-image", SECRET_REF, "registry.k8s.io/pause:3.10"), "NODE_IMAGE: ", login);
        refusedWithoutSecret(List.of("add-image", "kindest/node:v1.31.2", SECRET_REF), "REF: ", login);
        refusedWithoutSecret(List.of("add-image", "kindest/node:v1.31.2", "registry.k8s.io/pause:3.10", "--image", SECRET_REF),
                "--image: ", login);
        refusedWithoutSecret(List.of("verify", SECRET_REF), "verify IMAGE: ", login);
        refusedWithoutSecret(List.of("base-image", "--from", SECRET_REF), "--from: ", login);
        refusedWithoutSecret(List.of("base-image", "--arch", "amd64,arm64", "--image", SECRET_REF, "--push"), "--image: ", login);
    }

    @Test
    void withJsonAFailureIsAJsonErrorObjectOnStdout() throws Exception {
        CliRun r = refusedWithoutSecret(List.of("verify", SECRET_REF, "--json"), "credentials");
        JsonNode error = JSON.readTree(r.out());
        assertEquals("error", error.path("status").asText(), r.out());
        assertEquals(1, error.path("exitCode").asInt(), r.out());
        assertEquals(r.err().strip().substring("ERROR: ".length()), error.path("error").asText());

        CliRun missing = CliRun.of("node-image", "--json");
        assertEquals(1, missing.exit());
        JsonNode noSource = JSON.readTree(missing.out());
        assertEquals("error", noSource.path("status").asText());
        assertTrue(noSource.path("error").asText().startsWith("say which Kubernetes to build"), missing.out());

        CliRun unknown = CliRun.of("add-image", "x/y:z", "--json", "--bogus");
        assertEquals(2, unknown.exit());
        JsonNode usage = JSON.readTree(unknown.out());
        assertEquals(2, usage.path("exitCode").asInt(), unknown.out());
        assertTrue(usage.path("error").asText().startsWith("Unknown option: '--bogus'"), unknown.out());

        for (List<String> args : List.of(List.of("base-image", "--arch", "s390x", "--json"),
                List.of("release", dir.resolve("none.yaml").toString(), "--json"))) {
            CliRun failed = CliRun.of(args.toArray(String[]::new));
            assertEquals(1, failed.exit(), failed.err());
            assertEquals("error", JSON.readTree(failed.out()).path("status").asText(), args + ": " + failed.out());
        }
        // Without --json stdout stays empty on failure, as before.
        assertEquals("", CliRun.of("node-image").out());
    }

    private Path file(String name, String content) throws Exception {
        return Files.writeString(dir.resolve(name), content);
    }

    /** Exit 1, one line naming both flags, and the input byte for byte as it was. */
    private static void refusedAndUnchanged(List<String> args, Path input, String... parts) throws Exception {
        byte[] before = Files.readAllBytes(input);
        CliRun r = CliRun.of(args.toArray(String[]::new));
        assertEquals(1, r.exit(), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        for (String part : parts) {
            assertTrue(r.err().contains(part), "expected '" + part + "' in: " + r.err());
        }
        assertTrue(r.err().contains("write to another file") || r.err().contains("give each its own file"), r.err());
        assertArrayEquals(before, Files.readAllBytes(input), "the input was changed");
    }

    @Test
    void anOutputThatWouldOverwriteAnInputIsRefusedBeforeAnyWork() throws Exception {
        Path base = file("base.tar", "a base archive");
        Path link = dir.resolve("link.tar");
        Files.createSymbolicLink(link, base);
        Path relative = Path.of("").toAbsolutePath().relativize(base);
        List<String> build = List.of("node-image", "v1.31.2", "--builder", "oci", "--k8s-release-url", NO_RELEASE);
        for (String as : List.of("docker-archive:", "oci-archive:")) {
            for (Path out : List.of(base, link, relative, dir.resolve("sub/../base.tar"))) {
                List<String> args = new ArrayList<>(build);
                args.addAll(List.of("--base-image", as + base, "--output", out.toString()));
                refusedAndUnchanged(args, base, "--output " + out + " is the --base-image archive");
            }
        }
        List<String> viaLink = new ArrayList<>(build);
        viaLink.addAll(List.of("--base-image", "docker-archive:" + link, "--output", base.toString()));
        refusedAndUnchanged(viaLink, base, "is the --base-image archive");

        Path tarball = file("kubernetes-server-linux-amd64.tar.gz", "a release tarball");
        refusedAndUnchanged(List.of("node-image", tarball.toString(), "--builder", "oci", "--base-image", "docker-archive:" + base,
                "--output", tarball.toString()), tarball, "is the SOURCE tarball");
        Path ca = file("ca.pem", "a CA");
        refusedAndUnchanged(List.of("node-image", "v1.31.2", "--builder", "oci", "--k8s-release-url", NO_RELEASE, "--base-image",
                "docker-archive:" + base, "--ca-cert", ca.toString(), "--output", ca.toString()), ca, "is the --ca-cert");
        Path out = file("node.tar", "an earlier output");
        refusedAndUnchanged(List.of("node-image", "v1.31.2", "--builder", "oci", "--k8s-release-url", NO_RELEASE, "--base-image",
                "docker-archive:" + base, "--output", out.toString(), "--record", out.toString()), out, "--record " + out + " is also the --output");

        Path node = file("node-in.tar", "a node archive");
        Path image = file("image.tar", "an image archive");
        refusedAndUnchanged(List.of("add-image", "docker-archive:" + node, "--from-archive", image.toString(), "--image", "x/y:z",
                "--output", image.toString()), image, "is the --from-archive");
        refusedAndUnchanged(List.of("add-image", "oci-archive:" + node, "--from-archive", image.toString(), "--image", "x/y:z",
                "--output", node.toString()), node, "is the NODE_IMAGE archive");

        refusedAndUnchanged(List.of("base-image", "--ca-cert", ca.toString(), "--output", ca.toString()), ca, "is the --ca-cert");

        Path release = file("release.yaml", "repository: r.example/kindest/node\nversions: [v1.31.2]\n");
        refusedAndUnchanged(List.of("release", release.toString(), "--dry-run", "--record", release.toString()), release,
                "--record " + release + " is the release file");
    }
}
