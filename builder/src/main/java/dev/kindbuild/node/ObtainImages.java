package dev.kindbuild.node;

import dev.kindbuild.UserError;
import dev.kindbuild.image.DockerArchive;
import dev.kindbuild.image.ImagePuller;
import dev.kindbuild.image.ImageRef;
import dev.kindbuild.image.PulledImage;
import dev.kindbuild.kube.KubernetesArtifacts;
import dev.kindbuild.progress.Progress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Step: a docker-archive tarball on the host for every required image. Images built with Kubernetes come from its
 * artifacts (retagged without the arch suffix, under the name kubeadm asks for); the rest are pulled — through
 * mirrors, verified and pinned by digest — a few at a time.
 */
public final class ObtainImages {
    private ObtainImages() {}

    /** A tarball on the host ready to go into the node. */
    record Obtained(ImageRecord record, Path tarball) {}

    static List<Obtained> run(List<String> required, KubernetesArtifacts k8s, ImagePuller puller, String arch, Path workDir,
            Progress progress) throws Exception {
        Path dir = Files.createDirectories(workDir.resolve("images"));
        Map<String, Obtained> byName = new LinkedHashMap<>(fromRelease(k8s, arch, dir));
        List<ImageRef> toPull = new ArrayList<>();
        for (String name : required) {
            ImageRef ref = ImageRef.parse(name);
            if (!byName.containsKey(ref.nameWithTag())) {
                toPull.add(ref);
            }
        }
        Map<ImageRef, PulledImage> pulled = ParallelPulls.run(toPull, progress,
                (ref, quiet) -> puller.withProgress(quiet).pull(ref, arch, dir), PulledImage::fromCache);
        for (ImageRef ref : toPull) {
            PulledImage p = pulled.get(ref);
            ImageRecord record = new ImageRecord(p.ref().nameWithTag(), p.digest(), p.configDigest(),
                    p.tarball().getFileName().toString(), p.source().registry(), p.size());
            byName.put(p.ref().nameWithTag(), new Obtained(record, p.tarball()));
        }
        // Release images kubeadm does not list (none, normally) still go in: they came with Kubernetes.
        return List.copyOf(byName.values());
    }

    /** The kube-* images shipped in the Kubernetes artifacts, retagged to the names kubeadm lists. */
    private static Map<String, Obtained> fromRelease(KubernetesArtifacts k8s, String arch, Path dir) {
        Map<String, Obtained> out = new LinkedHashMap<>();
        for (Path tar : k8s.imageTars()) {
            String name = releaseImageName(tar, arch);
            Path target = dir.resolve(ImageRef.parse(name).fileName());
            String configDigest = DockerArchive.retag(tar, target, name);
            ImageRecord record = new ImageRecord(name, "", configDigest != null ? configDigest : DockerArchive.imageDigestOrId(target),
                    target.getFileName().toString(), "release", sizeOf(target));
            out.put(name, new Obtained(record, target));
        }
        return out;
    }

    /** The name a release image archive carries, as kubeadm lists it: its tag without the arch suffix. */
    public static String releaseImageName(Path tar, String arch) {
        List<String> tags = DockerArchive.repoTags(tar);
        if (tags.isEmpty()) {
            throw new UserError("image tarball " + tar.getFileName() + " in the Kubernetes artifacts has no tag");
        }
        return ImageRef.parse(DockerArchive.withoutArchSuffix(tags.get(0), arch)).nameWithTag();
    }

    private static long sizeOf(Path p) {
        try {
            return Files.size(p);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
