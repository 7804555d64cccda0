package dev.kindbuild.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class CliTest {

    private record Run(int exit, String out, String err) {}

    private static Run run(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int exit = Main.execute(args);
            return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void unknownFlagIsOneLineAndExitTwo() {
        Run r = run("base-image", "--bogus");
        assertEquals(2, r.exit());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().startsWith("ERROR: Unknown option: '--bogus'"), r.err());
    }

    @Test
    void unknownArchIsOneLineAndExitOne() {
        Run r = run("base-image", "--arch", "s390x");
        assertEquals(1, r.exit());
        assertEquals("ERROR: unknown --arch 's390x': use one of amd64, arm64", r.err().strip());
    }

    @Test
    void versionPrintsTheToolVersion() {
        Run r = run("version");
        assertEquals(0, r.exit());
        assertTrue(r.out().startsWith("kind-build "), r.out());
    }

    @Test
    void completionScriptIsGenerated() {
        Run r = run("generate-completion");
        assertEquals(0, r.exit());
        assertTrue(r.out().contains("complete -F"), "bash completion expected");
    }
}
