package dev.kindbuild.node;

import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.engine.ImageInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Step: commit the builder as the node image with {@link NodeImageConfig}'s entrypoint, environment and labels. The
 * tag only appears once the commit is done.
 */
final class CommitNodeImage {
    private CommitNodeImage() {}

    static String run(DockerEngine engine, BuilderContainer.Builder builder, String tag, String version, String baseImage,
            String imagesSummary) {
        List<String> changes = new ArrayList<>();
        changes.add("ENTRYPOINT [\"" + String.join("\", \"", NodeImageConfig.ENTRYPOINT) + "\"]");
        changes.add("CMD []");
        changes.add("ENV " + String.join(" ", NodeImageConfig.CLEARED_ENV.stream().map(v -> v + "=\"\"").toList()));
        NodeImageConfig.labels(version, baseImage, imagesSummary).forEach((k, v) -> changes.add(label(k, v)));
        Optional<ImageInfo> previous = engine.inspectImage(tag);
        String id = engine.commit(builder.id(), tag, changes);
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
