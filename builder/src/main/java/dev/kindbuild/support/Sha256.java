package dev.kindbuild.support;

import dev.kindbuild.UserError;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/** SHA-256 helpers: digests of streams and files, and parsing of published {@code .sha256} files. */
public final class Sha256 {
    private Sha256() {}

    private static final Pattern HEX64 = Pattern.compile("[0-9a-fA-F]{64}");

    public static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every Java runtime", e);
        }
    }

    public static String hex(MessageDigest digest) {
        return HexFormat.of().formatHex(digest.digest());
    }

    public static String of(byte[] data) {
        MessageDigest d = newDigest();
        d.update(data);
        return hex(d);
    }

    /** Streams the file through SHA-256 (never loads it whole). */
    public static String of(Path file) throws IOException {
        MessageDigest d = newDigest();
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                d.update(buf, 0, n);
            }
        }
        return hex(d);
    }

    /** True for 64 hex digits (any case). */
    public static boolean isHex(String text) {
        return text != null && HEX64.matcher(text).matches();
    }

    /**
     * A digest given by the user (e.g. {@code --k8s-sha256}); {@code sha256:} prefix allowed. Returns lower-case hex.
     */
    public static String parseDigest(String text, String where) {
        String t = text == null ? "" : text.trim();
        if (t.regionMatches(true, 0, "sha256:", 0, 7)) {
            t = t.substring(7);
        }
        if (!isHex(t)) {
            throw new UserError(where + ": \"" + (text == null ? "" : text.trim())
                    + "\" is not a SHA-256 digest (expected 64 hex digits)");
        }
        return t.toLowerCase(Locale.ROOT);
    }

    /**
     * Parses a published checksum file. Accepted: just the hex digest (dl.k8s.io), or {@code sha256sum} output
     * ({@code <hex>  <name>} or {@code <hex> *<name>}), one or more lines. With several lines the one naming
     * {@code fileName} (ignoring directories) wins. Returns lower-case hex; a {@link UserError} naming {@code source} when
     * no digest can be found.
     */
    public static String parseChecksumFile(String content, String fileName, String source) {
        List<String[]> rows = new ArrayList<>();
        for (String raw : content.split("\\R")) {
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] parts = line.split("\\s+", 2);
            if (!isHex(parts[0])) {
                throw new UserError("checksum file " + source + " is malformed: expected a SHA-256 hex digest, got \""
                        + abbreviate(line) + "\"");
            }
            String name = parts.length > 1 ? parts[1].strip() : "";
            if (name.startsWith("*")) {
                name = name.substring(1);
            }
            rows.add(new String[] {parts[0].toLowerCase(Locale.ROOT), name});
        }
        if (rows.isEmpty()) {
            throw new UserError("checksum file " + source + " is empty");
        }
        if (rows.size() == 1) {
            return rows.get(0)[0];
        }
        for (String[] row : rows) {
            String base = row[1].substring(row[1].lastIndexOf('/') + 1);
            if (base.equals(fileName)) {
                return row[0];
            }
        }
        throw new UserError("checksum file " + source + " lists " + rows.size() + " files but not " + fileName);
    }

    private static String abbreviate(String s) {
        return s.length() > 80 ? s.substring(0, 77) + "..." : s;
    }
}
