package dev.kindbuild.cli;

import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.progress.Progress;
import dev.kindbuild.sample.SampleEnvironment;
import dev.kindbuild.sample.SampleSize;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * `kind-build sample`: serves a locally generated Kubernetes release and fills a local registry with sample images,
 * until interrupted. It stands in for dl.k8s.io and registry.k8s.io on machines that reach neither.
 */
@Command(name = "sample", mixinStandardHelpOptions = true,
        description = {"Serve a locally generated sample Kubernetes release (dl.k8s.io layout, with .sha256) on 127.0.0.1",
                "and push sample images to a local registry, until interrupted. For demos and offline tests: the binaries are stand-ins."})
final class SampleCommand implements Callable<Integer> {

    @Option(names = "--k8s-version", paramLabel = "vX.Y.Z[,vX.Y.Z]", defaultValue = "v1.31.2", split = ",",
            description = "Version(s) of the sample release (default: ${DEFAULT-VALUE}).")
    List<String> versions;

    @Mixin
    ArchOption arch;

    @Option(names = "--port", defaultValue = "0", description = "Port on 127.0.0.1 (default: any free one).")
    int port;

    @Option(names = "--registry", paramLabel = "HOST:PORT", description = "Local registry to push the sample images to, e.g. 127.0.0.1:5000.")
    String registry;

    @Option(names = "--ready-file", paramLabel = "FILE", description = "Write the release URL to FILE once serving (for scripts).")
    Path readyFile;

    @Option(names = "--real-size", description = {"Make the release and images as big as a real v1.31.2 (server tarball ~348 MB,",
            "pulled images ~449 MB), padded to compress like real binaries: for benchmarks. Generated once into",
            "$KIND_BUILD_CACHE/sample-real-size/, then reused."})
    boolean realSize;

    @Mixin
    OutputOptions output;

    @Override
    public Integer call() throws Exception {
        Progress progress = output.progress();
        arch.validate();
        versions.forEach(v -> dev.kindbuild.kube.KubeVersion.parse(v, "--k8s-version"));
        List<String> arches = arch.arches();
        if (arches.isEmpty()) {
            try (DockerEngine engine = DockerEngine.connect()) {
                arches = List.of(arch.resolve(engine));
            }
        }
        CountDownLatch stop = new CountDownLatch(1);
        CountDownLatch closed = new CountDownLatch(1);
        // On Ctrl-C/SIGTERM: let the main thread stop the server and delete the files before the JVM halts.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            stop.countDown();
            try {
                closed.await(10, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
        }));
        try (SampleEnvironment env = SampleEnvironment.start(versions, arches, port, registry,
                realSize ? SampleSize.REAL : SampleSize.STAND_IN, progress)) {
            String url = env.releaseUrl().toString();
            System.out.println(url);
            if (readyFile != null) {
                Path tmp = readyFile.resolveSibling(readyFile.getFileName() + ".tmp");
                Files.writeString(tmp, url + "\n", StandardCharsets.UTF_8);
                Files.move(tmp, readyFile, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
            progress.notice("serving sample release " + String.join(", ", versions) + " (" + String.join(", ", arches) + ") at " + url + " (Ctrl-C to stop)");
            stop.await();
        } finally {
            closed.countDown();
        }
        return 0;
    }
}
