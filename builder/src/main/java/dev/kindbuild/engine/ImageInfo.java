package dev.kindbuild.engine;

import java.util.List;
import java.util.Map;

/** What kind-build reads from an image in the engine. */
public record ImageInfo(
        String id,
        List<String> repoTags,
        String architecture,
        List<String> entrypoint,
        List<String> env,
        String stopSignal,
        Map<String, String> labels,
        long size) {

    public ImageInfo {
        repoTags = repoTags == null ? List.of() : List.copyOf(repoTags);
        entrypoint = entrypoint == null ? List.of() : List.copyOf(entrypoint);
        env = env == null ? List.of() : List.copyOf(env);
        labels = labels == null ? Map.of() : Map.copyOf(labels);
    }
}
