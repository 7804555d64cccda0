package dev.kindbuild.image.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kindbuild.UserError;
import dev.kindbuild.image.ImageRef;
import dev.kindbuild.image.registry.RegistryMirrors;
import dev.kindbuild.image.store.Descriptor;
import dev.kindbuild.image.store.ImageStore;
import dev.kindbuild.image.store.StoredImage;
import dev.kindbuild.progress.Progress;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Pulls images for one platform into the {@link ImageStore}, byte for byte: the index (if any), the platform's
 * manifest and its config are stored exactly as the registry served them, so digests in a node equal the registry's;
 * each layer is streamed into the store and verified against its digest; blobs the store already has are not
 * fetched, so a warm pull transfers no layers (unless told not to reuse the store: --no-cache). The image is named in
 * the store only once everything is there, so a failed pull never leaves a name pointing at missing or wrong content.
 *
 * <p>Mirrors: the mirror first; the source registry only when the mirror says it does not have the image (any other
 * mirror failure is an error naming the mirror).
 */
public final class RegistryPull {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final RegistryClients clients;
    private final RegistryMirrors mirrors;
    private final ImageStore store;
    private final Progress progress;
    /** False for --no-cache: manifests and blobs come from the registry even when the store has them. */
    private final boolean reuse;

    public RegistryPull(RegistryClients clients, RegistryMirrors mirrors, ImageStore store, Progress progress) {
        this(clients, mirrors, store, progress, true);
    }

    /** {@code reuse} false: every manifest and blob is fetched again and replaces the store's copy (--no-cache). */
    public RegistryPull(RegistryClients clients, RegistryMirrors mirrors, ImageStore store, Progress progress, boolean reuse) {
        this.clients = clients;
        this.mirrors = mirrors;
        this.store = store;
        this.progress = progress;
        this.reuse = reuse;
    }

    /** Pulls {@code ref} for {@code platform} (strict match) into the store, as one progress step. */
    public PullResult pull(ImageRef ref, Platform platform) {
        return progress.step("Pulling " + ref + " (" + platform + ")", () -> doPull(ref, platform, true),
                r -> (r.layersTransferred() == 0 ? "cached, " : "") + r.platformDigest().substring(0, 19)
                        + (r.viaMirror() ? " via " + r.source().registry() : ""));
    }

    /**
     * An image's manifest and config only, into the store (not under a name: the store does not hold the image whole),
     * for what needs no layer — an index over images the registry holds already.
     */
    public PullResult pullManifestAndConfig(ImageRef ref, Platform platform) {
        return progress.step("Reading " + ref + " (" + platform + ")", () -> doPull(ref, platform, false),
                r -> r.platformDigest().substring(0, 19));
    }

    /** The store name of a pulled image: the reference without registry aliases, tag kept, digest only without a tag. */
    public static String storeName(ImageRef ref) {
        return ref.tag() != null ? ref.withoutDigest().toString() : ref.toString();
    }

    private PullResult doPull(ImageRef ref, Platform platform, boolean withLayers) {
        Optional<ImageRef> mirrored = mirrors.mirrored(ref);
        if (mirrored.isEmpty()) {
            return pullFrom(ref, ref, platform, withLayers);
        }
        ImageRef mirror = mirrored.get();
        try {
            return pullFrom(ref, mirror, platform, withLayers);
        } catch (RegistryException e) {
            if (!e.notFound()) {
                throw new UserError("cannot pull " + ref + " through mirror " + mirror.registry() + " (as " + mirror + "): "
                        + e.getMessage(), e);
            }
            progress.detail(ref + " not in mirror " + mirror.registry() + "; trying " + ref.registry());
            try {
                PullResult r = pullFrom(ref, ref, platform, withLayers);
                progress.notice(ref + " is not in mirror " + mirror.registry() + "; pulled from " + ref.registry());
                return r;
            } catch (RegistryException o) {
                String why = o.notFound() ? ref.registry() + " does not have it either" : o.getMessage();
                throw new UserError("image " + ref + " not found in mirror " + mirror.registry() + " (as " + mirror
                        + "), and " + why, o);
            }
        }
    }

    private PullResult pullFrom(ImageRef ref, ImageRef source, Platform platform, boolean withLayers) {
        RegistryClient client = clients.forRegistry(source.registry());
        String repo = source.repository();
        // A pinned digest already in the store needs no registry (the bytes were verified when stored).
        RegistryManifest top = reuse && source.digest() != null && store.has(source.digest()) ? fromStore(source.digest())
                : client.manifest(repo, source.qualifier());
        if (source.digest() != null && !top.digest().equals(source.digest())) {
            throw new UserError("image " + ref + ": " + source.registry() + " served content whose digest is " + top.digest()
                    + ", not the pinned " + source.digest() + "; nothing was stored");
        }
        RegistryManifest manifest = top;
        if (top.isIndex()) {
            Descriptor chosen = choose(ref, top, platform);
            manifest = reuse && store.has(chosen.digest()) ? fromStore(chosen.digest()) : client.manifest(repo, chosen.digest());
            if (!manifest.digest().equals(chosen.digest())) {
                throw new UserError("image " + ref + ": " + source.registry() + " served the " + platform + " manifest as "
                        + manifest.digest() + ", not the " + chosen.digest() + " its index names; nothing was stored");
            }
            if (!manifest.isIndex() && !dev.kindbuild.image.store.MediaTypes.IMAGE_MANIFESTS.contains(manifest.mediaType())) {
                throw new UserError("image " + ref + ": the " + platform + " entry of its index is not an image manifest");
            }
            if (manifest.isIndex()) {
                throw new UserError("image " + ref + ": the " + platform + " entry of its index is another index; nested indexes are not supported");
            }
        }
        JsonNode m = readJson(manifest.bytes(), ref);
        Descriptor config = descriptor(m.path("config"), ref, "config");
        List<Descriptor> layers = new ArrayList<>();
        for (JsonNode l : m.path("layers")) {
            layers.add(descriptor(l, ref, "layer"));
        }

        long total = config.size() + layers.stream().mapToLong(Descriptor::size).sum();
        ByteCounter bytes = new ByteCounter("pull " + ref, total, progress);
        int fetched = 0;
        fetch(client, repo, config, bytes, ref);
        if (!top.isIndex()) {
            Platform got = Platform.of(store.readJson(config.digest()));
            if (!platform.matches(got)) {
                throw new UserError("image " + ref + " is a single-platform image for " + got + ", not " + platform);
            }
        }
        for (Descriptor layer : withLayers ? layers : List.<Descriptor>of()) {
            if (fetch(client, repo, layer, bytes, ref)) {
                fetched++;
            }
        }
        bytes.finish();

        // Manifests last: once they are in, everything they name is too.
        storeVerified(new java.io.ByteArrayInputStream(manifest.bytes()), manifest.descriptor());
        if (top != manifest) {
            storeVerified(new java.io.ByteArrayInputStream(top.bytes()), top.descriptor());
        }
        StoredImage image = store.image(manifest.descriptor());
        String name = storeName(ref);
        if (withLayers) {
            store.tag(name, top.descriptor());
        }
        return new PullResult(ref, top.digest(), manifest.digest(), config.digest(), image, source, name, fetched, bytes.done());
    }

    /** Into the store, checked against {@code expected}; with {@link #reuse} off the store's copy is replaced. */
    private void storeVerified(InputStream content, Descriptor expected) {
        if (reuse) {
            store.putVerified(content, expected);
        } else {
            store.replaceVerified(content, expected);
        }
    }

    private RegistryManifest fromStore(String digest) {
        byte[] bytes = store.readSmall(digest);
        JsonNode m = readJson(bytes, null);
        String type = m.path("mediaType").asText("");
        if (type.isEmpty()) {
            type = m.has("manifests") ? dev.kindbuild.image.store.MediaTypes.OCI_INDEX : dev.kindbuild.image.store.MediaTypes.OCI_MANIFEST;
        }
        return new RegistryManifest(type, bytes, digest);
    }

    /** How often a blob download that broke off mid-stream is started again. */
    static final int BLOB_ATTEMPTS = 3;

    /**
     * Streams one blob into the store unless it is there; true when it was transferred. A download that breaks off
     * is started again (the store keeps nothing of a partial one); bytes that do not match the digest are not retried.
     */
    private boolean fetch(RegistryClient client, String repo, Descriptor blob, ByteCounter bytes, ImageRef ref) {
        for (int attempt = 1; ; attempt++) {
            if (reuse && store.has(blob.digest())) {
                return false;
            }
            try (InputStream in = new BrokenTransfer.Marking(bytes.wrap(client.blob(repo, blob.digest())))) {
                storeVerified(in, blob);
                return true;
            } catch (RegistryException e) {
                throw e;
            } catch (UserError | IOException e) {
                if (BrokenTransfer.in(e) && attempt < BLOB_ATTEMPTS) {
                    progress.detail("pulling " + ref + ": blob " + blob.digest() + " broke off (" + e.getMessage()
                            + "), starting it again (" + attempt + "/" + BLOB_ATTEMPTS + ")");
                    continue;
                }
                throw new UserError("pulling " + ref + " from " + client.registry() + ": "
                        + (BrokenTransfer.in(e) ? "blob " + blob.digest() + " broke off " + BLOB_ATTEMPTS + " times: " : "")
                        + e.getMessage(), e);
            }
        }
    }

    /** A read from the registry that failed, told apart from a failing write to the store. */
    private static final class BrokenTransfer extends IOException {
        BrokenTransfer(IOException cause) {
            super(cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage(), cause);
        }

        static boolean in(Throwable e) {
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof BrokenTransfer) {
                    return true;
                }
            }
            return false;
        }

        static final class Marking extends java.io.FilterInputStream {
            Marking(InputStream in) {
                super(in);
            }

            @Override
            public int read() throws IOException {
                try {
                    return super.read();
                } catch (IOException e) {
                    throw new BrokenTransfer(e);
                }
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                try {
                    return super.read(b, off, len);
                } catch (IOException e) {
                    throw new BrokenTransfer(e);
                }
            }
        }
    }

    /** The index entry for {@code platform}, strictly; else one error naming the image and the platforms it has. */
    private Descriptor choose(ImageRef ref, RegistryManifest index, Platform platform) {
        JsonNode list = readJson(index.bytes(), ref);
        Set<String> has = new TreeSet<>();
        Descriptor chosen = null;
        for (JsonNode d : list.path("manifests")) {
            Platform p = Platform.of(d.path("platform"));
            if (p.os().equals("unknown") || p.architecture().equals("unknown")) {
                continue; // attestations (buildx provenance, SBOMs)
            }
            has.add(p.toString());
            if (chosen == null && platform.matches(p)) {
                chosen = descriptor(d, ref, "manifest");
            }
        }
        if (chosen == null) {
            throw new UserError("image " + ref + " has no " + platform + " variant (it has "
                    + (has.isEmpty() ? "no platforms" : String.join(", ", has)) + ")");
        }
        return chosen;
    }

    private static JsonNode readJson(byte[] bytes, ImageRef ref) {
        try {
            return JSON.readTree(bytes);
        } catch (IOException e) {
            throw new UserError("image " + ref + ": its manifest is not JSON: " + e.getMessage(), e);
        }
    }

    private static Descriptor descriptor(JsonNode node, ImageRef ref, String what) {
        try {
            return new Descriptor(node.path("mediaType").asText(""), node.path("digest").asText(""), node.path("size").asLong(-1));
        } catch (IllegalArgumentException e) {
            throw new UserError("image " + ref + ": its manifest has a bad " + what + " entry (" + e.getMessage() + ")", e);
        }
    }
}
