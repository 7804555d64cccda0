package dev.kindbuild.recipe;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.Test;

class RecipeTreeTest {

    @Test
    void bundledBaseRecipeHasADockerfileAndAnEntrypoint() {
        RecipeTree tree = RecipeTree.load("base-image");
        assertTrue(tree.file("Dockerfile").text().contains("BASE_IMAGE"));
        assertEquals(0755, tree.file("files/usr/local/bin/entrypoint").mode());
    }

    @Test
    void hashDependsOnInputsAndIsStable() {
        RecipeTree tree = RecipeTree.load("base-image");
        String a = tree.sha256(List.of("from=debian:bookworm-slim", "arch=amd64"));
        assertEquals(a, RecipeTree.load("base-image").sha256(List.of("from=debian:bookworm-slim", "arch=amd64")));
        assertNotEquals(a, tree.sha256(List.of("from=debian:bookworm-slim", "arch=arm64")));
        assertNotEquals(a, tree.sha256(List.of("from=debian:trixie-slim", "arch=amd64")));
        assertEquals(64, a.length());
    }

    @Test
    void tarIsDeterministicWithModesAndParents() throws Exception {
        RecipeTree tree = RecipeTree.load("base-image");
        ByteArrayOutputStream first = new ByteArrayOutputStream();
        ByteArrayOutputStream second = new ByteArrayOutputStream();
        tree.writeTar(first, "");
        tree.writeTar(second, "");
        assertArrayEquals(first.toByteArray(), second.toByteArray());

        Map<String, TarArchiveEntry> entries = new HashMap<>();
        try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(first.toByteArray()))) {
            for (TarArchiveEntry e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
                entries.put(e.getName(), e);
            }
        }
        assertTrue(entries.get("files/").isDirectory());
        assertEquals(0755, entries.get("files/usr/local/bin/entrypoint").getMode() & 07777);
        assertEquals(0644, entries.get("Dockerfile").getMode() & 07777);
        assertEquals(0, entries.get("Dockerfile").getModTime().getTime());
    }

    @Test
    void subtreeStripsThePrefix() {
        RecipeTree files = RecipeTree.load("base-image").subtree("files/");
        assertTrue(files.files().stream().anyMatch(f -> f.path().equals("usr/local/bin/entrypoint")));
        assertTrue(files.files().stream().noneMatch(f -> f.path().startsWith("files/")));
    }
}
