package dev.kindbuild.kube;

import dev.kindbuild.UserError;
import dev.kindbuild.support.Sha256;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;

/**
 * Reads a {@code kubernetes-server-linux-<arch>.tar.gz} in one streaming pass, extracting only what a node image
 * needs: {@code kubernetes/server/bin/{kubeadm,kubelet,kubectl}}, the control-plane image tars beside them and the
 * version ({@code kubernetes/version}, k8s ≥ 1.31, else {@code kube-apiserver.docker_tag}).
 *
 * <p>Every entry is checked, extracted or not: absolute names, {@code ..} segments and links whose target leaves the
 * archive root are rejected with a {@link UserError} naming the entry; wanted entries must be regular files.
 */
public final class ReleaseTarball {
    private ReleaseTarball() {}

    static final String BIN_PREFIX = "kubernetes/server/bin/";
    static final String VERSION_ENTRY = "kubernetes/version";
    static final String DOCKER_TAG_ENTRY = BIN_PREFIX + "kube-apiserver.docker_tag";
    /** The control-plane images shipped in release tarballs, in kubeadm order. */
    public static final List<String> IMAGE_NAMES =
            List.of("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy");
    private static final int MAX_SMALL_FILE = 4096;

    /**
     * What came out of the tarball.
     *
     * @param binaries  name → extracted file ({@code <dest>/bin/<name>}, mode 0755)
     * @param imageTars extracted image tars ({@code <dest>/images/<name>.tar}), in {@link #IMAGE_NAMES} order
     * @param version   the normalised version, if the tarball records one
     * @param sha256    every extracted file (binaries and image tars) → the hex SHA-256 of its bytes, hashed as they
     *                  were written
     * @param tarballSha256 the hex SHA-256 of the tarball's bytes as they were read for this extraction
     */
    public record Contents(Map<String, Path> binaries, List<Path> imageTars, Optional<String> version, Map<Path, String> sha256,
            String tarballSha256) {
        public Contents {
            sha256 = Map.copyOf(sha256);
        }
    }

    /**
     * Extracts what is needed from {@code tarGz} into {@code dest} (created if needed).
     *
     * @param label how to name the tarball in messages (e.g. its redacted URL)
     */
    public static Contents extract(Path tarGz, Path dest, String label) throws IOException {
        Path binDir = dest.resolve("bin");
        Path imageDir = dest.resolve("images");
        Files.createDirectories(binDir);
        Files.createDirectories(imageDir);
        Map<String, Path> binaries = new LinkedHashMap<>();
        Map<String, Path> images = new LinkedHashMap<>();
        Map<Path, String> sha256 = new LinkedHashMap<>();
        String versionFile = null;
        String dockerTag = null;
        java.security.MessageDigest tarballHash = Sha256.newDigest();
        try (InputStream file = new java.security.DigestInputStream(Files.newInputStream(tarGz), tarballHash);
                InputStream gz = gunzip(new BufferedInputStream(file, 1 << 16), label);
                TarArchiveInputStream tar = new TarArchiveInputStream(gz)) {
            TarArchiveEntry entry;
            while ((entry = nextEntry(tar, label)) != null) {
                String name = checkEntry(entry, label);
                if (name.equals(VERSION_ENTRY)) {
                    requireRegular(entry, name, label);
                    versionFile = readSmall(tar, name, label);
                } else if (name.equals(DOCKER_TAG_ENTRY)) {
                    requireRegular(entry, name, label);
                    dockerTag = readSmall(tar, name, label);
                } else if (name.startsWith(BIN_PREFIX)) {
                    String base = name.substring(BIN_PREFIX.length());
                    if (KubernetesSource.BINARIES.contains(base)) {
                        requireRegular(entry, name, label);
                        Path out = binDir.resolve(base);
                        sha256.put(out, copyHashing(tar, out));
                        makeExecutable(out);
                        keepModTime(out, entry);
                        binaries.put(base, out);
                    } else if (base.endsWith(".tar") && IMAGE_NAMES.contains(base.substring(0, base.length() - 4))) {
                        requireRegular(entry, name, label);
                        Path out = imageDir.resolve(base);
                        sha256.put(out, copyHashing(tar, out));
                        keepModTime(out, entry);
                        images.put(base.substring(0, base.length() - 4), out);
                    }
                }
            }
            // Whatever follows the tar's end is hashed too: the caller compares the whole file with its digest.
            file.transferTo(java.io.OutputStream.nullOutputStream());
        }
        List<String> missing = new ArrayList<>();
        for (String b : KubernetesSource.BINARIES) {
            if (!binaries.containsKey(b)) {
                missing.add(BIN_PREFIX + b);
            }
        }
        if (!missing.isEmpty()) {
            throw new UserError(label + " is not a usable kubernetes-server tarball: it lacks " + String.join(", ", missing));
        }
        Map<String, Path> orderedBinaries = new LinkedHashMap<>();
        for (String b : KubernetesSource.BINARIES) {
            orderedBinaries.put(b, binaries.get(b));
        }
        List<Path> orderedImages = new ArrayList<>();
        for (String i : IMAGE_NAMES) {
            if (images.containsKey(i)) {
                orderedImages.add(images.get(i));
            }
        }
        Optional<String> version = Optional.empty();
        if (versionFile != null && !versionFile.isBlank()) {
            version = Optional.of(KubeVersion.parse(versionFile, label + ": " + VERSION_ENTRY).toString());
        } else if (dockerTag != null && !dockerTag.isBlank()) {
            version = Optional.of(parseDockerTag(dockerTag, label + ": " + DOCKER_TAG_ENTRY));
        }
        return new Contents(orderedBinaries, orderedImages, version, sha256, Sha256.hex(tarballHash));
    }

    /** Copies the current entry to {@code out}, hashing it on the way (the cache of extractions records the digest). */
    private static String copyHashing(InputStream entry, Path out) throws IOException {
        java.security.MessageDigest md = Sha256.newDigest();
        // not closed: the tar stream goes on to the next entry
        Files.copy(new java.security.DigestInputStream(entry, md), out, StandardCopyOption.REPLACE_EXISTING);
        return Sha256.hex(md);
    }

    /**
     * The release's own time on the extracted file, as tar keeps it: a daemonless build takes its image time from it,
     * so extracting the same tarball again gives the same image.
     */
    private static void keepModTime(Path out, TarArchiveEntry entry) throws IOException {
        Files.setLastModifiedTime(out, java.nio.file.attribute.FileTime.from(entry.getModTime().toInstant()));
    }

    /** A docker tag records {@code +} as {@code _} ({@code v1.32.0-alpha.1.5_abc} → {@code v1.32.0-alpha.1.5+abc}). */
    static String parseDockerTag(String tag, String where) {
        String t = tag.trim();
        Optional<KubeVersion> v = KubeVersion.tryParse(t);
        if (v.isEmpty()) {
            v = KubeVersion.tryParse(t.replace('_', '+'));
        }
        return v.map(KubeVersion::toString).orElseGet(() -> KubeVersion.parse(t, where).toString());
    }

    /**
     * The normalised entry name ({@code ./} prefixes and trailing {@code /} removed) after the safety checks; a
     * {@link UserError} naming the entry when it would escape the extraction root.
     */
    static String checkEntry(TarArchiveEntry entry, String label) {
        String raw = entry.getName();
        String name = normalizeName(raw);
        if (name == null) {
            throw new UserError(label + " has an unsafe entry \"" + raw + "\" (absolute path or .. segment): refusing to extract");
        }
        if (entry.isSymbolicLink() || entry.isLink()) {
            String target = entry.getLinkName();
            String resolved;
            if (target == null || target.isEmpty() || target.startsWith("/") || target.contains("\\")) {
                resolved = null;
            } else if (entry.isSymbolicLink()) {
                int slash = name.lastIndexOf('/');
                resolved = resolve(slash < 0 ? "" : name.substring(0, slash), target);
            } else {
                resolved = resolve("", target); // hard links name a path from the archive root
            }
            if (resolved == null) {
                throw new UserError(label + " has an unsafe link \"" + raw + "\" -> \"" + target
                        + "\" pointing outside the archive: refusing to extract");
            }
        }
        return name;
    }

    /** {@code ./a//b/} → {@code a/b}; null when absolute or when {@code ..} is used at all. */
    static String normalizeName(String raw) {
        if (raw == null || raw.isEmpty() || raw.startsWith("/") || raw.contains("\\") || raw.indexOf('\0') >= 0
                || raw.matches("^[A-Za-z]:.*")) {
            return null;
        }
        List<String> parts = new ArrayList<>();
        for (String p : raw.split("/")) {
            if (p.isEmpty() || p.equals(".")) {
                continue;
            }
            if (p.equals("..")) {
                return null;
            }
            parts.add(p);
        }
        return String.join("/", parts);
    }

    /** Resolves a relative link target against {@code dir} (both archive-relative); null when it climbs above the root. */
    private static String resolve(String dir, String target) {
        List<String> parts = new ArrayList<>();
        for (String p : dir.split("/")) {
            if (!p.isEmpty()) parts.add(p);
        }
        for (String p : target.split("/")) {
            if (p.isEmpty() || p.equals(".")) continue;
            if (p.equals("..")) {
                if (parts.isEmpty()) return null;
                parts.remove(parts.size() - 1);
            } else {
                parts.add(p);
            }
        }
        return String.join("/", parts);
    }

    private static void requireRegular(TarArchiveEntry entry, String name, String label) {
        if (!entry.isFile() || entry.isLink() || entry.isSymbolicLink()) {
            throw new UserError(label + ": entry " + name + " is not a regular file");
        }
    }

    private static String readSmall(InputStream in, String name, String label) throws IOException {
        byte[] b = in.readNBytes(MAX_SMALL_FILE + 1);
        if (b.length > MAX_SMALL_FILE) {
            throw new UserError(label + ": " + name + " is larger than " + MAX_SMALL_FILE + " bytes; not a version file");
        }
        return new String(b, StandardCharsets.UTF_8).trim();
    }

    private static InputStream gunzip(InputStream in, String label) throws IOException {
        try {
            return GzipCompressorInputStream.builder().setInputStream(in).setDecompressConcatenated(true).get();
        } catch (IOException e) {
            in.close();
            throw new UserError(label + " is not a gzip-compressed tarball (" + e.getMessage() + ")", e);
        }
    }

    private static TarArchiveEntry nextEntry(TarArchiveInputStream tar, String label) {
        try {
            return tar.getNextEntry();
        } catch (IOException e) {
            throw new UserError(label + " is not a readable tarball"
                    + (e.getMessage() == null || e.getMessage().isBlank() ? " (" + e.getClass().getSimpleName() + ")" : ": " + e.getMessage()), e);
        }
    }

    static void makeExecutable(Path p) throws IOException {
        try {
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        } catch (UnsupportedOperationException notPosix) {
            p.toFile().setExecutable(true, false);
        }
    }
}
