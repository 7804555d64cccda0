package dev.kindbuild.cli;

import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.engine.Labels;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * `kind-build cleanup`: removes containers kind-build left behind (e.g. after `kill -9`). Only containers this tool
 * created are candidates: those with a {@link Labels#CONTAINER} mark set at create time that their image does not
 * carry, so a container started from a kind-build image (a kind cluster node) is never one of them.
 */
@Command(name = "cleanup", mixinStandardHelpOptions = true,
        description = "Remove containers left by kind-build runs that are no longer alive.")
final class CleanupCommand implements Callable<Integer> {

    @Option(names = "--all", description = "Also remove containers of kind-build runs still alive.")
    boolean all;

    @Override
    public Integer call() {
        try (DockerEngine engine = DockerEngine.connect()) {
            List<DockerEngine.ContainerLabels> ours = engine.containersWithMark().stream()
                    .filter(c -> Labels.createdByKindBuild(c.labels(), c.imageLabels()))
                    .toList();
            int removed = 0;
            for (DockerEngine.ContainerLabels c : ours) {
                Labels.Creator creator = Labels.creatorOf(c.labels().get(Labels.CONTAINER)).orElseThrow();
                if (creator.isThisProcess()) {
                    continue;
                }
                if (all || !creator.alive()) {
                    engine.remove(c.id());
                    removed++;
                }
            }
            System.out.println("removed " + removed + " of " + ours.size() + " kind-build container(s)");
            return 0;
        }
    }
}
