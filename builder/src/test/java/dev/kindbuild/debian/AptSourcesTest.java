package dev.kindbuild.debian;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The mirror comes from the machine's apt configuration, never from a name in the code. */
class AptSourcesTest {
    @TempDir
    Path etc;

    @Test
    void deb822SourcesSkippingSecurityAndDisabledStanzas() throws Exception {
        Files.createDirectories(etc.resolve("sources.list.d"));
        Files.writeString(etc.resolve("sources.list.d/debian.sources"), """
                Types: deb
                URIs: http://security.example/debian-security
                Suites: bookworm-security
                Components: main

                Types: deb
                URIs: http://off.example/debian
                Suites: bookworm
                Enabled: no

                Types: deb deb-src
                # a comment
                URIs: http://mirror.example/debian/ http://second.example/debian
                Suites: bookworm bookworm-updates
                Components: main
                """);
        assertEquals(Optional.of("http://mirror.example/debian"), AptSources.mirror(etc));
    }

    @Test
    void oneLineSourcesWithOptions() throws Exception {
        Files.writeString(etc.resolve("sources.list"), """
                # deb http://commented.example/debian bookworm main
                deb http://security.example/debian-security bookworm-security main
                deb [arch=amd64 signed-by=/usr/share/keyrings/k.gpg] https://mirror.example/debian bookworm main
                """);
        assertEquals(Optional.of("https://mirror.example/debian"), AptSources.mirror(etc));
    }

    @Test
    void nothingConfigured() {
        assertEquals(Optional.empty(), AptSources.mirror(etc));
    }
}
