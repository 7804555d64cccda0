package dev.kindbuild.cli;

import dev.kindbuild.testing.CliRun;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class CliTest {


    private static CliRun run(String... args) {
        return CliRun.of(args);
    }

    @Test
    void unknownFlagIsOneLineAndExitTwo() {
        CliRun r = run("base-image", "--bogus");
        assertEquals(2, r.exit());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().startsWith("ERROR: Unknown option: '--bogus'"), r.err());
    }

    @Test
    void unknownArchIsOneLineAndExitOne() {
        CliRun r = run("base-image", "--arch", "s390x");
        assertEquals(1, r.exit());
        assertEquals("ERROR: unknown --arch 's390x': use one of amd64, arm64", r.err().strip());
    }

    /** A user's malformed input: one ERROR line naming the option, exit 1, never "this is a kind-build bug" (70). */
    private static void oneUserErrorLine(CliRun r, String... expectedParts) {
        assertEquals(1, r.exit(), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().startsWith("ERROR: "), r.err());
        assertTrue(!r.err().contains("kind-build bug"), r.err());
        for (String part : expectedParts) {
            assertTrue(r.err().contains(part), "expected '" + part + "' in: " + r.err());
        }
    }

    @Test
    void invalidImageReferencesAreUserErrors() {
        oneUserErrorLine(run("base-image", "--from", "Bad::ref"), "--from: invalid image reference \"Bad::ref\"");
        oneUserErrorLine(run("verify", "UPPER/Case:x"), "verify IMAGE: invalid image reference \"UPPER/Case:x\"");
        oneUserErrorLine(run("node-image", "v1.31.2", "--base-image", "Not A Ref!"), "--base-image: invalid image reference");
    }

    @Test
    void aMultiArchBaseNeedsAPlaceForItsIndex() {
        oneUserErrorLine(run("base-image", "--arch", "amd64,arm64", "--image", "127.0.0.1:1/kind/base:x"),
                "makes an OCI index, which an engine cannot hold", "--push", "--output-format oci");
        oneUserErrorLine(run("base-image", "--arch", "amd64,arm64", "--image", "127.0.0.1:1/kind/base:x", "--output", "base.tar"),
                "a docker-archive holds one image per tag, not 2 architectures");
        oneUserErrorLine(run("base-image", "--output-format", "oci"), "--output-format needs --output FILE");
        oneUserErrorLine(run("base-image", "--push", "--ca-cert", "ca.pem"), "--ca-cert is for multi-arch pushes", "/etc/docker/certs.d");
    }

    @Test
    void aUrlWithASpaceIsAUserError() {
        oneUserErrorLine(run("node-image", "v1.31.2", "--k8s-release-url", "http://127.0.0.1/a b"), "--k8s-release-url", "%20");
        oneUserErrorLine(run("node-image", "http://127.0.0.1/a b/k.tar.gz"), "not a valid URL", "%20");
    }

    @Test
    void versionPrintsTheToolVersion() {
        CliRun r = run("version");
        assertEquals(0, r.exit());
        assertTrue(r.out().startsWith("kind-build "), r.out());
    }

    @Test
    void environmentProxySettingsBecomeTheJvmDefault() {
        run("version");
        // jib's registry client and the downloader both ask the default selector: one set of proxy rules for all.
        assertTrue(java.net.ProxySelector.getDefault() instanceof dev.kindbuild.support.EnvProxySelector);
        assertEquals(java.util.List.of(java.net.Proxy.NO_PROXY),
                java.net.ProxySelector.getDefault().select(java.net.URI.create("http://127.0.0.1:5000/v2/")));
    }

    @Test
    void completionScriptIsGenerated() {
        CliRun r = run("generate-completion");
        assertEquals(0, r.exit());
        assertTrue(r.out().contains("complete -F"), "bash completion expected");
    }
}
