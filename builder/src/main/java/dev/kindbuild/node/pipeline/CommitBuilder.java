package dev.kindbuild.node.pipeline;

import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.engine.ImageInfo;
import dev.kindbuild.image.archive.EngineImages;
import dev.kindbuild.image.layer.LayerEntry;
import dev.kindbuild.image.store.ImageStore;
import dev.kindbuild.image.store.StoredImage;
import dev.kindbuild.lifecycle.CleanupStack;
import dev.kindbuild.node.ImageRecord;
import dev.kindbuild.node.NodeImageConfig;
import dev.kindbuild.progress.StepTimes;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The last step of `--builder docker`, kind's way: a builder container runs the base, receives the node's three entry
 * lists (the very tars {@link WriteLayers} would write as layers) and is committed with the same config and labels.
 * The container is removed on success, failure and Ctrl-C; the tag appears only once the commit is done.
 */
final class CommitBuilder {
    private CommitBuilder() {}

    /** The committed image: the engine's ID and the records of its /kind/images.json. */
    record Committed(String id, List<ImageRecord> records) {}

    /** The engine holds the tag at an image of these very inputs (and the store its records): nothing to write. */
    static Optional<Committed> reusable(DockerEngine engine, NodePlan plan, ImageStore store) {
        return engine.inspectImage(plan.tag())
                .filter(i -> plan.inputs().json().equals(i.labels().get(NodeInputs.LABEL)))
                .flatMap(i -> Records.find(store, plan.inputs()).map(r -> new Committed(i.id(), r)));
    }

    static Committed write(DockerEngine engine, ImageStore store, NodePlan plan, NodeFiles.All files, CleanupStack cleanup, StepTimes timed) {
        String base = baseInEngine(engine, store, plan.base(), timed);
        BuilderContainer.Builder builder = timed.step("Starting builder container", () -> BuilderContainer.start(engine, base, cleanup),
                BuilderContainer.Builder::name);
        Instant time = plan.inputs().created();
        timed.run("Installing Kubernetes " + plan.k8s().version(), () -> copy(engine, builder, files.kubernetes(), time));
        timed.run("Configuring node", () -> copy(engine, builder, files.configuration(), time));
        List<ImageRecord> records = files.images().records();
        timed.run("Saving " + records.size() + " images to /kind/images", () -> copy(engine, builder, files.images().entries(), time));
        String id = timed.step("Committing " + plan.tag(), () -> commit(engine, builder, plan, records), i -> i.substring(7, 19));
        return new Committed(id, records);
    }

    private static void copy(DockerEngine engine, BuilderContainer.Builder builder, List<LayerEntry> entries, Instant time) {
        EngineImages.copyInto(engine, builder.id(), entries, time);
    }

    /**
     * The base as the engine names it. An engine base (the bundled one, or a --base-image the engine has) is there
     * already; one pulled from a registry or read from an archive is loaded from the store.
     */
    private static String baseInEngine(DockerEngine engine, ImageStore store, ObtainBaseImage.Base base, StepTimes timed) {
        StoredImage image = base.image();
        List<String> ids = List.of(image.config().digest(), image.manifest().digest());
        Optional<String> present = engine.inspectImage(base.name()).map(ImageInfo::id).filter(ids::contains).map(id -> base.name())
                .or(() -> engine.inspectImage(image.config().digest()).map(ImageInfo::id));
        if (present.isPresent()) {
            return present.get();
        }
        // An archive's base has no name of its own (its label is the manifest digest): it gets one from its digest.
        String tag = base.name().startsWith("sha256:") ? "kind-build/base-from-archive:" + image.manifest().hex().substring(0, 12) : base.name();
        timed.run("Loading base image " + tag + " into the engine", () -> EngineImages.load(engine, store, image, List.of(tag)));
        return tag;
    }

    private static String commit(DockerEngine engine, BuilderContainer.Builder builder, NodePlan plan, List<ImageRecord> records) {
        List<String> changes = new ArrayList<>();
        changes.add("ENTRYPOINT [\"" + String.join("\", \"", NodeImageConfig.ENTRYPOINT) + "\"]");
        changes.add("CMD []");
        changes.add("ENV " + String.join(" ", NodeImageConfig.CLEARED_ENV.stream().map(v -> v + "=\"\"").toList()));
        NodeImageConfig.labels(plan.k8s().version(), plan.base().name(), NodeFiles.labelValue(records)).forEach((k, v) -> changes.add(label(k, v)));
        changes.add(label(NodeInputs.LABEL, plan.inputs().json()));
        Optional<ImageInfo> previous = engine.inspectImage(plan.tag());
        String id = engine.commit(builder.id(), plan.tag(), changes);
        // A rebuild moves the tag; the image it leaves untagged would otherwise sit there unseen (hundreds of MB).
        previous.filter(old -> !old.id().equals(id))
                .filter(old -> engine.inspectImage(old.id()).map(i -> i.repoTags().isEmpty()).orElse(false))
                .ifPresent(old -> engine.removeUnusedImage(old.id()));
        return id;
    }

    /** A Dockerfile LABEL instruction with the value JSON-quoted, so spaces and quotes survive. */
    static String label(String key, String value) {
        return "LABEL " + key + "=\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}
