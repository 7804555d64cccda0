package dev.kindbuild.cli;

import picocli.CommandLine.Command;

/** `kind-build verify`: see dev.kindbuild.verify. */
@Command(name = "verify", mixinStandardHelpOptions = true, description = "Boot a node image and check it.")
final class VerifyCommand implements java.util.concurrent.Callable<Integer> {
    @Override
    public Integer call() {
        throw new dev.kindbuild.UserError("verify is not available in this build");
    }
}
