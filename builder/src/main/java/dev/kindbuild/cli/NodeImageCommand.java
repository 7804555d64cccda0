package dev.kindbuild.cli;

import picocli.CommandLine.Command;

/** `kind-build node-image`: see dev.kindbuild.node. */
@Command(name = "node-image", mixinStandardHelpOptions = true, description = "Build a kind node image for a Kubernetes version.")
final class NodeImageCommand implements java.util.concurrent.Callable<Integer> {
    @Override
    public Integer call() {
        throw new dev.kindbuild.UserError("node-image is not available in this build");
    }
}
