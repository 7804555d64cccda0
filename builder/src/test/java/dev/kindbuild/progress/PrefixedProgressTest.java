package dev.kindbuild.progress;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PrefixedProgressTest {

    @Test
    void everyStepAndLineCarriesThePrefixAndTimingsKeepTheBareNames() {
        List<BuildEvent> seen = new ArrayList<>();
        Progress console = seen::add;
        StepTimes timed = new StepTimes(console.prefixed("[v1.31.2 arm64] "));
        timed.step("Pulling images", () -> 3);
        timed.notice("kubeadm for arm64 cannot run here");
        timed.bytes("pull", 1, 2);
        assertEquals(List.of("[v1.31.2 arm64] Pulling images", "[v1.31.2 arm64] Pulling images", "[v1.31.2 arm64] kubeadm for arm64 cannot run here",
                "[v1.31.2 arm64] pull"), seen.stream().map(PrefixedProgressTest::text).toList());
        assertEquals(List.of("Pulling images"), List.copyOf(timed.seconds().keySet()));
    }

    private static String text(BuildEvent e) {
        if (e instanceof BuildEvent.StepStarted s) {
            return s.step();
        }
        if (e instanceof BuildEvent.StepSucceeded s) {
            return s.step();
        }
        if (e instanceof BuildEvent.Notice n) {
            return n.line();
        }
        if (e instanceof BuildEvent.Bytes b) {
            return b.what();
        }
        return e.toString();
    }
}
