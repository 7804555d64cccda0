package dev.kindbuild.sample;

import dev.kindbuild.lifecycle.TempPaths;
import dev.kindbuild.image.ImageRef;
import dev.kindbuild.image.registry.RegistryAccess;
import dev.kindbuild.node.AddonManifests;
import dev.kindbuild.progress.Progress;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Everything a node-image build needs from the outside world, made locally: a sample Kubernetes release served over
 * HTTP on 127.0.0.1 in dl.k8s.io layout, and small runnable images in a local registry under the names kubeadm and
 * the addon manifests ask for (reached through mirrors: registry.k8s.io/X → REGISTRY/X, docker.io/Y → REGISTRY/Y).
 * Stands in for dl.k8s.io, registry.k8s.io and Docker Hub where none is reachable; close() stops and removes it.
 */
public final class SampleEnvironment implements AutoCloseable {
    private final Path root;
    private final SampleServer server;
    private final List<SampleImages.Pushed> pushed;

    private SampleEnvironment(Path root, SampleServer server, List<SampleImages.Pushed> pushed) {
        this.root = root;
        this.server = server;
        this.pushed = pushed;
    }

    /**
     * Writes and serves the release for {@code version}/{@code arch} on {@code port} (0 = any free port), and, when
     * {@code registry} is given (host:port), pushes the sample images there.
     */
    public static SampleEnvironment start(String version, String arch, int port, String registry, Progress progress) throws IOException {
        return start(version, arch, port, registry, SampleSize.STAND_IN, progress);
    }

    /** As {@link #start(String, String, int, String, Progress)}, with release and images of {@code size}. */
    public static SampleEnvironment start(String version, String arch, int port, String registry, SampleSize size,
            Progress progress) throws IOException {
        return start(List.of(version), List.of(arch), port, registry, size, progress);
    }

    /**
     * Releases of every version for every architecture behind one server, and the images of all versions in the
     * registry — multi-arch (an OCI index per name) when several architectures are asked for.
     */
    public static SampleEnvironment start(List<String> versions, List<String> arches, int port, String registry, SampleSize size,
            Progress progress) throws IOException {
        Path root = Files.createTempDirectory("kind-build-sample-");
        try {
            for (String version : versions) {
                for (String arch : arches) {
                    progress.run("Writing " + (size == SampleSize.REAL ? "real-size " : "") + "sample Kubernetes release " + version
                            + " (" + arch + ")", () -> SampleRelease.writeRelease(root, version, arch, size));
                }
            }
            SampleServer server = SampleServer.start(root, port);
            List<SampleImages.Pushed> pushed = new ArrayList<>();
            if (registry != null) {
                SampleImages images = new SampleImages(RegistryAccess.defaults(), progress, size);
                Set<ImageRef> targets = new LinkedHashSet<>();
                versions.forEach(v -> targets.addAll(mirrorTargets(v, registry)));
                for (ImageRef target : targets) {
                    pushed.add(images.pushMultiArch(target, arches));
                }
            }
            return new SampleEnvironment(root, server, pushed);
        } catch (IOException | RuntimeException e) {
            TempPaths.deleteTree(root);
            throw e;
        }
    }

    /** The images a cluster pulls (kubeadm's, less those built with Kubernetes, plus the addons'), as the mirror holds them. */
    static List<ImageRef> mirrorTargets(String version, String registry) {
        Set<String> names = new LinkedHashSet<>();
        for (String image : SampleRelease.kubeadmImages(version)) {
            if (!image.startsWith("registry.k8s.io/kube-")) {
                names.add(image);
            }
        }
        names.addAll(AddonManifests.bundled().images());
        List<ImageRef> targets = new ArrayList<>();
        for (String name : names) {
            targets.add(ImageRef.parse(name).onRegistry(registry, null));
        }
        return targets;
    }

    /** The release base URL to pass as --k8s-release-url. */
    public URI releaseUrl() {
        return server.baseUri();
    }

    /** The folder the release server serves: {@code VERSION/…} below it, as {@link #releaseUrl()} names them. */
    public Path releaseDir() {
        return root;
    }

    public List<SampleImages.Pushed> pushed() {
        return pushed;
    }

    public SampleServer server() {
        return server;
    }

    @Override
    public void close() {
        server.close();
        TempPaths.deleteTree(root);
    }
}
