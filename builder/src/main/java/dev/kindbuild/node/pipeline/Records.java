package dev.kindbuild.node.pipeline;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kindbuild.image.store.Descriptor;
import dev.kindbuild.image.store.ImageStore;
import dev.kindbuild.node.ImageRecord;
import java.io.IOException;
import java.util.List;
import java.util.Optional;

/**
 * The records of a node's /kind/images.json, kept in the store under the node's inputs: a build that writes nothing
 * (its inputs seen before) still reports what the image holds.
 */
final class Records {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String MEDIA_TYPE = "application/vnd.kind-build.image-records+json";

    private Records() {}

    static void keep(ImageStore store, NodeInputs inputs, List<ImageRecord> records) {
        try {
            store.tag(name(inputs), store.put(JSON.writeValueAsBytes(records), MEDIA_TYPE));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Empty when never kept, or pruned since. */
    static Optional<List<ImageRecord>> find(ImageStore store, NodeInputs inputs) {
        Optional<Descriptor> blob = store.resolve(name(inputs)).filter(d -> store.has(d.digest()));
        if (blob.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(JSON.readValue(store.readSmall(blob.get().digest()), new TypeReference<List<ImageRecord>>() {}));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static String name(NodeInputs inputs) {
        return inputs.storeName() + "/records";
    }
}
