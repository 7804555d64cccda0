package dev.kindbuild.node;

import dev.kindbuild.engine.Labels;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The image config every node image gets, whichever builder makes it: kind's entrypoint and no command, proxy
 * variables cleared (a baked-in proxy breaks the control plane), and labels telling what is inside.
 */
public final class NodeImageConfig {
    public static final List<String> ENTRYPOINT = List.of("/usr/local/bin/entrypoint", "/sbin/init");
    public static final List<String> CLEARED_ENV = List.of("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy");

    private NodeImageConfig() {}

    /**
     * The labels of a node image. The container-only labels a builder container carries are set empty, so no
     * container of a user's is ever taken for kind-build's own (cleanup also refuses a mark the image carries), and
     * the base image's recipe hash is cleared so a node image is never mistaken for a base image.
     */
    public static Map<String, String> labels(String version, String baseImage, String imagesSummary) {
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put(NodeLayout.LABEL_K8S_VERSION, version);
        labels.put(NodeLayout.LABEL_BASE_IMAGE, baseImage);
        labels.put(NodeLayout.LABEL_IMAGES, imagesSummary);
        labels.put(Labels.IMAGE_KIND, "node");
        for (String containerOnly : List.of(Labels.CONTAINER, Labels.PID, Labels.PURPOSE, Labels.LEGACY_OWNER, Labels.RECIPE_HASH)) {
            labels.put(containerOnly, "");
        }
        return labels;
    }
}
