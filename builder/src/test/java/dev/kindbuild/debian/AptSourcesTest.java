package dev.kindbuild.debian;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The --debian-mirror default comes from the machine's apt sources, never from a name in the code. */
class AptSourcesTest {
    @TempDir
    Path apt;

    private void write(String name, String text) throws IOException {
        Path p = apt.resolve(name);
        Files.createDirectories(p.getParent());
        Files.writeString(p, text);
    }

    @Test
    void deb822TakesTheMainSuiteNotTheSecurityArchive() throws IOException {
        write("sources.list.d/debian.sources", """
                Types: deb
                URIs: http://mirror.example/debian-security
                Suites: bookworm-security
                Components: main

                Types: deb
                # a comment
                URIs: http://mirror.example/debian/
                Suites: bookworm bookworm-updates
                Components: main
                """);
        assertEquals(Optional.of("http://mirror.example/debian"), AptSources.mirror(apt));
    }

    @Test
    void disabledAndSourceOnlyStanzasAreSkipped() throws IOException {
        write("sources.list.d/a.sources", """
                Types: deb
                URIs: http://disabled.example/debian
                Suites: bookworm
                Enabled: no

                Types: deb-src
                URIs: http://src.example/debian
                Suites: bookworm
                """);
        write("sources.list.d/b.sources", "Types: deb\nURIs: https://proxy.example:3142/debian\nSuites: bookworm\n");
        assertEquals(Optional.of("https://proxy.example:3142/debian"), AptSources.mirror(apt));
    }

    @Test
    void oneLineSourcesWithOptionsWhenThereIsNoDeb822File() throws IOException {
        write("sources.list", """
                # deb http://commented.example/debian bookworm main
                deb http://security.example/debian-security bookworm-security main
                deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://local.example/debian bookworm main
                """);
        assertEquals(Optional.of("http://local.example/debian"), AptSources.mirror(apt));
    }

    @Test
    void noSourcesMeansNoDefault() {
        assertEquals(Optional.empty(), AptSources.mirror(apt));
    }
}
