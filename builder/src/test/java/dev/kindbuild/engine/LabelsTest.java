package dev.kindbuild.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class LabelsTest {

    @Test
    void aContainerOfThisToolCarriesAFreshMarkAndNoImageLabel() {
        Map<String, String> labels = Labels.forContainer("node-builder");
        String mark = labels.get(Labels.CONTAINER);
        assertTrue(Labels.createdByKindBuild(labels, Map.of()), labels.toString());
        assertTrue(Labels.creatorOf(mark).orElseThrow().isThisProcess());
        assertNotEquals(mark, Labels.forContainer("node-builder").get(Labels.CONTAINER), "each container gets its own mark");
        assertFalse(labels.containsKey(Labels.IMAGE_KIND));
        assertFalse(labels.containsKey(Labels.LEGACY_OWNER));
    }

    @Test
    void aMarkInheritedFromTheImageIsNeverTakenForOurs() {
        Map<String, String> image = Map.of(Labels.CONTAINER, "42.1700000000000.abcd1234");
        // A container started from that image inherits the very same value.
        assertFalse(Labels.createdByKindBuild(Map.of(Labels.CONTAINER, "42.1700000000000.abcd1234"), image));
        // kind-build creating a container from it sets a new mark, which is ours.
        assertTrue(Labels.createdByKindBuild(Map.of(Labels.CONTAINER, "42.1700000000000.ffff0000"), image));
    }

    @Test
    void theOldOwnerLabelAndEmptyOrForeignMarksDoNotCount() {
        assertFalse(Labels.createdByKindBuild(Map.of("dev.kind-build.owner", "kind-build", Labels.PID, "1"), Map.of()));
        assertFalse(Labels.createdByKindBuild(Map.of(Labels.CONTAINER, ""), Map.of(Labels.CONTAINER, "")));
        assertFalse(Labels.createdByKindBuild(Map.of(Labels.CONTAINER, "mine"), Map.of()));
    }

    @Test
    void aDeadCreatorAndAReusedPidAreNotAlive() throws Exception {
        Process p = new ProcessBuilder("true").start();
        long start = p.info().startInstant().map(i -> i.toEpochMilli()).orElse(1L);
        p.waitFor();
        assertFalse(Labels.creatorOf(p.pid() + "." + start + ".x").orElseThrow().alive());
        long self = ProcessHandle.current().pid();
        long selfStart = ProcessHandle.current().info().startInstant().orElseThrow().toEpochMilli();
        assertTrue(Labels.creatorOf(self + "." + selfStart + ".x").orElseThrow().alive());
        assertFalse(Labels.creatorOf(self + "." + (selfStart - 3_600_000) + ".x").orElseThrow().alive(),
                "the same PID started at another time is another process");
        assertEquals(self, Labels.creatorOf(self + ".0.x").orElseThrow().pid());
    }
}
