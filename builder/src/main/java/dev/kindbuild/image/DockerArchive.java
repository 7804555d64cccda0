package dev.kindbuild.image;

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
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * Reads and rewrites docker-archive tarballs ({@code docker save}, jib's {@code TarImage}) by streaming: only the small
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
     * The image ID ({@code sha256:} of the config) of the archive's single image; for a legacy archive without
     * manifest.json, the top layer ID from the repositories file.
     */
    public static String imageDigestOrId(Path tar) {
        Scan s = scan(tar);
        if (s.manifest() == null) {
            JsonNode first = s.repositories().elements().next().elements().next();
            return first.asText();
        }
        String config = entryName(single(s.manifest(), tar).path("Config").asText());
        String digest = s.jsonDigests().get(config);
        if (digest == null) {
            throw new UserError("image archive " + tar + " names config " + config + " but does not contain it");
        }
        return digest;
    }

    /** The {@code architecture} (e.g. amd64) recorded in the image config, or null when there is none. */
    public static String architecture(Path tar) {
        Scan s = scan(tar);
        if (s.manifest() == null) {
            return null;
        }
        byte[] config = s.json().get(entryName(single(s.manifest(), tar).path("Config").asText()));
        if (config == null) {
            return null;
        }
        try {
            JsonNode arch = JSON.readTree(config).path("architecture");
            return arch.isMissingNode() ? null : arch.asText();
        } catch (IOException e) {
            throw new UserError("image archive " + tar + " has an unreadable config: " + e.getMessage(), e);
        }
    }

    /**
     * Copies {@code in} to {@code out} with its image tagged {@code newTag} only (manifest.json {@code RepoTags}, and the
     * repositories file when present); every other entry is copied byte for byte. {@code out} may equal {@code in}.
     * Returns the image ID (config digest), found in the same pass so callers need not read the tarball again; null
     * for a legacy archive without manifest.json.
     */
    public static String retag(Path in, Path out, String newTag) {
        ImageRef parsed = ImageRef.parse(newTag);
        if (parsed.digest() != null || newTag.contains("@")) {
            throw new UserError("cannot tag an image archive with a digest (" + newTag + "); give name:tag");
        }
        int slash = newTag.lastIndexOf('/');
        int colon = newTag.lastIndexOf(':');
        String repo = colon > slash ? newTag.substring(0, colon) : newTag;
        String tag = colon > slash ? newTag.substring(colon + 1) : "latest";
        String fullTag = repo + ":" + tag;
        Path tmp = out.resolveSibling("." + out.getFileName() + ".tmp-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
        boolean sawManifest = false;
        boolean sawRepositories = false;
        String configName = null;
        Map<String, String> jsonDigests = new java.util.HashMap<>();
        try (TarArchiveInputStream tin = open(in);
             TarArchiveOutputStream tout = create(tmp)) {
            TarArchiveEntry e;
            while ((e = tin.getNextEntry()) != null) {
                String name = entryName(e.getName());
                if (e.isFile() && name.equals("manifest.json")) {
                    ArrayNode manifest = (ArrayNode) JSON.readTree(readSmall(tin, in, name));
                    ObjectNode image = (ObjectNode) single(manifest, in);
                    configName = entryName(image.path("Config").asText());
                    image.putArray("RepoTags").add(fullTag);
                    writeEntry(tout, e, JSON.writeValueAsBytes(manifest));
                    sawManifest = true;
                } else if (e.isFile() && name.equals("repositories")) {
                    JsonNode old = JSON.readTree(readSmall(tin, in, name));
                    String id = firstRepositoryId(old, in);
                    ObjectNode repos = JSON.createObjectNode();
                    repos.putObject(repo).put(tag, id);
                    writeEntry(tout, e, JSON.writeValueAsBytes(repos));
                    sawRepositories = true;
                } else if (e.isFile() && name.endsWith(".json")) {
                    byte[] json = readSmall(tin, in, name); // a config: small, and its hash is the image ID
                    jsonDigests.put(name, "sha256:" + sha256(json));
                    tout.putArchiveEntry(e);
                    tout.write(json);
                    tout.closeArchiveEntry();
                } else {
                    tout.putArchiveEntry(e);
                    if (e.isFile()) {
                        tin.transferTo(tout);
                    }
                    tout.closeArchiveEntry();
                }
            }
            tout.finish();
        } catch (IOException e) {
            deleteQuietly(tmp);
            if (dev.kindbuild.lifecycle.DiskFull.is(e)) {
                throw dev.kindbuild.lifecycle.DiskFull.error("writing image archive " + out.getFileName(), e, out.getParent());
            }
            throw new UserError("cannot retag image archive " + in + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            deleteQuietly(tmp);
            throw e;
        }
        if (!sawManifest && !sawRepositories) {
            deleteQuietly(tmp);
            throw new UserError(in + " is not a docker-archive image tarball (no manifest.json or repositories file)");
        }
        String configDigest = configName == null ? null : jsonDigests.get(configName);
        if (configName != null && configDigest == null) {
            deleteQuietly(tmp);
            throw new UserError("image archive " + in + " names config " + configName + " but does not contain it");
        }
        try {
            Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            deleteQuietly(tmp);
            throw new UncheckedIOException("cannot write " + out, e);
        }
        return configDigest;
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

    private static JsonNode single(JsonNode manifest, Path tar) {
        if (!manifest.isArray() || manifest.size() != 1) {
            throw new UserError("image archive " + tar + " holds " + manifest.size() + " images; expected exactly one");
        }
        return manifest.get(0);
    }

    private static String firstRepositoryId(JsonNode repositories, Path tar) {
        Iterator<JsonNode> repos = repositories.elements();
        if (repos.hasNext()) {
            Iterator<JsonNode> tags = repos.next().elements();
            if (tags.hasNext()) {
                return tags.next().asText();
            }
        }
        throw new UserError("image archive " + tar + " has an empty repositories file");
    }

    private static void writeEntry(TarArchiveOutputStream out, TarArchiveEntry like, byte[] content) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(like.getName());
        e.setMode(like.getMode());
        e.setModTime(like.getModTime());
        e.setUserId(like.getLongUserId());
        e.setGroupId(like.getLongGroupId());
        e.setUserName(like.getUserName());
        e.setGroupName(like.getGroupName());
        e.setSize(content.length);
        out.putArchiveEntry(e);
        out.write(content);
        out.closeArchiveEntry();
    }

    static TarArchiveInputStream open(Path tar) throws IOException {
        InputStream in = new BufferedInputStream(Files.newInputStream(tar), BUFFER);
        return new TarArchiveInputStream(in, StandardCharsets.UTF_8.name());
    }

    private static TarArchiveOutputStream create(Path tar) throws IOException {
        OutputStream out = new BufferedOutputStream(Files.newOutputStream(tar), BUFFER);
        TarArchiveOutputStream t = new TarArchiveOutputStream(out, StandardCharsets.UTF_8.name());
        t.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
        t.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
        t.setAddPaxHeadersForNonAsciiNames(true);
        return t;
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

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // best effort
        }
    }
}
