package dev.kindbuild.node;

import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.engine.Labels;
import dev.kindbuild.engine.ImageInfo;
import java.util.List;
import java.util.Optional;

/**
 * Step: commit the builder as the node image — kind's entrypoint, no command, proxy variables cleared (a baked-in
 * proxy breaks the control plane), and labels telling what is inside. The tag only appears once the commit is done.
 */
final class CommitNodeImage {
    private CommitNodeImage() {}

    static String run(DockerEngine engine, BuilderContainer.Builder builder, String tag, String version, String baseImage,
            String imagesSummary) {
        List<String> changes = List.of(
                "ENTRYPOINT [\"/usr/local/bin/entrypoint\", \"/sbin/init\"]",
                "CMD []",
                "ENV HTTP_PROXY=\"\" HTTPS_PROXY=\"\" NO_PROXY=\"\" http_proxy=\"\" https_proxy=\"\" no_proxy=\"\"",
                label(NodeLayout.LABEL_K8S_VERSION, version),
                label(NodeLayout.LABEL_BASE_IMAGE, baseImage),
                label(NodeLayout.LABEL_IMAGES, imagesSummary),
                label(Labels.IMAGE_KIND, "node"),
                // A commit copies the builder container's labels into the image, and every container started from
                // the image would inherit them: the container-only labels are cleared, so no container of a user's
                // is ever taken for kind-build's own (cleanup also refuses a mark the image carries).
                label(Labels.CONTAINER, ""),
                label(Labels.PID, ""),
                label(Labels.PURPOSE, ""),
                label(Labels.LEGACY_OWNER, ""),
                // Inherited from the base image; cleared so a node image is never mistaken for a base image.
                label(Labels.RECIPE_HASH, ""));
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
