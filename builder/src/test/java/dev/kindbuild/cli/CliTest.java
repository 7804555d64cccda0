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
        assertTrue(java.net.ProxySelector.getDefault() instanceof dev.kindbuild.kube.EnvProxySelector);
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
