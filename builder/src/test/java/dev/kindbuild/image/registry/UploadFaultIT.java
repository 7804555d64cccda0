package dev.kindbuild.image.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kindbuild.image.ImageRef;
import dev.kindbuild.image.registry.RegistryAccess;
import dev.kindbuild.image.store.Descriptor;
import dev.kindbuild.image.store.ImageStore;
import dev.kindbuild.image.store.StoredImage;
import dev.kindbuild.support.Sha256;
import dev.kindbuild.testing.LocalRegistry;
import dev.kindbuild.testing.RecordingProgress;
import dev.kindbuild.testing.Skopeo;
import dev.kindbuild.testing.UploadFaultProxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Blob uploads to a real distribution registry (Debian's docker-registry) through a proxy that breaks them: a
 * connection dropped mid-upload is retried in a fresh upload session and the pushed image is complete (skopeo copies
 * it back and every blob hashes to its digest); a registry that stops reading fails the push within the stall bound,
 * with one line naming the registry and the blob, and nothing is tagged.
 */
class UploadFaultIT {
    @RegisterExtension
    static final LocalRegistry REGISTRY = new LocalRegistry();

    /** Large enough that the socket buffers between the client and a proxy that stops reading cannot hold it. */
    static final int BIG_LAYER = 32 << 20;

    /** The system property that bounds a stalled upload (60 s by default). */
    static final String STALL_SECONDS = "kindbuild.registry.stallSeconds";

    @TempDir
    Path tmp;

    final RecordingProgress progress = new RecordingProgress();

    RegistryClients clients() {
        return new RegistryClients(RegistryAccess.defaults(), RegistryTrust.jvmDefault(), progress, 50);
    }

    StoredImage imageWithABigLayer(ImageStore store, String label) {
        byte[] noise = new byte[BIG_LAYER];
        new Random(label.hashCode()).nextBytes(noise);
        return TestImages.image(store, Platform.linux("amd64"), label, List.of(
                TestImages.layer(store, "small", "a small layer " + label),
                TestImages.layer(store, "big", noise)));
    }

    @Test
    void aConnectionDroppedMidUploadIsRetriedInAFreshSessionAndTheImageIsComplete() throws Exception {
        ImageStore store = ImageStore.open(tmp.resolve("store"));
        StoredImage image = imageWithABigLayer(store, "dropped");
        try (UploadFaultProxy proxy = new UploadFaultProxy(REGISTRY.host(), UploadFaultProxy.Fault.DROP_ONCE, 1 << 20)) {
            ImageRef target = ImageRef.parse(proxy.host() + "/kb/dropped:1");

            PushResult pushed = assertTimeoutPreemptively(Duration.ofMinutes(3),
                    () -> new RegistryPush(clients(), store, progress).push(image, target, Optional.empty()));

            assertTrue(proxy.dropped(), "the proxy must have dropped an upload: " + proxy.requests());
            assertEquals(image.manifest().digest(), pushed.digest());
            assertEquals(3, pushed.uploaded(), "config and two layers, each counted once");
            assertEquals(image.config().size() + image.layers().get(0).size() + big(image).size(), pushed.bytesUploaded(),
                    "bytes of the dropped attempt are not counted");
            // The retry opened a session of its own: four sessions for three blobs, no session PUT twice.
            List<String> sessions = proxy.requests().stream().filter(r -> r.startsWith("PUT ") && r.contains("/blobs/uploads/"))
                    .map(r -> r.replaceFirst("\\?.*", "")).toList();
            assertEquals(4, sessions.size(), proxy.requests().toString());
            assertEquals(4, sessions.stream().distinct().count(), "a retry must not resume a dropped session: " + sessions);
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\nregistry log tail:\n" + tail(REGISTRY.logText()), e);
        }
        // Read back directly from the registry by another client: every blob is there and hashes to its digest.
        Path copy = tmp.resolve("copy");
        Skopeo.run("copy", "--src-tls-verify=false", "docker://" + REGISTRY.host() + "/kb/dropped:1", "dir:" + copy);
        for (Descriptor blob : List.of(image.config(), image.layers().get(0), image.layers().get(1))) {
            Path file = copy.resolve(blob.digest().substring("sha256:".length()));
            assertTrue(Files.exists(file), blob.digest() + " missing from what skopeo read back");
            assertEquals(blob.size(), Files.size(file));
            assertEquals(blob.digest(), "sha256:" + Sha256.of(file));
        }
    }

    @Test
    void aRegistryThatStopsReadingFailsThePushWithinTheBoundAndTagsNothing() throws Exception {
        ImageStore store = ImageStore.open(tmp.resolve("store"));
        StoredImage image = imageWithABigLayer(store, "stalled");
        Descriptor big = big(image);
        System.setProperty(STALL_SECONDS, "3");
        try (UploadFaultProxy proxy = new UploadFaultProxy(REGISTRY.host(), UploadFaultProxy.Fault.STOP_READING, 1 << 20)) {
            ImageRef target = ImageRef.parse(proxy.host() + "/kb/stalled:1");
            long start = System.nanoTime();

            RegistryException e = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> assertThrows(RegistryException.class,
                    () -> new RegistryPush(clients(), store, progress).push(image, target, Optional.empty())));

            double seconds = (System.nanoTime() - start) / 1e9;
            assertEquals(1, proxy.stalled(), "one upload stalled, and it was not tried again: " + proxy.requests());
            assertTrue(seconds < 30, "the stall must end the push within the bound, took " + seconds + " s");
            String message = e.getMessage();
            assertFalse(message.contains("\n"), "one line: " + message);
            assertTrue(message.contains("registry " + proxy.host()), message);
            assertTrue(message.contains(big.digest()), "names the blob: " + message);
            assertTrue(message.contains("no bytes accepted for 3 s"), message);
        } finally {
            System.clearProperty(STALL_SECONDS);
        }
        RegistryException notThere = assertThrows(RegistryException.class,
                () -> clients().forRegistry(REGISTRY.host()).manifest("kb/stalled", "1"));
        assertTrue(notThere.notFound(), notThere.getMessage());
    }

    static Descriptor big(StoredImage image) {
        return image.layers().get(1);
    }

    static String tail(String log) {
        List<String> lines = log.lines().toList();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
    }
}
