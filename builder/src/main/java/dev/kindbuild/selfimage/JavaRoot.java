package dev.kindbuild.selfimage;

import com.google.common.io.ByteStreams;
import dev.kindbuild.UserError;
import dev.kindbuild.image.layer.LayerEntry;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarFile;

/**
 * The root layer of kind-build's image: a Debian root unpacked without maintainer scripts (mmdebstrap's extract
 * variant: a JRE, CA certificates and their dependencies), plus what those scripts would have made and kind-build
 * needs — the merged-/usr links, {@code /usr/bin/java}, the JRE's trust store, a passwd entry for the unprivileged user
 * and its cache directory. Files stream from the tar when the layer is written; only the certificates are read here.
 */
final class JavaRoot {
    /** Raised when what this layer holds for the same Debian root changes, so cached layers are written again. */
    static final int REVISION = 1;
    static final long UID = 65532;
    static final String USER = "kind-build";
    static final String CACHE = "/var/cache/kind-build";
    private static final String CERTIFICATES = "usr/share/ca-certificates/mozilla/";
    private static final List<String> MERGED_USR = List.of("bin", "lib", "lib64", "sbin");

    /** The layer's entries and where the JRE is. */
    record Contents(List<LayerEntry> entries, String javaHome) {
        String java() {
            return javaHome + "/bin/java";
        }
    }

    private JavaRoot() {}

    static Contents read(Path rootTar) {
        Map<String, LayerEntry> entries = new LinkedHashMap<>();
        SortedMap<String, byte[]> certificates = new TreeMap<>();
        Optional<String> javaHome = Optional.empty();
        try (TarFile tar = new TarFile(rootTar)) {
            for (TarArchiveEntry e : tar.getEntries()) {
                String path = LayerEntry.normalize(e.getName());
                if (path.isEmpty() || path.equals("dev") || path.startsWith("dev/")) {
                    continue; // device nodes: the engine makes /dev
                }
                int mode = e.getMode() & 07777;
                if (e.isDirectory()) {
                    entries.put(path, LayerEntry.directory(path, mode, e.getLongUserId(), e.getLongGroupId()));
                } else if (e.isSymbolicLink()) {
                    entries.put(path, LayerEntry.symlink(path, e.getLinkName()));
                } else if (e.isLink()) {
                    entries.put(path, LayerEntry.hardLink(path, LayerEntry.normalize(e.getLinkName())));
                } else if (e.isFile()) {
                    entries.put(path, new LayerEntry(LayerEntry.Type.FILE, path, mode, e.getLongUserId(), e.getLongGroupId(), null,
                            new TarMember(rootTar, e.getDataOffset(), e.getSize()), null));
                    if (path.startsWith(CERTIFICATES) && path.endsWith(".crt")) {
                        try (InputStream in = tar.getInputStream(e)) {
                            certificates.put(path.substring(CERTIFICATES.length(), path.length() - 4).toLowerCase(java.util.Locale.ROOT),
                                    in.readAllBytes());
                        }
                    }
                    if (path.matches("usr/lib/jvm/[^/]+/bin/java") && javaHome.isEmpty()) {
                        javaHome = Optional.of("/" + path.substring(0, path.length() - "/bin/java".length()));
                    }
                }
                // fifos and devices elsewhere: none in a Debian root worth keeping
            }
        } catch (IOException e) {
            throw new UserError("cannot read the Debian root " + rootTar + ": " + e.getMessage() + "; remove it to have it made again", e);
        }
        String home = javaHome.orElseThrow(() -> new UserError("the Debian root " + rootTar + " holds no JRE (usr/lib/jvm/*/bin/java)"
                + "; remove it to have it made again"));
        if (certificates.isEmpty()) {
            throw new UserError("the Debian root " + rootTar + " holds no CA certificates (" + CERTIFICATES + "); remove it to have it made again");
        }
        for (String dir : MERGED_USR) {
            if (entries.containsKey("usr/" + dir)) {
                entries.putIfAbsent(dir, LayerEntry.symlink(dir, "usr/" + dir));
            }
        }
        entries.put("usr/bin/java", LayerEntry.symlink("usr/bin/java", relativeFromUsrBin(home) + "/bin/java"));
        entries.put(JavaTrustStore.PATH, LayerEntry.file(JavaTrustStore.PATH, JavaTrustStore.of(certificates), 0644));
        entries.put("etc/passwd", LayerEntry.file("etc/passwd", ("root:x:0:0:root:/root:/usr/sbin/nologin\n"
                + USER + ":x:" + UID + ":" + UID + ":kind-build:" + CACHE + ":/usr/sbin/nologin\n").getBytes(StandardCharsets.UTF_8), 0644));
        entries.put("etc/group", LayerEntry.file("etc/group", ("root:x:0:\n" + USER + ":x:" + UID + ":\n").getBytes(StandardCharsets.UTF_8), 0644));
        String cache = CACHE.substring(1);
        entries.put(cache, LayerEntry.directory(cache, 0755, UID, UID));
        return new Contents(new ArrayList<>(entries.values()), home);
    }

    private static String relativeFromUsrBin(String javaHome) {
        return ".." + javaHome.substring("/usr".length());
    }

    /** A regular file's bytes inside the uncompressed tar, read in place when the layer is written. */
    record TarMember(Path tar, long offset, long size) implements LayerEntry.FileSource {
        @Override
        public InputStream open() throws IOException {
            SeekableByteChannel channel = Files.newByteChannel(tar);
            channel.position(offset);
            return ByteStreams.limit(Channels.newInputStream(channel), size);
        }

        @Override
        public String toString() {
            return tar + " @" + offset;
        }
    }
}
