package dev.kindbuild.image.delivery;

import dev.kindbuild.image.registry.PushResult;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Where a built image went: kind-build's store under its tag (the oci builder's images); then the file, the engine
 * and/or the registry that were asked for.
 *
 * @param store  the store and the tag, as one line ("kind-build's image store (ROOT) as TAG"); empty for the docker
 *               builder, whose image exists only in the engine
 * @param file   the archive written, described ("an OCI archive FILE")
 * @param engine the tag the engine holds it under
 * @param pushed the push, pinned by digest
 */
public record Delivery(Optional<String> store, Optional<String> file, Optional<String> engine, Optional<PushResult> pushed) {
    public static Delivery toStore(java.nio.file.Path root, String tag) {
        return new Delivery(Optional.of("kind-build's image store (" + root + ") as " + tag), Optional.empty(), Optional.empty(),
                Optional.empty());
    }

    /** The docker builder's: committed in the engine, nowhere else. */
    public static Delivery toEngine(String tag) {
        return new Delivery(Optional.empty(), Optional.empty(), Optional.of(tag), Optional.empty());
    }

    Delivery withFile(String described) {
        return new Delivery(store, Optional.of(described), engine, pushed);
    }

    Delivery withEngine(String tag) {
        return new Delivery(store, file, Optional.of(tag), pushed);
    }

    Delivery withPush(PushResult push) {
        return new Delivery(store, file, engine, Optional.of(push));
    }

    /** One line per place, the store first (what --json calls "outputs"). */
    public List<String> lines() {
        List<String> lines = new ArrayList<>();
        store.ifPresent(lines::add);
        file.ifPresent(lines::add);
        engine.ifPresent(t -> lines.add("the Docker engine as " + t));
        pushed.ifPresent(p -> lines.add("registry " + p.pinned()));
        return lines;
    }

    /** The place the user asked for (the first of file, engine, registry), else the store. */
    public String where() {
        List<String> lines = lines();
        return lines.size() > 1 && store.isPresent() ? lines.get(1) : lines.get(0);
    }
}
