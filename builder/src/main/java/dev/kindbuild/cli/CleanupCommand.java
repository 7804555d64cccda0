package dev.kindbuild.cli;

import dev.kindbuild.CacheLocation;
import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.engine.Labels;
import dev.kindbuild.lifecycle.TempPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
        description = {"Remove what kind-build runs that are no longer alive left behind: the containers they created, their",
                "temp dirs (kind-build-* in TMPDIR) and half-written cache files. Never a container started from a kind-build image."})
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
            int dirs = 0;
            for (Path dir : TempPaths.abandoned(Path.of(System.getProperty("java.io.tmpdir")))) {
                TempPaths.deleteTree(dir);
                dirs++;
            }
            int partial = 0;
            for (Path file : TempPaths.abandonedPartialFiles(CacheLocation.root())) {
                try {
                    if (Files.isDirectory(file, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                        TempPaths.deleteTree(file);
                    } else {
                        Files.deleteIfExists(file);
                    }
                    partial++;
                } catch (IOException e) {
                    System.err.println("WARN: cannot remove " + file + ": " + e.getMessage());
                }
            }
            System.out.println("removed " + removed + " of " + ours.size() + " kind-build container(s), " + dirs
                    + " temp dir(s) and " + partial + " partial cache file(s) of kind-build runs that are gone");
            return 0;
        }
    }
}
