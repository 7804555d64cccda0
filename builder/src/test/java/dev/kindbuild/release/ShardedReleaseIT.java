package dev.kindbuild.release;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.sample.SampleEnvironment;
import dev.kindbuild.sample.SampleSize;
import dev.kindbuild.testing.CliRun;
import dev.kindbuild.testing.ItTeardown;
import dev.kindbuild.testing.LocalRegistry;
import dev.kindbuild.testing.RecordingProgress;
import dev.kindbuild.testing.Skopeo;
import dev.kindbuild.testing.TestBaseImage;
import dev.kindbuild.testing.TestCache;
import dev.kindbuild.testing.TestEngine;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A release split over shards with the registry as the only shared state: finalize refuses, naming what is missing,
 * until every shard ran; a shard run again uploads nothing; the published index equals a single-machine release's.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ShardedReleaseIT {
    @RegisterExtension
    static final LocalRegistry REGISTRY = new LocalRegistry();
    private static final String V1 = "v1.31.2";
    private static final String V2 = "v1.30.6";
    private static final ObjectMapper JSON = new ObjectMapper();

    private DockerEngine engine;
    private TestCache cache;
    private SampleEnvironment env;
    private Path tmp;
    private String base;

    @BeforeAll
    void setUp() throws Exception {
        engine = TestEngine.connect();
        cache = TestCache.create();
        tmp = Files.createTempDirectory("kind-build-it-shards-");
        env = SampleEnvironment.start(List.of(V1, V2), List.of("amd64"), 0, REGISTRY.host(), SampleSize.STAND_IN, new RecordingProgress());
        base = TestBaseImage.get(engine, false, new RecordingProgress()).image();
    }

    @AfterAll
    void tearDown() {
        ItTeardown.run(engine, List.of(), env, cache, tmp);
    }

    private Path releaseFile(String repository) throws Exception {
        String yaml = "repository: " + repository + "\n"
                + "versions: [" + V1 + ", " + V2 + "]\n"
                + "arches: [amd64]\n"
                + "baseImage: " + base + "\n"
                + "kubernetesReleaseUrl: " + env.releaseUrl() + "\n"
                + "registryMirrors: {registry.k8s.io: \"" + REGISTRY.host() + "\", docker.io: \"" + REGISTRY.host() + "\"}\n";
        return Files.writeString(tmp.resolve("release-" + Math.abs(repository.hashCode()) + ".yaml"), yaml);
    }

    @Test
    void finalizeWaitsForEveryShardAndPublishesWhatOneMachineWould() throws Exception {
        String repository = REGISTRY.host() + "/kind-build-test/sharded";
        String file = releaseFile(repository).toString();

        CliRun early = CliRun.of("release", file, "--finalize");
        assertEquals(1, early.exit(), early.err());
        assertTrue(early.err().contains("not staged: " + V1 + " amd64, " + V2 + " amd64"), early.err());

        CliRun first = CliRun.of("release", file, "--shard", "1/2", "--json");
        assertEquals(0, first.exit(), first.err());
        CliRun half = CliRun.of("release", file, "--finalize");
        assertEquals(1, half.exit(), half.err());
        assertTrue(half.err().contains("not staged: " + V2 + " amd64") && !half.err().contains(V1 + " amd64,"), half.err());
        assertThrows(AssertionError.class, () -> Skopeo.run("inspect", "--raw", "docker://" + repository + ":" + V1), "no tag moved before finalize");

        CliRun again = CliRun.of("release", file, "--shard", "1/2", "--json");
        assertEquals(0, again.exit(), again.err());
        assertEquals(0, JSON.readTree(again.out()).path("staged").get(0).path("uploaded").asInt(), "a re-run uploads nothing: " + again.out());

        CliRun second = CliRun.of("release", file, "--shard", "2/2");
        assertEquals(0, second.exit(), second.err());
        CliRun done = CliRun.of("release", file, "--finalize", "--json");
        assertEquals(0, done.exit(), done.err());
        JsonNode published = JSON.readTree(done.out());
        assertEquals(2, published.path("versions").size(), done.out());

        // The same file published from one machine, to another repository: the same indexes, byte for byte.
        String single = REGISTRY.host() + "/kind-build-test/single";
        CliRun whole = CliRun.of("release", releaseFile(single).toString());
        assertEquals(0, whole.exit(), whole.err());
        for (String v : List.of(V1, V2)) {
            byte[] sharded = Skopeo.run("inspect", "--raw", "docker://" + repository + ":" + v);
            assertArrayEquals(Skopeo.run("inspect", "--raw", "docker://" + single + ":" + v), sharded, v + ": the same index");
            assertNotEquals(0, sharded.length);
        }
    }
}
