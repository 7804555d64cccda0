package dev.kindbuild.node.pipeline;

import dev.kindbuild.image.layer.ImageAssembly;
import dev.kindbuild.image.layer.Layer;
import dev.kindbuild.image.layer.LayerBuilder;
import dev.kindbuild.image.store.ImageStore;
import dev.kindbuild.image.store.StoredImage;
import dev.kindbuild.node.ImageRecord;
import dev.kindbuild.node.NodeImageConfig;
import dev.kindbuild.progress.StepTimes;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The last step of `--builder oci`: the node's three entry lists written as layers on the base, in the store, and the
 * image assembled — reproducibly, so the same inputs give the same digest. The base's layers are kept byte for byte.
 */
final class WriteLayers {
    private WriteLayers() {}

    /** A node image in the store and the records of its /kind/images.json. */
    record Stored(StoredImage image, List<ImageRecord> records) {}

    static Stored write(ImageStore store, NodePlan plan, NodeFiles.All files, StepTimes timed) {
        Instant time = plan.inputs().created();
        String version = plan.k8s().version();
        // The images layer is copying and hashing (uncompressed: its image layers are compressed already), the
        // Kubernetes layer is gzip: written side by side, each uses what the other leaves idle.
        ExecutorService side = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "kind-build-images-layer");
            t.setDaemon(true);
            return t;
        });
        Layer kubernetes;
        Layer configuration;
        Layer images;
        try {
            Future<Layer> writing = side.submit(() -> timed.step("Writing layer: " + files.images().records().size() + " images",
                    () -> new LayerBuilder().addAll(files.images().entries()).write(store, time, LayerBuilder.Compression.NONE),
                    Layer::describe));
            kubernetes = timed.step("Writing layer: Kubernetes " + version,
                    () -> new LayerBuilder().addAll(files.kubernetes()).write(store, time), Layer::describe);
            configuration = timed.step("Writing layer: configuration",
                    () -> new LayerBuilder().addAll(files.configuration()).write(store, time), Layer::describe);
            images = join(writing);
        } finally {
            // On a failure here the side layer is stopped, and its partial blob removed, before the error goes on.
            side.shutdownNow();
            awaitQuietly(side);
        }
        StoredImage image = timed.step("Assembling " + plan.tag() + " (" + plan.arch() + ")", () -> {
            ImageAssembly a = ImageAssembly.on(plan.base().image())
                    .layer(kubernetes, "kind-build: Kubernetes " + version + " (kubeadm, kubelet, kubectl, /kind/version)")
                    .layer(configuration, "kind-build: containerd config, image loader, manifests")
                    .layer(images, "kind-build: " + files.images().records().size() + " images in /kind/images")
                    .entrypoint(NodeImageConfig.ENTRYPOINT)
                    .cmd(List.of())
                    .created(time);
            NodeImageConfig.CLEARED_ENV.forEach(v -> a.env(v, ""));
            NodeImageConfig.labels(version, plan.base().name(), NodeFiles.labelValue(files.images().records())).forEach(a::label);
            a.label(NodeInputs.LABEL, plan.inputs().json());
            return a.write(store);
        }, i -> i.manifest().digest().substring(0, 19));
        // Named by its inputs, its records beside it, so the next build of the same inputs finds both.
        Records.keep(store, plan.inputs(), files.images().records());
        store.tag(plan.inputs().storeName(), image.manifest());
        return new Stored(image, files.images().records());
    }

    private static void awaitQuietly(ExecutorService side) {
        try {
            side.awaitTermination(60, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The side thread's layer, or what stopped it, as thrown there. */
    private static Layer join(Future<Layer> writing) {
        try {
            return writing.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new dev.kindbuild.UserError("interrupted", 130, e);
        }
    }

    /** The image an earlier build of the same inputs wrote, when the store still holds all of it. */
    static Optional<Stored> cached(ImageStore store, NodeInputs inputs) {
        Optional<StoredImage> image = store.resolve(inputs.storeName()).flatMap(store::whole);
        return image.flatMap(i -> Records.find(store, inputs).map(r -> new Stored(i, r)));
    }
}
