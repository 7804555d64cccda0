package dev.kindbuild.base;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kindbuild.UserError;
import java.time.LocalDate;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class BaseImageRequestTest {

    private static BaseImageRequest request(String image, String from, String arch) {
        return new BaseImageRequest(Optional.ofNullable(image), from, arch, BaseImageRequest.DEFAULT_MIRROR, false, false);
    }

    @Test
    void rejectsUnknownArchWithOneLine() {
        UserError e = assertThrows(UserError.class, () -> request(null, "debian:bookworm-slim", "x86"));
        assertEquals("unknown --arch 'x86': use one of amd64, arm64", e.getMessage());
    }

    @Test
    void rejectsMalformedImageNames() {
        UserError e = assertThrows(UserError.class, () -> request("Bad Name", "debian:bookworm-slim", "amd64"));
        assertTrue(e.getMessage().startsWith("invalid --image 'Bad Name'"));
        request("127.0.0.1:5000/kindest/base:v1", "debian:bookworm-slim", "arm64");
    }

    @Test
    void defaultTagIsDateAndShortRecipeHash() {
        BaseRecipe recipe = BaseRecipe.bundled("debian:bookworm-slim", "amd64");
        String tag = recipe.defaultTag(LocalDate.of(2026, 11, 22));
        assertEquals("kindest/base:v20261122-" + recipe.hash().substring(0, 8), tag);
    }

    @Test
    void rejectsANonHttpDebianMirror() {
        UserError e = assertThrows(UserError.class, () -> new BaseImageRequest(Optional.empty(), "debian:bookworm-slim",
                "amd64", "ftp://mirror", false, false));
        assertEquals("invalid --debian-mirror 'ftp://mirror': give the http(s) URL of a Debian mirror, as in your apt sources",
                e.getMessage());
    }

    @Test
    void bootstrapFailureNamesAptsReason(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path log = dir.resolve("mmdebstrap.log");
        java.nio.file.Files.writeString(log, String.join("\n",
                "I: running apt-get update...",
                "Err:1 http://127.0.0.1:9/debian trixie InRelease",
                "E: Failed to fetch http://127.0.0.1:9/debian/dists/trixie/InRelease  Could not connect to 127.0.0.1:9",
                "E: mmdebstrap failed to run"));
        assertEquals("Failed to fetch http://127.0.0.1:9/debian/dists/trixie/InRelease Could not connect to 127.0.0.1:9",
                DebianBootstrap.reason(log));
    }

    @Test
    void onlyDebianImagesCanBeBootstrapped() {
        assertEquals(Optional.of("bookworm"), DebianBootstrap.suiteOf("debian:bookworm-slim"));
        assertEquals(Optional.of("trixie"), DebianBootstrap.suiteOf("docker.io/library/debian:trixie"));
        assertEquals(Optional.empty(), DebianBootstrap.suiteOf("ubuntu:24.04"));
        assertEquals(Optional.empty(), DebianBootstrap.suiteOf("debian:12"));
        assertEquals("kind-build/debian-bootstrap:bookworm-arm64", DebianBootstrap.localName("bookworm", "arm64"));
    }
}
