package dev.kindbuild.release;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * `release FILE --plan kubernetes`: the manifests that run a release on a cluster, the registry the only shared
 * state. The release file goes in a ConfigMap; one Job per shard runs {@code release FILE --shard I/N} in kind-build's
 * image (its cache on an emptyDir, registry credentials from a Secret as a Docker config, retries by the Job's
 * backoff); a finalize Job runs {@code release FILE --finalize}, which refuses while any shard's image is missing, so
 * its own backoff waits for the shards. Plain YAML a user reviews and applies ({@code kubectl apply -f -}).
 *
 * @param name           the release's name, prefix of every object (a DNS label)
 * @param releaseFile    the release file's text
 * @param shards         how many shard Jobs
 * @param image          kind-build's image
 * @param registrySecret a Secret of type kubernetes.io/dockerconfigjson with push access, if the registry needs one
 * @param cpu            the CPU a shard requests
 * @param memory         the memory a shard requests (and is limited to)
 */
public record ClusterPlan(String name, String releaseFile, int shards, String image, Optional<String> registrySecret, String cpu,
        String memory) {

    /** The manifests, as one multi-document YAML stream. */
    public String yaml() {
        DumperOptions options = new DumperOptions();
        options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
        options.setExplicitStart(true);
        List<Object> docs = new ArrayList<>();
        docs.add(configMap());
        for (int i = 1; i <= shards; i++) {
            docs.add(job(name + "-shard-" + i, List.of("release", "/release/release.yaml", "--shard", i + "/" + shards), 4));
        }
        // Finalize refuses while a shard's image is missing: its backoff (10 s, doubling, capped at 6 min) waits for them.
        docs.add(job(name + "-finalize", List.of("release", "/release/release.yaml", "--finalize"), 12));
        return new Yaml(options).dumpAll(docs.iterator());
    }

    private Map<String, Object> configMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("apiVersion", "v1");
        m.put("kind", "ConfigMap");
        m.put("metadata", Map.of("name", name + "-release", "labels", labels()));
        m.put("data", Map.of("release.yaml", releaseFile));
        return m;
    }

    private Map<String, Object> job(String jobName, List<String> args, int backoffLimit) {
        Map<String, Object> container = new LinkedHashMap<>();
        container.put("name", "kind-build");
        container.put("image", image);
        container.put("args", args);
        List<Map<String, Object>> env = new ArrayList<>(List.of(Map.of("name", "KIND_BUILD_CACHE", "value", "/cache")));
        List<Map<String, Object>> mounts = new ArrayList<>(List.of(
                Map.of("name", "release", "mountPath", "/release", "readOnly", true),
                Map.of("name", "cache", "mountPath", "/cache")));
        List<Map<String, Object>> volumes = new ArrayList<>(List.of(
                Map.of("name", "release", "configMap", Map.of("name", name + "-release")),
                Map.of("name", "cache", "emptyDir", Map.of())));
        registrySecret.ifPresent(secret -> {
            env.add(Map.of("name", "DOCKER_CONFIG", "value", "/docker"));
            mounts.add(Map.of("name", "registry", "mountPath", "/docker", "readOnly", true));
            volumes.add(Map.of("name", "registry", "secret", Map.of("secretName", secret,
                    "items", List.of(Map.of("key", ".dockerconfigjson", "path", "config.json")))));
        });
        container.put("env", env);
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
