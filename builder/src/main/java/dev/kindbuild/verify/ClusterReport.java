package dev.kindbuild.verify;

import dev.kindbuild.engine.NodeMode;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The outcome of `kind-build verify --cluster`.
 *
 * @param image    the node image checked
 * @param nodeMode how the node was run
 * @param checks   every check made, in order; the first failure ends the run
 * @param seconds  timings: boot, imagesLoaded (both from container start), kubeadmInit, readyAfterCni, podRunning, total
 */
public record ClusterReport(String image, NodeMode nodeMode, List<Check> checks, Map<String, Double> seconds) {
    public ClusterReport {
        checks = List.copyOf(checks);
        seconds = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(seconds));
    }

    /** All checks of a full run held: a Running pod, with nothing pulled. */
    public boolean passed() {
        return checks.stream().anyMatch(c -> c.name().equals("no pulls")) && checks.stream().allMatch(Check::ok);
    }
}
