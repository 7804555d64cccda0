package dev.kindbuild.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kindbuild.testing.CliRun;
import java.util.List;
import org.junit.jupiter.api.Test;

/** base-image's suite and component options: bad ones are one ERROR line and exit 1, before any engine is asked. */
class BaseImageOptionsTest {
    private static String error(String... args) {
        CliRun run = CliRun.of(args);
        assertEquals(1, run.exit(), run.err());
        List<String> errors = run.err().lines().filter(l -> l.startsWith("ERROR: ")).toList();
        assertEquals(1, errors.size(), run.err());
        return errors.get(0);
    }

    @Test
    void componentValuesAreVersionsUrlsOrFiles() {
        assertTrue(error("base-image", "--containerd", "latest").startsWith("ERROR: invalid --containerd 'latest': give a version"));
        assertTrue(error("base-image", "--cni-plugins", "/nonexistent/cni.tgz").startsWith("ERROR: invalid --cni-plugins '/nonexistent/cni.tgz'"));
    }

    @Test
    void aSuiteIsAShortFromAndNotBoth() {
        assertTrue(error("base-image", "--debian-suite", "bookworm", "--from", "debian:trixie").startsWith("ERROR: give --from or --debian-suite, not both"));
        assertTrue(error("base-image", "--debian-suite", "Bookworm!").startsWith("ERROR: invalid --debian-suite 'Bookworm!'"));
    }

    @Test
    void helpNamesTheComponentOptions() {
        CliRun run = CliRun.of("base-image", "--help");
        assertEquals(0, run.exit(), run.err());
        for (String option : List.of("--debian-suite", "--containerd", "--runc", "--crictl", "--cni-plugins")) {
            assertTrue(run.out().contains(option), option + " missing from:\n" + run.out());
        }
    }
}
