package dev.kindbuild.image.registry;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kindbuild.UserError;
import dev.kindbuild.image.ImageRef;
import dev.kindbuild.image.store.Descriptor;
import dev.kindbuild.image.store.ImageStore;
import dev.kindbuild.image.store.MediaTypes;
import dev.kindbuild.image.store.StoredImage;
import dev.kindbuild.progress.Progress;
import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Pushes images from the {@link ImageStore} to a registry: every blob is first asked for ({@code HEAD}: there →
 * skipped), then mounted from a repository on the same registry the caller names (the base image's, typically), and
 * only then uploaded, streamed from the store and checked against its digest on the way (a blob changed in the store
 * fails the push with the store's error before its last bytes go out). Manifests and indexes go last, with their
 * exact bytes and media type, so the pushed digest is the store's. A registry that already holds the base receives
 * only the new layers.
 */
public final class RegistryPush {
    private final RegistryClients clients;
    private final ImageStore store;
    private final Progress progress;

    public RegistryPush(RegistryClients clients, ImageStore store, Progress progress) {
        this.clients = clients;
        this.store = store;
        this.progress = progress;
    }

    /** Pushes one image as {@code target} ({@code registry/repo:tag}). */
    public PushResult push(StoredImage image, ImageRef target, Optional<String> mountFrom) {
        return push(image.manifest(), target, mountFrom);
    }

    /** Writes an OCI index over {@code images} (one per platform) into the store and pushes it, images first. */
    public PushResult pushIndex(List<StoredImage> images, ImageRef target, Optional<String> mountFrom) {
        return push(OciIndex.write(store, images), target, mountFrom);
    }

    /**
     * Pushes what {@code manifest} (an image manifest or an index, in the store) names, then the manifest itself as
     * {@code target}'s tag (or digest). {@code mountFrom}: a repository on the target's registry that may hold some of
     * the blobs.
     */
    public PushResult push(Descriptor manifest, ImageRef target, Optional<String> mountFrom) {
        return progress.step("Pushing " + target, () -> doPush(manifest, target, mountFrom),
                r -> r.digest().substring(0, 19) + ", " + r.uploaded() + " uploaded, " + r.mounted() + " mounted, "
                        + r.skipped() + " already there");
    }

    /**
     * Publishes an index (in the store) over images {@code target}'s repository holds already — a sharded release's
     * staged images: each is checked to be there, then the index goes up by digest and, when {@code target} has a tag,
     * under it. No blob moves.
     */
    public PushResult publishIndex(Descriptor index, ImageRef target) {
        return progress.step("Publishing " + target, () -> {
            RegistryClient client = clients.forRegistry(target.registry());
            String repo = target.repository();
            for (JsonNode entry : store.readJson(index.digest()).path("manifests")) {
                String child = entry.path("digest").asText();
                try {
                    client.manifest(repo, child);
                } catch (RegistryException e) {
                    if (e.notFound()) {
                        throw new UserError("cannot publish " + target + ": " + target.registry() + "/" + repo + " does not hold " + child
                                + ", an image its index names");
                    }
                    throw e;
                }
            }
            String reference = target.tag() != null ? target.tag() : index.digest();
            String digest = client.putManifest(repo, reference, store.readSmall(index.digest()), index.mediaType());
            return new PushResult(target.tag() != null ? target : target.withoutDigest(), digest, index.mediaType(), 0, 0, 0, 0);
        }, r -> r.digest().substring(0, 19));
    }

    private static final class Counts {
        int uploaded;
        int mounted;
        int skipped;
        ByteCounter bytes;
    }

    private PushResult doPush(Descriptor top, ImageRef target, Optional<String> mountFrom) {
        RegistryClient client = clients.forRegistry(target.registry());
        String repo = target.repository();
        Optional<String> from = mountFrom.filter(f -> !f.equals(repo));

        // Every manifest to push (children before the index), and every blob they name, each once.
        List<Descriptor> manifests = new ArrayList<>();
        Map<String, Descriptor> blobs = new LinkedHashMap<>();
        if (MediaTypes.INDEXES.contains(top.mediaType())) {
            for (JsonNode entry : store.readJson(top.digest()).path("manifests")) {
                Descriptor child = new Descriptor(entry.path("mediaType").asText(), entry.path("digest").asText(), entry.path("size").asLong());
                if (!store.has(child.digest())) {
                    throw new UserError("cannot push " + target + ": its index names " + child.digest() + ", which is not in the image store");
                }
                manifests.add(child);
            }
        }
        for (Descriptor m : manifests.isEmpty() ? List.of(top) : manifests) {
            StoredImage image = store.image(m);
            blobs.putIfAbsent(image.config().digest(), image.config());
            image.layers().forEach(l -> blobs.putIfAbsent(l.digest(), l));
        }
        for (Descriptor b : blobs.values()) {
            if (!store.has(b.digest())) {
                throw new UserError("cannot push " + target + ": blob " + b.digest() + " is not in the image store");
            }
        }

        Counts counts = new Counts();
        counts.bytes = new ByteCounter("push " + target, blobs.values().stream().mapToLong(Descriptor::size).sum(), progress);
        for (Descriptor blob : blobs.values()) {
            pushBlob(client, repo, blob, from, counts);
        }
        counts.bytes.finish();
        for (Descriptor child : manifests) {
            client.putManifest(repo, child.digest(), store.readSmall(child.digest()), child.mediaType());
        }
        String reference = target.tag() != null ? target.tag() : target.digest();
        String digest = client.putManifest(repo, reference, store.readSmall(top.digest()), top.mediaType());
        if (target.digest() != null && !target.digest().equals(digest)) {
            throw new UserError("pushed " + target.withoutDigest() + " as " + digest + ", not the digest " + target.digest() + " asked for");
        }
        return new PushResult(target.digest() == null ? target : target.withoutDigest(), digest, top.mediaType(),
                counts.uploaded, counts.mounted, counts.skipped, counts.bytes.done());
    }

    private void pushBlob(RegistryClient client, String repo, Descriptor blob, Optional<String> from, Counts counts) {
        if (client.hasBlob(repo, blob.digest())) {
            counts.skipped++;
            return;
        }
        URI location = null;
        if (from.isPresent()) {
            RegistryClient.MountAttempt m = client.mountBlob(repo, blob.digest(), from.get());
            if (m.mounted()) {
                counts.mounted++;
                progress.detail("mounted " + blob.digest() + " from " + from.get());
                return;
            }
            location = m.uploadLocation();
        }
        client.uploadBlob(repo, blob, location, counts.bytes.countingOnce(() -> store.open(blob.digest())));
        counts.uploaded++;
    }
}
