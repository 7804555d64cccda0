package dev.kindbuild.components;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;

/**
 * A runtime component as a built base has it, as its label {@link #LABEL} and {@code base-image --json} record it.
 *
 * @param name    containerd, runc, crictl, cni-plugins
 * @param version the version the built image reports ("" for an absent component)
 * @param source  {@code upstream URL}, {@code debian SUITE}, {@code file PATH} or {@code absent}
 */
public record InstalledComponent(String name, String version, String source) {
    /** Every component, as JSON. */
    public static final String LABEL = "dev.kind-build.components";
    private static final ObjectMapper JSON = new ObjectMapper();

    public static String toLabel(List<InstalledComponent> components) {
        try {
            return JSON.writeValueAsString(components);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The label's list; empty for a base built before the label existed (or a malformed one). */
    public static List<InstalledComponent> fromLabel(String label) {
        if (label == null || label.isBlank()) {
            return List.of();
        }
        try {
            return JSON.readValue(label, new TypeReference<List<InstalledComponent>>() {});
        } catch (JsonProcessingException e) {
            return List.of();
        }
    }

    /** The per-component version label, e.g. dev.kind-build.runc-version (containerd's is Labels.CONTAINERD_VERSION). */
    public static String versionLabel(String name) {
        return "dev.kind-build." + name + "-version";
    }
}
