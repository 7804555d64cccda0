package dev.kindbuild.testing;

import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.image.registry.RegistryAccess;
import dev.kindbuild.image.registry.RegistryMirrors;
import dev.kindbuild.kube.KubernetesSource;
import dev.kindbuild.node.NodeImageRequest;
import dev.kindbuild.node.NodeImageResult;
import dev.kindbuild.sample.SampleEnvironment;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A stand-in node image for the ITs that boot one: the sample release of {@link #VERSION}, its images served by the
 * test's own registry, built on the test base with a private cache. {@link #remove} takes it all away again.
 */
public record StandInNode(String tag, DockerEngine engine, TestCache cache, SampleEnvironment env, NodeImageResult node) {
    public static final String VERSION = "v1.31.2";

    public static StandInNode build(String tag, LocalRegistry registry) throws IOException {
        return build(tag, registry, VERSION);
    }

    /** The same for another Kubernetes version (the sample's kubeadm lists kind-build's image table for it). */
    public static StandInNode build(String tag, LocalRegistry registry, String version) throws IOException {
        DockerEngine engine = TestEngine.connect();
        String arch = engine.facts().architecture();
        TestCache cache = TestCache.create();
        RecordingProgress progress = new RecordingProgress();
        TestBaseImage.get(engine, false, progress);
        SampleEnvironment env = SampleEnvironment.start(version, arch, 0, registry.host(), progress);
        RegistryMirrors mirrors = RegistryMirrors.parse(List.of("registry.k8s.io=" + registry.host(), "docker.io=" + registry.host()));
        NodeImageResult node = DockerBuilds.run(engine, progress, new NodeImageRequest(
                new KubernetesSource.Release(version, env.releaseUrl()), Optional.of(tag), Optional.of(TestBaseImage.TAG), arch,
                mirrors, RegistryAccess.defaults(), List.of(), false, false, Optional.empty()));
        return new StandInNode(tag, engine, cache, env, node);
    }

    /** Removes the node image, {@code derivedTags} (images the test made from it), the sample release and the cache. */
    public void remove(List<String> derivedTags) {
        List<String> tags = new ArrayList<>(derivedTags);
        tags.add(tag);
        ItTeardown.run(engine, tags, env, cache, null);
    }
}
