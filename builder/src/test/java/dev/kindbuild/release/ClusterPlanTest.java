package dev.kindbuild.release;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

class ClusterPlanTest {
    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o, String key) {
        return (Map<String, Object>) ((Map<String, Object>) o).get(key);
    }

    @Test
    @SuppressWarnings("unchecked")
    void oneJobPerShardThenAFinalizeJobAllReadingTheReleaseFileFromAConfigMap() {
        String file = "repository: r.example/kindest/node\nversions: [v1.31.2]\narches: [amd64, arm64]\n";
        String yaml = new ClusterPlan("rel", Map.of("release.yaml", file, "certs/ca.pem", "PEM"), 3, "r.example/kind-build:v1",
                Optional.of("push-creds"), "1", "768Mi").yaml();
        List<Object> docs = new ArrayList<>();
        new Yaml(new SafeConstructor(new LoaderOptions())).loadAll(yaml).forEach(docs::add);

        assertEquals(5, docs.size(), yaml);
        assertEquals("ConfigMap", ((Map<String, Object>) docs.get(0)).get("kind"));
        assertEquals(file, map(docs.get(0), "data").get("release.yaml"), "the release file as given");
        assertEquals("PEM", map(docs.get(0), "data").get("certs_ca.pem"), "its CA, under a key without a slash");
        for (int i = 1; i <= 4; i++) {
            Map<String, Object> job = (Map<String, Object>) docs.get(i);
            assertEquals("Job", job.get("kind"));
            Map<String, Object> pod = map(map(map(job, "spec"), "template"), "spec");
            assertEquals("Never", pod.get("restartPolicy"));
            Map<String, Object> container = ((List<Map<String, Object>>) pod.get("containers")).get(0);
            assertEquals("r.example/kind-build:v1", container.get("image"));
            List<String> args = (List<String>) container.get("args");
            assertEquals(i <= 3 ? List.of("release", "/release/release.yaml", "--shard", i + "/3")
                    : List.of("release", "/release/release.yaml", "--finalize", "--wait", "60m"), args);
            assertEquals(true, map(container, "securityContext").get("runAsNonRoot"), "no root, no privileges");
            assertTrue(((List<Map<String, Object>>) container.get("env")).contains(Map.of("name", "DOCKER_CONFIG", "value", "/docker")),
                    "credentials from the Secret as a Docker config");
            assertTrue(((List<Map<String, Object>>) container.get("volumeMounts")).contains(Map.of("name", "cache", "mountPath", "/var/cache/kind-build")),
                    "the cache on the image's cache volume: the only writable place");
            Map<String, Object> release = ((List<Map<String, Object>>) pod.get("volumes")).get(0);
            assertEquals(List.of(Map.of("key", "certs_ca.pem", "path", "certs/ca.pem"), Map.of("key", "release.yaml", "path", "release.yaml")),
                    map(release, "configMap").get("items"), "the CA where the release file's caCert finds it");
        }
    }
}
