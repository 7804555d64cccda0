package dev.kindbuild.cli;

import picocli.CommandLine.Command;

/** `kind-build sample`: see dev.kindbuild.sample. */
@Command(name = "sample", mixinStandardHelpOptions = true, hidden = true, description = "Serve a locally generated sample Kubernetes release.")
final class SampleCommand implements java.util.concurrent.Callable<Integer> {
    @Override
    public Integer call() {
        throw new dev.kindbuild.UserError("sample is not available in this build");
    }
}
