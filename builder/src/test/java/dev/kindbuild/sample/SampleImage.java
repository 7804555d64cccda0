package dev.kindbuild.sample;

import dev.kindbuild.support.Sha256;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A tiny single-layer Linux image built in memory, deterministically (fixed mtimes, sorted entries, fixed
 * {@code created}): same inputs → same digests. For samples and tests only — the layer is held in memory.
 *
 * <p>Two ways out:
 * <ul>
 *   <li>{@link #writeDockerArchive(Path)}: a {@code docker save}-style tarball ({@code manifest.json},
 *       {@code <config-hex>.json}, {@code <diffid-hex>/layer.tar}, legacy {@code repositories}), loadable by
 *       {@code docker load} and {@code ctr images import}; this is the format of the image tars in Kubernetes
 *       release tarballs.</li>
 *   <li>The parts for a registry push: {@link #configJson()} / {@link #configDigest()}, {@link #layerTar()} /
 *       {@link #diffId()} (uncompressed, media type {@code application/vnd.oci.image.layer.v1.tar}) or
 *       {@link #layerTarGz()} / {@link #layerGzDigest()} ({@code ...tar+gzip}), and {@link #ociManifestJson(boolean)}.</li>
 * </ul>
 *
 * <pre>{@code
 * SampleImage.of("amd64", "registry.k8s.io/kube-apiserver-amd64:v1.31.2")
 *     .withFile("usr/local/bin/kube-apiserver", "#!/bin/sh\necho sample\n", 0755)
 *     .withEntrypoint("/usr/local/bin/kube-apiserver")
 *     .writeDockerArchive(out);
 * }</pre>
 *
 * Instances are immutable; {@code with*} return copies.
 */
public final class SampleImage {
    /** The {@code created} time recorded in every sample config. */
    public static final String CREATED = "2024-01-01T00:00:00Z";

    private final String arch;
    private final List<String> repoTags;
    private final TreeMap<String, Tars.Entry> files;
    private final List<String> entrypoint;
    private final List<String> cmd;
    private final TreeMap<String, String> labels;
    private byte[] layer;
    private byte[] config;

    private SampleImage(String arch, List<String> repoTags, TreeMap<String, Tars.Entry> files, List<String> entrypoint,
            List<String> cmd, TreeMap<String, String> labels) {
        this.arch = arch;
        this.repoTags = List.copyOf(repoTags);
        this.files = files;
        this.entrypoint = List.copyOf(entrypoint);
        this.cmd = List.copyOf(cmd);
        this.labels = labels;
    }

    /** An empty linux/{@code arch} image with these {@code repo:tag} names (may be none). */
    public static SampleImage of(String arch, String... repoTags) {
        return new SampleImage(arch, List.of(repoTags), new TreeMap<>(), List.of(), List.of(), new TreeMap<>());
    }

    /** Adds a file to the single layer; {@code path} is relative ({@code usr/bin/x}), {@code mode} e.g. 0644. */
    public SampleImage withFile(String path, byte[] content, int mode) {
        TreeMap<String, Tars.Entry> f = new TreeMap<>(files);
        String p = path.startsWith("/") ? path.substring(1) : path;
        f.put(p, new Tars.Entry(content.clone(), mode));
        return new SampleImage(arch, repoTags, f, entrypoint, cmd, labels);
    }

    public SampleImage withFile(String path, String content, int mode) {
        return withFile(path, content.getBytes(StandardCharsets.UTF_8), mode);
    }

    public SampleImage withEntrypoint(String... args) {
        return new SampleImage(arch, repoTags, files, List.of(args), cmd, labels);
    }

    public SampleImage withCmd(String... args) {
        return new SampleImage(arch, repoTags, files, entrypoint, List.of(args), labels);
    }

    public SampleImage withLabel(String key, String value) {
        TreeMap<String, String> l = new TreeMap<>(labels);
        l.put(key, value);
        return new SampleImage(arch, repoTags, files, entrypoint, cmd, l);
    }

    /** Replaces the names recorded in the docker archive. */
    public SampleImage withRepoTags(String... tags) {
        return new SampleImage(arch, List.of(tags), files, entrypoint, cmd, labels);
    }

    public String arch() {
        return arch;
    }

    public List<String> repoTags() {
        return repoTags;
    }

    /** The uncompressed layer tar. */
    public synchronized byte[] layerTar() {
        if (layer == null) {
            try {
                layer = Tars.tar(files);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return layer.clone();
    }

    /** The layer tar gzip-compressed (deterministically). */
    public byte[] layerTarGz() {
        try {
            return Tars.gzip(layerTar());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code sha256:<hex>} of the uncompressed layer (the config's diff_id). */
    public String diffId() {
        return "sha256:" + Sha256.of(layerTar());
    }

    /** {@code sha256:<hex>} of {@link #layerTarGz()}. */
    public String layerGzDigest() {
        return "sha256:" + Sha256.of(layerTarGz());
    }

    /** The image config (OCI / Docker image config JSON, keys sorted). */
    public synchronized byte[] configJson() {
        if (config == null) {
            StringBuilder c = new StringBuilder();
            c.append("{\"architecture\":").append(Json.str(arch));
            c.append(",\"config\":{");
            List<String> parts = new ArrayList<>();
            if (!cmd.isEmpty()) parts.add("\"Cmd\":" + Json.array(cmd));
            if (!entrypoint.isEmpty()) parts.add("\"Entrypoint\":" + Json.array(entrypoint));
            parts.add("\"Env\":" + Json.array(List.of("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")));
            if (!labels.isEmpty()) parts.add("\"Labels\":" + Json.object(labels));
            c.append(String.join(",", parts)).append('}');
            c.append(",\"created\":").append(Json.str(CREATED));
            c.append(",\"history\":[{\"created\":").append(Json.str(CREATED))
                    .append(",\"created_by\":\"kind-build sample image\"}]");
            c.append(",\"os\":\"linux\"");
            c.append(",\"rootfs\":{\"diff_ids\":[").append(Json.str(diffId())).append("],\"type\":\"layers\"}");
            c.append('}');
            config = c.toString().getBytes(StandardCharsets.UTF_8);
        }
        return config.clone();
    }

    /** {@code sha256:<hex>} of {@link #configJson()}: the image ID. */
    public String configDigest() {
        return "sha256:" + Sha256.of(configJson());
    }

    /**
     * An OCI image manifest for a registry push of {@link #configJson()} and the layer ({@link #layerTarGz()} when
     * {@code gzipLayer}, else {@link #layerTar()}).
     */
    public byte[] ociManifestJson(boolean gzipLayer) {
        byte[] l = gzipLayer ? layerTarGz() : layerTar();
        String s = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                + "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":"
                + Json.str(configDigest()) + ",\"size\":" + configJson().length + "},"
                + "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar" + (gzipLayer ? "+gzip" : "")
                + "\",\"digest\":" + Json.str("sha256:" + Sha256.of(l)) + ",\"size\":" + l.length + "}]}";
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** The {@code docker save} archive entries: path → content. */
    Map<String, Tars.Entry> dockerArchiveEntries() {
        String configHex = configDigest().substring(7);
        String layerHex = diffId().substring(7);
        Map<String, Tars.Entry> e = new LinkedHashMap<>();
        e.put(configHex + ".json", new Tars.Entry(configJson(), 0644));
        e.put(layerHex + "/layer.tar", new Tars.Entry(layerTar(), 0644));
        e.put(layerHex + "/VERSION", Tars.Entry.text("1.0", 0644));
        e.put("manifest.json", Tars.Entry.text("[{\"Config\":" + Json.str(configHex + ".json") + ",\"RepoTags\":"
                + Json.array(repoTags) + ",\"Layers\":[" + Json.str(layerHex + "/layer.tar") + "]}]", 0644));
        if (!repoTags.isEmpty()) {
            TreeMap<String, TreeMap<String, String>> repos = new TreeMap<>();
            for (String t : repoTags) {
                int colon = t.lastIndexOf(':');
                if (colon > t.lastIndexOf('/')) {
                    repos.computeIfAbsent(t.substring(0, colon), k -> new TreeMap<>()).put(t.substring(colon + 1), layerHex);
                }
            }
            StringBuilder r = new StringBuilder("{");
            boolean first = true;
            for (var repo : repos.entrySet()) {
                r.append(first ? "" : ",").append(Json.str(repo.getKey())).append(':').append(Json.object(repo.getValue()));
                first = false;
            }
            e.put("repositories", Tars.Entry.text(r.append('}').toString(), 0644));
        }
        return e;
    }

    /** Writes a {@code docker save}-style archive (uncompressed tar) to {@code out}, replacing it. */
    public void writeDockerArchive(Path out) throws IOException {
        Path parent = out.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        try (OutputStream o = Files.newOutputStream(out)) {
            Tars.writeTar(dockerArchiveEntries(), o);
        }
    }

    /** The {@code docker save}-style archive as bytes. */
    public byte[] dockerArchive() {
        try {
            return Tars.tar(dockerArchiveEntries());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Minimal JSON text helpers (strings, string arrays, string maps). */
    static final class Json {
        private Json() {}

        static String str(String s) {
            StringBuilder b = new StringBuilder("\"");
            for (char ch : s.toCharArray()) {
                switch (ch) {
                    case '"' -> b.append("\\\"");
                    case '\\' -> b.append("\\\\");
                    case '\n' -> b.append("\\n");
                    case '\r' -> b.append("\\r");
                    case '\t' -> b.append("\\t");
                    default -> {
                        if (ch < 0x20) {
                            b.append(String.format("\\u%04x", (int) ch));
                        } else {
                            b.append(ch);
                        }
                    }
                }
            }
            return b.append('"').toString();
        }

        static String array(List<String> items) {
            List<String> q = new ArrayList<>();
            for (String i : items) q.add(str(i));
            return "[" + String.join(",", q) + "]";
        }

        static String object(Map<String, String> map) {
            List<String> q = new ArrayList<>();
            for (var e : new TreeMap<>(map).entrySet()) q.add(str(e.getKey()) + ":" + str(e.getValue()));
            return "{" + String.join(",", q) + "}";
        }
    }
}
