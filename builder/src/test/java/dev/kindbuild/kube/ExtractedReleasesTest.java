package dev.kindbuild.kube;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kindbuild.support.Sha256;
import dev.kindbuild.testing.FileDamage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The cache of extracted releases hands out only files whose bytes are those it extracted. */
class ExtractedReleasesTest {
    @TempDir
    Path tmp;

    @Test
    void aFileChangedInTheCacheIsNotHandedOut() throws Exception {
        Path tarball = ReleaseTarballTest.tarGz(tmp.resolve("k.tar.gz"), ReleaseTarballTest.release("v1.31.2\n", null));
        String sha = Sha256.of(tarball);
        ExtractedReleases cache = new ExtractedReleases(tmp.resolve("cache"));
        ReleaseTarball.Contents first = cache.extract(sha, dest -> ReleaseTarball.extract(tarball, dest, "k.tar.gz"));
        assertEquals("let", Files.readString(first.binaries().get("kubelet")));
        assertTrue(cache.find(sha).isPresent(), "found whole");

        for (Path changed : List.of(first.binaries().get("kubelet"), first.imageTars().get(0))) {
            FileDamage.flipByte(changed, 1); // same size, same mtime
            assertEquals(Optional.empty(), cache.find(sha).map(c -> c.binaries().keySet()), changed + " changed: extracted again instead");
            ReleaseTarball.Contents again = cache.extract(sha, dest -> ReleaseTarball.extract(tarball, dest, "k.tar.gz"));
            assertEquals("let", Files.readString(again.binaries().get("kubelet")));
            assertEquals("apiserver image", Files.readString(again.imageTars().get(0)));
            assertTrue(cache.find(sha).isPresent());
        }
    }

    @Test
    void anUnchangedFileIsKnownByItsIdentityAndAChangedOneIsStillCaught() throws Exception {
        Path tarball = ReleaseTarballTest.tarGz(tmp.resolve("k.tar.gz"), ReleaseTarballTest.release("v1.31.2\n", null));
        String sha = Sha256.of(tarball);
        // Files whose ctime is younger than the settle time are not trusted by identity (the clock's coarse tick could
        // hide a write) ...
        ExtractedReleases settling = new ExtractedReleases(tmp.resolve("cache"), 60_000);
        settling.extract(sha, dest -> ReleaseTarball.extract(tarball, dest, "k.tar.gz"));
        Path marker = tmp.resolve("cache/releases").resolve(sha).resolve("contents.json");
        assertFalse(Files.readString(marker).contains("\"identity\""), "just written: not remembered");

        // ... once settled, a check remembers them, and a change under a remembered identity is still caught.
        ExtractedReleases cache = new ExtractedReleases(tmp.resolve("cache"), 0);
        ReleaseTarball.Contents found = cache.find(sha).orElseThrow();
        assertTrue(Files.readString(marker).contains("\"identity\""), "hashed and unchanged: remembered by identity");
        assertTrue(cache.find(sha).isPresent(), "found again by identity");
        Thread.sleep(50); // past the kernel clock's tick: the write below gets a later ctime
        FileDamage.flipByte(found.binaries().get("kubelet"), 1); // same size, same mtime
        assertEquals(Optional.empty(), cache.find(sha).map(c -> c.binaries().keySet()), "a change under a remembered identity");
    }
}
