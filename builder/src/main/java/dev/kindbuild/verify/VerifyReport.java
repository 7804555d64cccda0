package dev.kindbuild.verify;

import dev.kindbuild.cri.RuntimeVersion;
import dev.kindbuild.engine.NodeMode;
import java.util.List;
import java.util.Optional;

/**
 * The outcome of `kind-build verify`.
 *
 * @param image                   the node image checked
 * @param architecture            the node's architecture
 * @param nodeMode                how the node was run
 * @param offline                 whether the node had no network
 * @param bootToImagesLoadedSeconds from container start until the image loader finished
 * @param checks                  every check, in order
 * @param notChecked              what could not be checked here, and why (e.g. a container run under emulation)
 * @param runtime                 the node's container runtime as it answers CRI v1 Version (empty when it did not)
 */
public record VerifyReport(String image, String architecture, NodeMode nodeMode, boolean offline, double bootToImagesLoadedSeconds,
        List<Check> checks, List<String> notChecked, Optional<RuntimeVersion> runtime) {
    public VerifyReport {
        checks = List.copyOf(checks);
        notChecked = List.copyOf(notChecked);
    }

    public boolean passed() {
        return !checks.isEmpty() && checks.stream().allMatch(Check::ok);
    }
}
