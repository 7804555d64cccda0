package dev.kindbuild.cli;

import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.engine.Labels;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** `kind-build cleanup`: removes containers kind-build left behind (e.g. after `kill -9`). */
@Command(name = "cleanup", mixinStandardHelpOptions = true,
        description = "Remove containers left by kind-build runs that are no longer alive.")
final class CleanupCommand implements Callable<Integer> {

    @Option(names = "--all", description = "Also remove containers of kind-build runs still alive.")
    boolean all;

    @Override
    public Integer call() {
        try (DockerEngine engine = DockerEngine.connect()) {
            List<String> ids = engine.containersWithLabel(Labels.OWNER, Labels.OWNER_VALUE);
            int removed = 0;
            for (String id : ids) {
                if (all || !ownerAlive(engine, id)) {
                    engine.remove(id);
                    removed++;
                }
            }
            System.out.println("removed " + removed + " of " + ids.size() + " kind-build container(s)");
            return 0;
        }
    }

    private static boolean ownerAlive(DockerEngine engine, String id) {
        String pid = engine.containerLabels(id).get(Labels.PID);
        if (pid == null) {
            return false;
        }
        return ProcessHandle.of(Long.parseLong(pid)).map(ProcessHandle::isAlive).orElse(false)
                && ProcessHandle.current().pid() != Long.parseLong(pid);
    }
}
