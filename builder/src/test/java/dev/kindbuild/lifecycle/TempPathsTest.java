package dev.kindbuild.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What `cleanup` may take from TMPDIR and the cache: only what a dead kind-build process provably wrote. */
class TempPathsTest {
    @TempDir
    Path dir;

    private static long deadPid() throws Exception {
        Process p = new ProcessBuilder("true").start();
        p.waitFor();
        return p.pid();
    }

    private Path ownedDir(String name, String owner) throws IOException {
        Path d = Files.createDirectories(dir.resolve("tmp").resolve(name));
        if (owner != null) {
            Files.writeString(d.resolve(TempPaths.OWNER_FILE), owner);
        }
        return d;
    }

    @Test
    void onlyTempDirsOfADeadKindBuildProcessAreAbandoned() throws Exception {
        long dead = deadPid();
        long self = ProcessHandle.current().pid();
        Path abandoned = ownedDir("kind-build-node-" + dead + "-123", dead + " 0\n");
        ownedDir("kind-build-node-" + self + "-456", self + " 0\n");
        ownedDir("kind-build-app-" + dead + "-789", null); // no owner file: not provably ours
        ownedDir("kind-build-node-" + dead + "-999", self + " 0\n"); // owner file names another process
        ownedDir("other-tool-" + dead + "-1", dead + " 0\n");
        assertEquals(List.of(abandoned), TempPaths.abandoned(dir.resolve("tmp")));
    }

    @Test
    void aDirMadeByThisProcessNamesItAndIsNotAbandoned() {
        Path made = TempPaths.createOwnedDirectory("kind-build-test-");
        try {
            assertEquals(true, made.getFileName().toString().startsWith("kind-build-test-" + ProcessHandle.current().pid() + "-"));
            assertEquals(List.of(), TempPaths.abandoned(made.getParent()).stream().filter(made::equals).toList());
        } finally {
            TempPaths.deleteTree(made);
        }
    }

    @Test
    void onlyPartialCacheFilesOfADeadProcessAreAbandoned() throws Exception {
        long dead = deadPid();
        long self = ProcessHandle.current().pid();
        Path downloads = Files.createDirectories(dir.resolve("cache/downloads/sha256"));
        Path images = Files.createDirectories(dir.resolve("cache/images"));
        Path blobs = Files.createDirectories(dir.resolve("cache/store/blobs/sha256"));
        Path a = Files.writeString(downloads.resolve(".partial-" + dead + "-1.tmp"), "x");
        Path b = Files.writeString(images.resolve(".tmp-" + dead + "-2.tar"), "");
        Path c = Files.writeString(blobs.resolve(".partial-" + dead + "-3"), "x");
        Files.writeString(downloads.resolve(".partial-" + self + "-4.tmp"), "x");
        Files.writeString(downloads.resolve("a".repeat(64)), "done");
        Files.writeString(images.resolve(".partial-nopid.tmp"), "x");
        assertEquals(List.of(a, b, c).stream().sorted().toList(),
                TempPaths.abandonedPartialFiles(dir.resolve("cache")).stream().sorted().toList());
    }
}
