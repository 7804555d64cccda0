package dev.kindbuild.kube;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kindbuild.lifecycle.TempPaths;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Release tarballs already extracted, in the cache under {@code releases/<sha256>/}: gunzipping a real server tarball
 * takes seconds, and a warm rebuild should not pay them again. A release directory appears whole (extracted under a
 * {@code .partial-<pid>-…} name, then renamed) and is only read afterwards; {@code contents.json}, written before the
 * rename, says what is inside.
 */
final class ExtractedReleases {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CONTENTS = "contents.json";

    /** Extracts a tarball into a directory; the resolver's own extraction step. */
    interface Extraction {
        ReleaseTarball.Contents into(Path dest) throws IOException;
    }

    private final Path root;

    ExtractedReleases(Path cacheRoot) {
        this.root = cacheRoot.resolve("releases");
    }

    /** The extracted release of the tarball with digest {@code sha256}, if the cache has it whole. */
    Optional<ReleaseTarball.Contents> find(String sha256) {
        Path dir = root.resolve(sha256);
        Path marker = dir.resolve(CONTENTS);
        if (!Files.isRegularFile(marker)) {
            return Optional.empty();
        }
        try {
            JsonNode n = JSON.readTree(marker.toFile());
            Map<String, Path> binaries = new LinkedHashMap<>();
            for (JsonNode b : n.path("binaries")) {
                binaries.put(b.asText(), dir.resolve("bin").resolve(b.asText()));
            }
            List<Path> images = new ArrayList<>();
            for (JsonNode i : n.path("images")) {
                images.add(dir.resolve("images").resolve(i.asText()));
            }
            boolean whole = binaries.values().stream().allMatch(Files::isRegularFile) && images.stream().allMatch(Files::isRegularFile);
            Optional<String> version = n.hasNonNull("version") ? Optional.of(n.get("version").asText()) : Optional.empty();
            return whole ? Optional.of(new ReleaseTarball.Contents(binaries, images, version)) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty(); // unreadable: extracted again, replacing it
        }
    }

    /** Extracts into the cache (replacing an incomplete entry) and returns the cached contents. */
    ReleaseTarball.Contents extract(String sha256, Extraction extraction) throws IOException {
        Files.createDirectories(root);
        Path partial = root.resolve(".partial-" + ProcessHandle.current().pid() + "-"
                + Integer.toHexString(ThreadLocalRandom.current().nextInt()));
        try {
            ReleaseTarball.Contents contents = extraction.into(partial);
            Map<String, Object> marker = new LinkedHashMap<>();
            marker.put("version", contents.version().orElse(null));
            marker.put("binaries", new ArrayList<>(contents.binaries().keySet()));
            marker.put("images", contents.imageTars().stream().map(p -> p.getFileName().toString()).toList());
            Files.write(partial.resolve(CONTENTS), JSON.writeValueAsBytes(marker));
            Path dir = root.resolve(sha256);
            if (Files.exists(dir) && find(sha256).isEmpty()) {
                TempPaths.deleteTree(dir);
            }
            try {
                Files.move(partial, dir, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException | DirectoryNotEmptyException | AtomicMoveNotSupportedException e) {
                // another build extracted the same tarball meanwhile: same bytes, theirs is kept
            }
            return find(sha256).orElseThrow(() -> new IOException("extracted release " + dir + " is incomplete"));
        } finally {
            if (Files.exists(partial)) {
                TempPaths.deleteTree(partial);
            }
        }
    }
}
