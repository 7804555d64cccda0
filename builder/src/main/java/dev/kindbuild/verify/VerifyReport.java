package dev.kindbuild.verify;

import dev.kindbuild.engine.NodeMode;
import java.util.List;

/**
 * The outcome of `kind-build verify`.
 *
 * @param image                   the node image checked
 * @param nodeMode                how the node was run
 * @param offline                 whether the node had no network
 * @param bootToImagesLoadedSeconds from container start until the image loader finished
 * @param checks                  every check, in order
 */
public record VerifyReport(String image, NodeMode nodeMode, boolean offline, double bootToImagesLoadedSeconds, List<Check> checks) {
    public VerifyReport {
        checks = List.copyOf(checks);
    }

    public boolean passed() {
        return !checks.isEmpty() && checks.stream().allMatch(Check::ok);
    }
}
