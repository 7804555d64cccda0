package dev.kindbuild.support;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kindbuild.UserError;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Sha256Test {
    static final String A = "a".repeat(64);
    static final String B = "0123456789abcdef".repeat(4);
    static final String NAME = "kubernetes-server-linux-amd64.tar.gz";

    @Test
    void parsesBareDigestAsOnDlK8sIo() {
        assertEquals(B, Sha256.parseChecksumFile(B, NAME, "x"));
        assertEquals(B, Sha256.parseChecksumFile(B + "\n", NAME, "x"));
        assertEquals(B, Sha256.parseChecksumFile(B.toUpperCase() + "\r\n", NAME, "x"));
    }

    @Test
    void parsesSha256sumOutput() {
        assertEquals(B, Sha256.parseChecksumFile(B + "  " + NAME + "\n", NAME, "x"));
        assertEquals(B, Sha256.parseChecksumFile(B + " *" + NAME, NAME, "x"));
        assertEquals(B, Sha256.parseChecksumFile(B + "\tsome/dir/" + NAME, NAME, "x"));
        // sha256sum of several files: pick ours
        assertEquals(B, Sha256.parseChecksumFile(A + "  other.tar.gz\n" + B + "  ./" + NAME + "\n", NAME, "x"));
    }

    @Test
    void rejectsMalformedChecksumFiles() {
        UserError empty = assertThrows(UserError.class, () -> Sha256.parseChecksumFile(" \n", NAME, "https://h/x.sha256"));
        assertTrue(empty.getMessage().contains("https://h/x.sha256 is empty"), empty.getMessage());
        UserError html = assertThrows(UserError.class,
                () -> Sha256.parseChecksumFile("<html>Not Found</html>", NAME, "https://h/x.sha256"));
        assertTrue(html.getMessage().contains("malformed"), html.getMessage());
        assertThrows(UserError.class, () -> Sha256.parseChecksumFile(B.substring(1), NAME, "x"));
        UserError notListed = assertThrows(UserError.class,
                () -> Sha256.parseChecksumFile(A + "  one\n" + B + "  two\n", NAME, "x"));
        assertTrue(notListed.getMessage().contains("not " + NAME), notListed.getMessage());
    }

    @Test
    void parsesUserDigests() {
        assertEquals(B, Sha256.parseDigest("sha256:" + B.toUpperCase(), "--k8s-sha256"));
        assertEquals(B, Sha256.parseDigest(" " + B + " ", "--k8s-sha256"));
        UserError e = assertThrows(UserError.class, () -> Sha256.parseDigest("abc", "--k8s-sha256"));
        assertTrue(e.getMessage().startsWith("--k8s-sha256: \"abc\" is not a SHA-256 digest"), e.getMessage());
    }

    @Test
    void hashesBytesAndFiles(@TempDir Path dir) throws Exception {
        String abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assertEquals(abc, Sha256.of("abc".getBytes(StandardCharsets.US_ASCII)));
        Path f = Files.writeString(dir.resolve("f"), "abc");
        assertEquals(abc, Sha256.of(f));
    }
}
