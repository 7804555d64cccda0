package dev.kindbuild.node;

import dev.kindbuild.UserError;
import dev.kindbuild.image.DockerArchive;
import dev.kindbuild.image.ImagePuller;
import dev.kindbuild.image.ImageRef;
import dev.kindbuild.image.PulledImage;
import dev.kindbuild.kube.KubernetesArtifacts;
import dev.kindbuild.lifecycle.Interruption;
import dev.kindbuild.progress.BuildEvent;
import dev.kindbuild.progress.Progress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionService;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Step: a docker-archive tarball on the host for every required image. Images built with Kubernetes come from its
 * artifacts (retagged without the arch suffix, under the name kubeadm asks for); the rest are pulled — through
 * mirrors, verified and pinned by digest — a few at a time.
 */
final class ObtainImages {
    private static final int PARALLEL_PULLS = 3;

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
        AtomicInteger done = new AtomicInteger();
        AtomicBoolean failed = new AtomicBoolean();
        ExecutorService pool = Executors.newFixedThreadPool(PARALLEL_PULLS, r -> {
            Thread t = new Thread(r, "image-pull");
            t.setDaemon(true);
            return t;
        });
        CompletionService<PulledImage> completed = new ExecutorCompletionService<>(pool);
        // After the first failure the other pulls are stopped: their lines ("✗ … InterruptedException") would only
        // bury the one that matters, so they are not shown.
        AtomicBoolean reported = new AtomicBoolean();
        ImagePuller quiet = puller.withProgress(event -> {
            if (event instanceof BuildEvent.StepFailed && !reported.compareAndSet(false, true)) {
                return;
            }
            if (!(event instanceof BuildEvent.StepFailed) && reported.get()) {
                return;
            }
            progress.emit(event);
        });
        try {
            for (ImageRef ref : toPull) {
                completed.submit(() -> {
                    // Once one pull failed the build is over: the queued ones do not start (no new "Pulling" lines).
                    if (failed.get()) {
                        throw new CancellationException("an earlier pull failed");
                    }
                    try {
                        PulledImage p = quiet.pull(ref, arch, dir);
                        synchronized (done) {
                            progress.notice("pulled " + done.incrementAndGet() + "/" + toPull.size() + ": " + ref.nameWithTag()
                                    + (p.fromCache() ? " (cached)" : ""));
                        }
                        return p;
                    } catch (Exception | Error e) {
                        failed.set(true);
                        throw e;
                    }
                });
            }
            // In completion order: the first failure ends the step at once, whichever image it was.
            Map<String, PulledImage> pulled = new java.util.HashMap<>();
            for (int i = 0; i < toPull.size(); i++) {
                PulledImage p = await(completed.take());
                pulled.put(p.ref().nameWithTag(), p);
            }
            // Recorded in the order the images were asked for, whatever order the pulls finished in.
            for (ImageRef ref : toPull) {
                PulledImage p = pulled.get(ref.nameWithTag());
                ImageRecord record = new ImageRecord(p.ref().nameWithTag(), p.digest(), p.configDigest(),
                        p.tarball().getFileName().toString(), p.source().registry(), p.size());
                byName.put(p.ref().nameWithTag(), new Obtained(record, p.tarball()));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UserError("interrupted while pulling images", 130, e);
        } finally {
            failed.set(true);
            pool.shutdownNow();
            // Pulls still running stop (interrupted) and remove their temp files before the step reports its end, so
            // no line and no file of theirs comes after the build's cleanup.
            boolean interrupted = Thread.interrupted();
            try {
                // Interrupted: pulls blocked on a silent registry do not stop at once; their temp dirs are removed by
                // the interruption hook, so Ctrl-C need not wait for them long.
                int seconds = Interruption.requested() ? 3 : 30;
                if (!pool.awaitTermination(seconds, TimeUnit.SECONDS)) {
                    progress.detail("some pulls did not stop within " + seconds + " s");
                }
            } catch (InterruptedException again) {
                interrupted = true;
            } finally {
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
        }
        // Release images kubeadm does not list (none, normally) still go in: they came with Kubernetes.
        return List.copyOf(byName.values());
    }

    private static PulledImage await(Future<PulledImage> f) throws Exception {
        try {
            return f.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof CancellationException) {
                throw new UserError("image pulls were cancelled");
            }
            if (e.getCause() instanceof Exception cause) {
                throw cause;
            }
            throw e;
        }
    }

    /** The kube-* images shipped in the Kubernetes artifacts, retagged to the names kubeadm lists. */
    private static Map<String, Obtained> fromRelease(KubernetesArtifacts k8s, String arch, Path dir) {
        Map<String, Obtained> out = new LinkedHashMap<>();
        for (Path tar : k8s.imageTars()) {
            List<String> tags = DockerArchive.repoTags(tar);
            if (tags.isEmpty()) {
                throw new UserError("image tarball " + tar.getFileName() + " in the Kubernetes artifacts has no tag");
            }
            String name = ImageRef.parse(DockerArchive.withoutArchSuffix(tags.get(0), arch)).nameWithTag();
            Path target = dir.resolve(ImageRef.parse(name).fileName());
            String configDigest = DockerArchive.retag(tar, target, name);
            ImageRecord record = new ImageRecord(name, "", configDigest != null ? configDigest : DockerArchive.imageDigestOrId(target),
                    target.getFileName().toString(), "release", sizeOf(target));
            out.put(name, new Obtained(record, target));
        }
        return out;
    }

    private static long sizeOf(Path p) {
        try {
            return Files.size(p);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
