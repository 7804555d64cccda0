package dev.kindbuild.image.layer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kindbuild.UserError;
import dev.kindbuild.image.store.Descriptor;
import dev.kindbuild.image.store.ImageStore;
import dev.kindbuild.image.store.MediaTypes;
import dev.kindbuild.image.store.StoredImage;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Makes a new image from a base image in the store plus new layers and config changes, without a container engine:
 * writes the new config and an OCI manifest into the store. The base's layers are referenced by the same digests
 * and sizes (the same bytes), so a registry already holding the base receives only the new layers.
 *
 * <p>Reproducible: {@link #created} is required (no clock is read), history entries get that time, and config and
 * manifest are written as {@link CanonicalJson} (sorted keys), so the same inputs give the same image digest.
 */
public final class ImageAssembly {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Fields of a base's config that describe how the base itself was built, not the new image. */
    private static final List<String> BUILD_ONLY_FIELDS = List.of("container", "container_config", "docker_version", "id", "parent");

    private final StoredImage base; // null: from scratch
    private final ObjectNode scratchConfig;
    private final List<Layer> layers = new ArrayList<>();
    private final List<ObjectNode> history = new ArrayList<>();
    private final Map<String, String> env = new LinkedHashMap<>(); // value null: remove
    private final Map<String, String> labels = new LinkedHashMap<>();
    private List<String> entrypoint;
    private List<String> cmd;
    private boolean cmdSet;
    private String stopSignal;
    private String workingDir;
    private String user;
    private final List<String> volumes = new ArrayList<>();
    private Instant created;
    private String architecture;

    private ImageAssembly(StoredImage base, ObjectNode scratchConfig) {
        this.base = base;
        this.scratchConfig = scratchConfig;
    }

    public static ImageAssembly on(StoredImage base) {
        return new ImageAssembly(Objects.requireNonNull(base, "base"), null);
    }

    /** An image with no base (e.g. a static binary on an empty root), for {@code os}/{@code arch} such as linux/amd64. */
    public static ImageAssembly scratch(String os, String arch) {
        ObjectNode config = JSON.createObjectNode();
        config.put("architecture", Objects.requireNonNull(arch, "arch"));
        config.put("os", Objects.requireNonNull(os, "os"));
        config.putObject("config");
        return new ImageAssembly(null, config);
    }

    /** Appends a layer on top of those before it, with the history entry {@code createdBy}. */
    public ImageAssembly layer(Layer layer, String createdBy) {
        layers.add(layer);
        history.add(historyEntry(createdBy, false));
        return this;
    }

    /** A history entry that adds no layer (e.g. describing config changes). */
    public ImageAssembly history(String createdBy) {
        history.add(historyEntry(createdBy, true));
        return this;
    }

    /** Sets {@code name=value} in the environment, in place when the base has it, else appended. */
    public ImageAssembly env(String name, String value) {
        env.put(checkEnvName(name), Objects.requireNonNull(value, "value"));
        return this;
    }

    /** Removes {@code name} from the environment (e.g. proxy settings) when the base has it. */
    public ImageAssembly unsetEnv(String name) {
        env.put(checkEnvName(name), null);
        return this;
    }

    public ImageAssembly label(String key, String value) {
        labels.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
        return this;
    }

    public ImageAssembly entrypoint(List<String> value) {
        entrypoint = List.copyOf(value);
        return this;
    }

    /** Sets the command; an empty list clears the base's (docker's {@code CMD []}). */
    public ImageAssembly cmd(List<String> value) {
        cmd = List.copyOf(value);
        cmdSet = true;
        return this;
    }

    public ImageAssembly stopSignal(String value) {
        stopSignal = Objects.requireNonNull(value, "value");
        return this;
    }

    /** The user the image's processes run as ({@code UID:GID}, or a name its /etc/passwd knows). */
    public ImageAssembly user(String value) {
        user = Objects.requireNonNull(value, "value");
        return this;
    }

    /** A path the image declares as a volume: engines mount one there, so it is writable under a read-only root. */
    public ImageAssembly volume(String path) {
        volumes.add(Objects.requireNonNull(path, "path"));
        return this;
    }

    public ImageAssembly workingDir(String value) {
        workingDir = Objects.requireNonNull(value, "value");
        return this;
    }

    /** The image's creation time, e.g. from {@code SOURCE_DATE_EPOCH}; required, so nothing depends on the clock. */
    /**
     * Sets the config's architecture (and the variant containerd assumes for it: arm64 → v8): for a root filesystem
     * made for another architecture than the tool that wrapped it claimed.
     */
    public ImageAssembly architecture(String value) {
        architecture = Objects.requireNonNull(value, "architecture");
        return this;
    }

    public ImageAssembly created(Instant value) {
        created = Objects.requireNonNull(value, "value");
        return this;
    }

    /** Writes config and manifest into {@code store} (which must hold every layer) and returns the new image. */
    public StoredImage write(ImageStore store) {
        if (created == null) {
            throw new IllegalStateException("created is not set: an image's time must come from its inputs");
        }
        for (Layer l : layers) {
            if (!store.has(l.blob().digest())) {
                throw new UserError("layer " + l.blob().digest() + " is not in the image store " + store.root());
            }
        }
        List<String> baseDiffIds = base == null ? List.of() : base.diffIds();
        List<Descriptor> baseLayers = base == null ? List.of() : base.layers();
        if (baseDiffIds.size() != baseLayers.size()) {
            throw new UserError("base image " + base.manifest().digest() + " lists " + base.layers().size() + " layers but "
                    + baseDiffIds.size() + " diff_ids");
        }
        String time = created.truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString();
        ObjectNode config = base == null ? scratchConfig.deepCopy() : base.configJson().deepCopy();
        BUILD_ONLY_FIELDS.forEach(config::remove);
        config.put("created", time);
        if (architecture != null) {
            config.put("architecture", architecture);
            config.remove("variant");
            if (architecture.equals("arm64")) {
                config.put("variant", "v8");
            }
        }
        ObjectNode run = config.get("config") instanceof ObjectNode o ? o : config.putObject("config");
        applyEnv(run);
        if (!labels.isEmpty()) {
            ObjectNode l = run.get("Labels") instanceof ObjectNode o ? o : run.putObject("Labels");
            labels.forEach(l::put);
        }
        if (entrypoint != null) {
            strings(run.putArray("Entrypoint"), entrypoint);
        }
        if (cmdSet) {
            if (cmd.isEmpty()) {
                run.putNull("Cmd");
            } else {
                strings(run.putArray("Cmd"), cmd);
            }
        }
        if (stopSignal != null) {
            run.put("StopSignal", stopSignal);
        }
        if (workingDir != null) {
            run.put("WorkingDir", workingDir);
        }
        if (user != null) {
            run.put("User", user);
        }
        if (!volumes.isEmpty()) {
            ObjectNode v = run.get("Volumes") instanceof ObjectNode o ? o : run.putObject("Volumes");
            volumes.forEach(path -> v.putObject(path));
        }
        ObjectNode rootfs = config.putObject("rootfs");
        rootfs.put("type", "layers");
        ArrayNode diffIds = rootfs.putArray("diff_ids");
        baseDiffIds.forEach(diffIds::add);
        layers.forEach(l -> diffIds.add(l.diffId()));
        ArrayNode hist = config.get("history") instanceof ArrayNode a ? a : config.putArray("history");
        for (ObjectNode h : history) {
            ObjectNode entry = h.deepCopy();
            entry.put("created", time);
            hist.add(entry);
        }
        Descriptor configBlob = store.put(CanonicalJson.bytes(config), MediaTypes.OCI_CONFIG);

        ObjectNode manifest = JSON.createObjectNode();
        manifest.put("schemaVersion", 2);
        manifest.put("mediaType", MediaTypes.OCI_MANIFEST);
        manifest.set("config", JSON.valueToTree(new Descriptor(MediaTypes.OCI_CONFIG, configBlob.digest(), configBlob.size())));
        ArrayNode ls = manifest.putArray("layers");
        for (Descriptor d : baseLayers) {
            ls.add(JSON.valueToTree(asOciLayer(d)));
        }
        for (Layer l : layers) {
            ls.add(JSON.valueToTree(l.blob()));
        }
        Descriptor manifestBlob = store.put(CanonicalJson.bytes(manifest), MediaTypes.OCI_MANIFEST);
        return store.image(manifestBlob);
    }

    /**
     * A base layer as an OCI manifest lists it: same digest, size, annotations (same bytes); a Docker media type is
     * renamed to its OCI twin, since strict OCI consumers refuse Docker layer types in an OCI manifest.
     */
    static Descriptor asOciLayer(Descriptor d) {
        String type = switch (d.mediaType()) {
            case MediaTypes.DOCKER_LAYER_GZIP -> MediaTypes.OCI_LAYER_GZIP;
            case "application/vnd.docker.image.rootfs.diff.tar" -> MediaTypes.OCI_LAYER;
            default -> d.mediaType();
        };
        return new Descriptor(type, d.digest(), d.size(), d.annotations());
    }

    private void applyEnv(ObjectNode run) {
        if (env.isEmpty()) {
            return;
        }
        Map<String, String> current = new LinkedHashMap<>();
        for (JsonNode e : run.path("Env")) {
            String s = e.asText();
            int eq = s.indexOf('=');
            current.put(eq < 0 ? s : s.substring(0, eq), eq < 0 ? "" : s.substring(eq + 1));
        }
        env.forEach((k, v) -> {
            if (v == null) {
                current.remove(k);
            } else {
                current.put(k, v);
            }
        });
        ArrayNode out = run.putArray("Env");
        current.forEach((k, v) -> out.add(k + "=" + v));
    }

    private static ObjectNode historyEntry(String createdBy, boolean emptyLayer) {
        ObjectNode h = JSON.createObjectNode();
        h.put("created_by", Objects.requireNonNull(createdBy, "createdBy"));
        if (emptyLayer) {
            h.put("empty_layer", true);
        }
        return h;
    }

    private static void strings(ArrayNode into, List<String> values) {
        values.forEach(into::add);
    }

    private static String checkEnvName(String name) {
        if (name == null || name.isEmpty() || name.contains("=")) {
            throw new IllegalArgumentException("bad environment variable name: " + name);
        }
        return name;
    }
}
