package dev.kindbuild.cli;

import dev.kindbuild.CacheLocation;
import dev.kindbuild.UserError;
import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.engine.Labels;
import dev.kindbuild.lifecycle.TempPaths;
import dev.kindbuild.verify.SysctlRecord;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * `kind-build cleanup`: removes what kind-build runs that died (e.g. {@code kill -9}) left behind. Only what this tool
 * created is a candidate: containers and networks with a {@link Labels#CONTAINER} mark set at create time (a container
 * must not have inherited it from its image, so a container started from a kind-build image, a kind cluster node, is
 * never one of them), temp dirs and partial cache files with their writer's PID, and the host sysctls a killed
 * {@code verify --cluster} recorded before its kubelet changed them ({@link SysctlRecord}). With {@code --store} it
 * also removes the image store, the fix a damaged store blob's error names.
 */
@Command(name = "cleanup", mixinStandardHelpOptions = true,
        description = {"Remove what kind-build runs that are no longer alive left behind: the containers and networks they created,",
                "their temp dirs (kind-build-* in TMPDIR) and half-written cache files, and put back the host sysctls a killed",
                "verify --cluster left changed. Never a container started from a kind-build image, never a network it did not create."})
final class CleanupCommand implements Callable<Integer> {

    @Option(names = "--all", description = "Also remove containers and networks of kind-build runs still alive.")
    boolean all;

    @Option(names = "--store", description = {"Also remove kind-build's image store (<cache>/store): every image pulled, imported or",
            "built by --builder oci. The next build fetches and builds what it needs again; downloads are kept. Needs no engine."})
    boolean store;

    @Override
    public Integer call() {
        String storeLine = store ? removeStore() : "";
        // The store needs no engine: with --store, a machine without one still gets it removed.
        Optional<DockerEngine> connected = store ? DockerEngine.tryConnect() : Optional.of(DockerEngine.connect());
        if (connected.isEmpty()) {
            System.out.println(storeLine.substring(2) + "; no Docker engine answers: containers, networks and host sysctls not checked");
            return 0;
        }
        try (DockerEngine engine = connected.get()) {
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
            // After the containers: a network with a container attached cannot be removed.
            int networks = 0;
            for (DockerEngine.NetworkLabels n : engine.networksWithMark()) {
                Optional<Labels.Creator> creator = Labels.creatorOf(n.labels().get(Labels.CONTAINER));
                if (creator.isEmpty() || creator.get().isThisProcess() || !(all || !creator.get().alive())) {
                    continue;
                }
                try {
                    engine.removeNetwork(n.id());
                    networks++;
                } catch (RuntimeException e) {
                    System.err.println("WARN: cannot remove network " + n.name() + ": " + DockerEngine.rootMessage(e));
                }
            }
            // After the nodes are gone: no kubelet of theirs can set the values again.
            SysctlRecord.Outcome sysctls = SysctlRecord.restoreAbandoned(SysctlRecord.defaultDir());
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
            System.out.println("removed " + removed + " of " + ours.size() + " kind-build container(s), " + networks + " network(s), "
                    + dirs + " temp dir(s) and " + partial + " partial cache file(s) of kind-build runs that are gone" + storeLine);
            if (!sysctls.restored().isEmpty()) {
                System.out.println("restored host sysctls a killed verify --cluster left changed: " + String.join(", ", sysctls.restored()));
            }
            if (!sysctls.liveRuns().isEmpty()) {
                System.out.println("host sysctls not checked: verify --cluster still runs (pid "
                        + sysctls.liveRuns().stream().map(String::valueOf).collect(Collectors.joining(", "))
                        + ") and its kubelet holds them; run cleanup again once it ended");
            }
            if (!sysctls.failed().isEmpty()) {
                System.err.println("ERROR: could not restore host sysctls a killed verify --cluster left changed: "
                        + String.join(", ", sysctls.failed()) + "; run kind-build cleanup as root");
                return 1;
            }
            return 0;
        }
    }

    /**
     * Renames the store out of the way, then deletes it: a run starting meanwhile makes a new, empty store instead of
     * reading a half-deleted one, and a cleanup killed midway leaves a {@code .partial-<pid>-} directory that the next
     * cleanup removes. Refused while a live run is writing to the store.
     */
    private static String removeStore() {
        Path root = CacheLocation.root();
        Path storeDir = root.resolve("store");
        if (!Files.isDirectory(storeDir)) {
            return "; no image store at " + storeDir;
        }
        for (Path dir : List.of(storeDir, storeDir.resolve("blobs").resolve("sha256"))) {
            Optional<Long> writer = TempPaths.liveWriter(dir);
            if (writer.isPresent()) {
                throw new UserError("kind-build (pid " + writer.get() + ") is writing to the image store " + storeDir
                        + ": let it finish or stop it, then run `kind-build cleanup --store` again");
            }
        }
        Path doomed = root.resolve(".partial-" + ProcessHandle.current().pid() + "-store");
        try {
            Files.move(storeDir, doomed, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UserError("cannot remove the image store " + storeDir + ": " + e.getMessage() + " (remove the directory by hand)", e);
        }
        TempPaths.deleteTree(doomed);
        return "; removed the image store " + storeDir;
    }
}
