package dev.kindbuild.image.archive;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kindbuild.UserError;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * Reads docker-archive tarballs ({@code docker save}, jib's {@code TarImage}) by streaming: only the small
 * JSON entries are ever held in memory, layers are copied through untouched.
 */
public final class DockerArchive {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_JSON = 8 << 20;
    private static final int BUFFER = 1 << 16;

    /** Architectures that appear as repository suffixes in Kubernetes release image tarballs. */
    public static final Set<String> KNOWN_ARCHES = Set.of("amd64", "arm64", "arm", "ppc64le", "s390x", "386", "riscv64");

    private DockerArchive() {}

    /** What one streaming pass learned: the manifest, the legacy repositories file, and every JSON entry's digest. */
    private record Scan(JsonNode manifest, JsonNode repositories, Map<String, String> jsonDigests, Map<String, byte[]> json) {}

    private static Scan scan(Path tar) {
        JsonNode manifest = null;
        JsonNode repositories = null;
        Map<String, String> digests = new HashMap<>();
        Map<String, byte[]> json = new HashMap<>();
        try (TarArchiveInputStream in = open(tar)) {
            TarArchiveEntry e;
            while ((e = in.getNextEntry()) != null) {
                if (!e.isFile()) {
                    continue;
                }
                String name = entryName(e.getName());
                if (name.equals("manifest.json")) {
                    manifest = JSON.readTree(readSmall(in, tar, name));
                } else if (name.equals("repositories")) {
                    repositories = JSON.readTree(readSmall(in, tar, name));
                } else if (name.endsWith(".json") && e.getSize() <= MAX_JSON) {
                    byte[] bytes = readSmall(in, tar, name);
                    digests.put(name, "sha256:" + sha256(bytes));
                    json.put(name, bytes);
                }
            }
        } catch (IOException e) {
            throw new UserError("cannot read image archive " + tar + ": " + e.getMessage(), e);
        }
        if (manifest == null && repositories == null) {
            throw new UserError(tar + " is not a docker-archive image tarball (no manifest.json or repositories file)");
        }
        return new Scan(manifest, repositories, digests, json);
    }

    /** The names the archive's image is tagged with: manifest.json {@code RepoTags}, else the legacy repositories file. */
    public static List<String> repoTags(Path tar) {
        Scan s = scan(tar);
        List<String> tags = new ArrayList<>();
        if (s.manifest() != null) {
            for (JsonNode image : s.manifest()) {
                for (JsonNode t : image.path("RepoTags")) {
                    tags.add(t.asText());
                }
            }
            return tags;
        }
        for (Map.Entry<String, JsonNode> repo : s.repositories().properties()) {
            repo.getValue().fieldNames().forEachRemaining(tag -> tags.add(repo.getKey() + ":" + tag));
        }
        return tags;
    }

    /**
     * Drops an architecture suffix from the repository's last path component, as Kubernetes release tarballs carry
     * it: {@code registry.k8s.io/kube-apiserver-amd64:v1.31.2} → {@code registry.k8s.io/kube-apiserver:v1.31.2}.
     * Only {@code -<arch>} is removed; other names are returned unchanged.
     */
    public static String withoutArchSuffix(String repoTag, String arch) {
        int at = repoTag.indexOf('@');
        String base = at >= 0 ? repoTag.substring(0, at) : repoTag;
        int slash = base.lastIndexOf('/');
        int colon = base.lastIndexOf(':');
        int end = colon > slash ? colon : base.length();
        String repo = repoTag.substring(0, end);
        String rest = repoTag.substring(end);
        String suffix = "-" + arch;
        if (repo.endsWith(suffix) && repo.length() - suffix.length() > slash + 1) {
            return repo.substring(0, repo.length() - suffix.length()) + rest;
        }
        return repoTag;
    }

    /** {@link #withoutArchSuffix(String, String)} for whichever of {@link #KNOWN_ARCHES} the name ends with. */
    public static String withoutArchSuffix(String repoTag) {
        for (String arch : KNOWN_ARCHES) {
            String stripped = withoutArchSuffix(repoTag, arch);
            if (!stripped.equals(repoTag)) {
                return stripped;
            }
        }
        return repoTag;
    }

    // ---- helpers ----

    static TarArchiveInputStream open(Path tar) throws IOException {
        InputStream in = new BufferedInputStream(Files.newInputStream(tar), BUFFER);
        return new TarArchiveInputStream(in, StandardCharsets.UTF_8.name());
    }

    private static byte[] readSmall(InputStream in, Path tar, String name) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        byte[] chunk = new byte[8192];
        int n;
        while ((n = in.read(chunk)) > 0) {
            buf.write(chunk, 0, n);
            if (buf.size() > MAX_JSON) {
                throw new IOException(name + " in " + tar + " is larger than " + MAX_JSON + " bytes");
            }
        }
        return buf.toByteArray();
    }

    /** A tar entry's name as archives mean it: no leading {@code ./} or {@code /}. */
    public static String entryName(String name) {
        String n = name;
        while (n.startsWith("./")) {
            n = n.substring(2);
        }
        while (n.startsWith("/")) {
            n = n.substring(1);
        }
        return n;
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

}
