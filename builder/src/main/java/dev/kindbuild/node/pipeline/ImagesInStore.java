package dev.kindbuild.node.pipeline;

import dev.kindbuild.UserError;
import dev.kindbuild.image.archive.DockerArchive;
import dev.kindbuild.image.ImageRef;
import dev.kindbuild.image.archive.ArchiveImport;
import dev.kindbuild.image.registry.Platform;
import dev.kindbuild.image.registry.PullResult;
import dev.kindbuild.image.registry.RegistryPull;
import dev.kindbuild.image.store.StoredImage;
import dev.kindbuild.image.store.ImageStore;
import dev.kindbuild.kube.KubernetesArtifacts;
import dev.kindbuild.node.ParallelPulls;
import dev.kindbuild.progress.Progress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Steps: every image the node needs, in the store. Pulled ones keep the registry's manifest and config byte for byte
 * (so containerd in the node records the registry's digests); the control-plane images that came with Kubernetes are
 * read from its archives, under the name kubeadm asks for.
 */
final class ImagesInStore {
    private ImagesInStore() {}

    /**
     * One image for the node.
     *
     * @param name   the name kubeadm or a manifest asks for
     * @param digest what its reference resolved to at the registry (empty for images built with Kubernetes)
     * @param source "release" or the registry it came from
     * @param image  the image in the store
     */
    record NodeImage(String name, String digest, String source, StoredImage image) {}

    /** Pulls (a few at a time, strict platform match) what the release does not bring. */
    static List<NodeImage> pull(List<String> required, List<String> fromRelease, Function<Progress, RegistryPull> pulls,
            String arch, Progress progress) throws Exception {
        List<ImageRef> toPull = new ArrayList<>();
        for (String name : required) {
            ImageRef ref = ImageRef.parse(name);
            if (!fromRelease.contains(ref.nameWithTag())) {
                toPull.add(ref);
            }
        }
        Map<ImageRef, PullResult> pulled = ParallelPulls.run(toPull, progress,
                (ref, quiet) -> pulls.apply(quiet).pull(ref, Platform.linux(arch)), r -> r.layersTransferred() == 0);
        List<NodeImage> out = new ArrayList<>();
        pulled.forEach((ref, r) -> out.add(new NodeImage(ref.nameWithTag(), r.digest(), r.source().registry(), r.image())));
        return out;
    }

    /**
     * The names of the release's image archives, in {@link KubernetesArtifacts#imageTars()} order: the name kubeadm asks
     * for when it lists an image of that archive's name and the release's version (no need to read the archive: a
     * warm build reads none of them), else the archive's own tag without its arch suffix.
     */
    static List<String> releaseNames(KubernetesArtifacts k8s, List<String> required) {
        String tag = k8s.version().replace('+', '_');
        List<String> names = new ArrayList<>();
        for (Path tar : k8s.imageTars()) {
            String component = tar.getFileName().toString().replaceFirst("\\.tar$", "");
            names.add(required.stream().map(ImageRef::parse)
                    .filter(r -> tag.equals(r.tag()) && (r.repository().equals(component) || r.repository().endsWith("/" + component)))
                    .map(ImageRef::nameWithTag).findFirst()
                    .orElseGet(() -> releaseImageName(tar, k8s.arch())));
        }
        return names;
    }

    /** The name a release image archive carries, as kubeadm lists it: its tag without the arch suffix. */
    static String releaseImageName(Path tar, String arch) {
        List<String> tags = DockerArchive.repoTags(tar);
        if (tags.isEmpty()) {
            throw new UserError("image tarball " + tar.getFileName() + " in the Kubernetes artifacts has no tag");
        }
        return ImageRef.parse(DockerArchive.withoutArchSuffix(tags.get(0), arch)).nameWithTag();
    }

    /** Reads the release's image archives into the store, under {@code names} ({@link #releaseNames}). */
    static List<NodeImage> fromRelease(KubernetesArtifacts k8s, List<String> names, ImageStore store) {
        Map<String, NodeImage> out = new LinkedHashMap<>();
        for (int i = 0; i < k8s.imageTars().size(); i++) {
            String name = names.get(i);
            out.put(name, new NodeImage(name, "", "release", ArchiveImport.dockerArchive(store, k8s.imageTars().get(i))));
        }
        return List.copyOf(out.values());
    }
}
