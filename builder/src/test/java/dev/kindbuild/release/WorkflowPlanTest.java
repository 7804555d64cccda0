package dev.kindbuild.release;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

class WorkflowPlanTest {
    @Test
    @SuppressWarnings("unchecked")
    void aMatrixEntryPerShardThenFinalizeAfterThemAll() {
        String yaml = new WorkflowPlan("rel", "releases/v1.yaml", 3, "r.example/kind-build:v1", "r.example").yaml();
        Map<String, Object> workflow = new Yaml(new SafeConstructor(new LoaderOptions())).load(yaml);
        Map<String, Object> jobs = (Map<String, Object>) workflow.get("jobs");
        assertEquals(List.of("shard", "finalize"), List.copyOf(jobs.keySet()));
        Map<String, Object> shard = (Map<String, Object>) jobs.get("shard");
        assertEquals(List.of(1, 2, 3), ((Map<String, Object>) ((Map<String, Object>) shard.get("strategy")).get("matrix")).get("shard"));
        assertEquals("shard", ((Map<String, Object>) jobs.get("finalize")).get("needs"));
        String shardRun = run(shard);
        assertTrue(shardRun.contains("--read-only") && shardRun.contains("--user \"$(id -u):$(id -g)\""), shardRun);
        assertTrue(shardRun.endsWith("r.example/kind-build:v1 release releases/v1.yaml --shard ${{ matrix.shard }}/3"), shardRun);
        assertTrue(run((Map<String, Object>) jobs.get("finalize")).endsWith("release releases/v1.yaml --finalize"));
        assertTrue(yaml.contains("docker login r.example"), yaml);
    }

    @SuppressWarnings("unchecked")
    private static String run(Map<String, Object> job) {
        List<Map<String, Object>> steps = (List<Map<String, Object>>) job.get("steps");
        return (String) steps.get(steps.size() - 1).get("run");
    }
}
