package dev.kindbuild.release;

import dev.kindbuild.UserError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * `release FILE --plan kubernetes`: the manifests that run a release on a cluster, the registry the only shared
 * state. The release file (and the CA its {@code caCert} names, at the same place relative to it) goes in a
 * ConfigMap; one Job per shard runs {@code release FILE --shard I/N} in kind-build's image (its cache on an emptyDir
 * at the image's cache volume, registry credentials from a Secret as a Docker config, retries by the Job's backoff); a
 * finalize Job runs {@code release FILE --finalize --wait}, which waits for the shards' images and refuses, naming
 * them, when some never come. Plain YAML a user reviews and applies ({@code kubectl apply -f -}).
 *
 * @param name           the release's name, prefix of every object (a DNS label)
 * @param files          the files the pods read, by path relative to the release file's folder: release.yaml first
 * @param shards         how many shard Jobs
 * @param image          kind-build's image
 * @param registrySecret a Secret of type kubernetes.io/dockerconfigjson with push access, if the registry needs one
 * @param cpu            the CPU a shard requests
 * @param memory         the memory a shard requests (and is limited to)
 */
public record ClusterPlan(String name, Map<String, String> files, int shards, String image, Optional<String> registrySecret, String cpu,
        String memory) {
    static final String RELEASE = "release.yaml";
    /** Where the pods see the release file's folder. */
    static final String FOLDER = "/release";
    /** kind-build's image keeps its cache here (a volume of the image): the pods mount an emptyDir on it. */
    static final String CACHE = "/var/cache/kind-build";
    /**
     * Requests from measurements (docs/releases.md): a shard holds kind-build's 256 MB heap bound plus the page cache of
     * the layers it writes into its emptyDir, which the memory limit counts. CPU is a request, not a limit: a shard's
     * gzip and hashing use what the node leaves idle, and half a core lets two shards and finalize share a 2-core node.
     */
    public static final String DEFAULT_CPU = "500m";
    public static final String DEFAULT_MEMORY = "768Mi";
    /** How long finalize waits for the shards in one attempt. */
    static final String FINALIZE_WAIT = "60m";

    public ClusterPlan {
        files = Map.copyOf(files);
        if (!files.containsKey(RELEASE)) {
            throw new IllegalArgumentException("no " + RELEASE);
        }
    }

    /** The plan for {@code release}, read from {@code file}: its text and its CA go along. */
    public static ClusterPlan of(ReleaseFile release, Path file, int shards, String image, Optional<String> registrySecret) {
        Map<String, String> files = new LinkedHashMap<>();
        files.put(RELEASE, read(file));
        release.caCert().ifPresent(ca -> {
            Path relative = file.toAbsolutePath().getParent().relativize(ca.toAbsolutePath()).normalize();
            if (relative.startsWith("..") || relative.isAbsolute()) {
                throw new UserError(file + ": caCert " + ca + " lies outside the release file's folder; the pods see only that"
                        + " folder: put the CA beside the release file");
            }
            files.put(relative.toString(), read(ca));
        });
        return new ClusterPlan("release-" + release.inputsDigest().substring(0, 8), files, shards, image, registrySecret, DEFAULT_CPU,
                DEFAULT_MEMORY);
    }

    private static String read(Path f) {
        try {
            return Files.readString(f);
        } catch (IOException e) {
            throw new UserError("cannot read " + f + ": " + e.getMessage(), e);
        }
    }

    /** The manifests, as one multi-document YAML stream. */
    public String yaml() {
        DumperOptions options = new DumperOptions();
        options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
        options.setExplicitStart(true);
        List<Object> docs = new ArrayList<>();
        docs.add(configMap());
        String releaseFile = FOLDER + "/" + RELEASE;
        for (int i = 1; i <= shards; i++) {
            docs.add(job(name + "-shard-" + i, List.of("release", releaseFile, "--shard", i + "/" + shards), 4));
        }
        // Finalize waits for the shards' images itself (checking every 10 s), so it ends right after the last shard; a
        // shard that never comes leaves it failing after the wait, naming what is missing, retried by its backoff.
        docs.add(job(name + "-finalize", List.of("release", releaseFile, "--finalize", "--wait", FINALIZE_WAIT), 2));
        return new Yaml(options).dumpAll(docs.iterator());
    }

    /** A ConfigMap key for a relative path ("certs/ca.pem" → "certs_ca.pem"): keys hold no slash. */
    private static String key(String path) {
        return path.replaceAll("[^-._a-zA-Z0-9]", "_");
    }

    private Map<String, Object> configMap() {
        Map<String, Object> data = new LinkedHashMap<>();
        files.keySet().stream().sorted().forEach(path -> data.put(key(path), files.get(path)));
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("apiVersion", "v1");
        m.put("kind", "ConfigMap");
        m.put("metadata", Map.of("name", name + "-release", "labels", labels()));
        m.put("data", data);
        return m;
    }

    private Map<String, Object> job(String jobName, List<String> args, int backoffLimit) {
        Map<String, Object> container = new LinkedHashMap<>();
        container.put("name", "kind-build");
        container.put("image", image);
        container.put("args", args);
        List<Map<String, Object>> env = new ArrayList<>();
        List<Map<String, Object>> mounts = new ArrayList<>(List.of(
                Map.of("name", "release", "mountPath", FOLDER, "readOnly", true),
                Map.of("name", "cache", "mountPath", CACHE)));
        List<Object> items = files.keySet().stream().sorted().map(path -> (Object) Map.of("key", key(path), "path", path)).toList();
        List<Map<String, Object>> volumes = new ArrayList<>(List.of(
                Map.of("name", "release", "configMap", Map.of("name", name + "-release", "items", items)),
                Map.of("name", "cache", "emptyDir", Map.of())));
        registrySecret.ifPresent(secret -> {
            env.add(Map.of("name", "DOCKER_CONFIG", "value", "/docker"));
            mounts.add(Map.of("name", "registry", "mountPath", "/docker", "readOnly", true));
            volumes.add(Map.of("name", "registry", "secret", Map.of("secretName", secret,
                    "items", List.of(Map.of("key", ".dockerconfigjson", "path", "config.json")))));
        });
        if (!env.isEmpty()) {
            container.put("env", env);
        }
        container.put("volumeMounts", mounts);
        container.put("resources", Map.of("requests", Map.of("cpu", cpu, "memory", memory), "limits", Map.of("memory", memory)));
        container.put("securityContext", Map.of("runAsNonRoot", true, "allowPrivilegeEscalation", false,
                "readOnlyRootFilesystem", true, "capabilities", Map.of("drop", List.of("ALL"))));
        Map<String, Object> pod = new LinkedHashMap<>();
        pod.put("restartPolicy", "Never");
        pod.put("containers", List.of(container));
        pod.put("volumes", volumes);
        Map<String, Object> spec = new LinkedHashMap<>();
        spec.put("backoffLimit", backoffLimit);
        spec.put("template", Map.of("metadata", Map.of("labels", labels()), "spec", pod));
        Map<String, Object> job = new LinkedHashMap<>();
        job.put("apiVersion", "batch/v1");
        job.put("kind", "Job");
        job.put("metadata", Map.of("name", jobName, "labels", labels()));
        job.put("spec", spec);
        return job;
    }

    private Map<String, String> labels() {
        return Map.of("app.kubernetes.io/name", "kind-build", "app.kubernetes.io/instance", name);
    }
}
