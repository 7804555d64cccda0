package dev.kindbuild.node.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.image.archive.DockerArchive;
import dev.kindbuild.image.layer.ImageContents;
import dev.kindbuild.image.store.ImageStore;
import dev.kindbuild.image.store.StoredImage;
import dev.kindbuild.support.Sha256;
import dev.kindbuild.testing.LocalRegistry;
import dev.kindbuild.sample.SampleEnvironment;
import dev.kindbuild.testing.CliRun;
import dev.kindbuild.testing.FileDamage;
import dev.kindbuild.testing.ImageFiles;
import dev.kindbuild.testing.ItTeardown;
import dev.kindbuild.testing.Leaks;
import dev.kindbuild.testing.RecordingProgress;
import dev.kindbuild.testing.TestBaseImage;
import dev.kindbuild.testing.TestCache;
import dev.kindbuild.testing.TestEngine;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Nothing leaves kind-build's caches unchecked (`node-image --builder oci`, the CLI in process, a private cache):
 * a flipped byte in a big layer blob of the image store fails a docker-archive, an OCI archive, an engine load and a
 * push with one line naming the blob and the fix, writes no output, removes the blob, and the next run fetches or
 * rebuilds it; a flipped byte in the extracted kubelet (mtime kept) never reaches a node, of either builder;
 * `--no-cache` reuses nothing from the store; `cleanup --store` removes the store and nothing else of the cache.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StoreIntegrityIT {
    @RegisterExtension
    static final LocalRegistry REGISTRY = new LocalRegistry();

    private static final String V = "v1.31.2";
    private static final String TAG = "kind-build-test/store-integrity:" + Leaks.PID;
    private static final ObjectMapper JSON = new ObjectMapper();

    private DockerEngine engine;
    private TestCache cache;
    private SampleEnvironment env;
    private Path tmp;
    private Path baseArchive;
    private final Set<String> engineTags = new LinkedHashSet<>();

    @BeforeAll
    void setUp() throws Exception {
        engine = TestEngine.connect();
        String arch = engine.facts().architecture();
        cache = TestCache.create();
        tmp = Files.createTempDirectory("kind-build-it-store-");
        RecordingProgress progress = new RecordingProgress();
        TestBaseImage.get(engine, false, progress);
        env = SampleEnvironment.start(V, arch, 0, REGISTRY.host(), progress);
        baseArchive = tmp.resolve("base.tar");
        try (InputStream in = engine.save(TestBaseImage.TAG)) {
            Files.copy(in, baseArchive);
        }
    }

    @AfterAll
    void tearDown() {
        ItTeardown.run(engine, engineTags, env, cache, tmp);
    }

    private List<String> build(String... extra) {
        List<String> args = new ArrayList<>(List.of("node-image", V, "--builder", "oci", "--k8s-release-url", env.releaseUrl().toString(),
                "--base-image", "docker-archive:" + baseArchive,
                "--registry-mirror", "registry.k8s.io=" + REGISTRY.host(), "--registry-mirror", "docker.io=" + REGISTRY.host()));
        args.addAll(List.of(extra));
        return args;
    }

    private static CliRun run(List<String> args) {
        return CliRun.of(args.toArray(String[]::new));
    }

    private Path store() {
        return cache.dir().resolve("store");
    }

    /** The biggest blob in the store: a layer of the base or of the node. */
    private Path largestBlob() throws IOException {
        try (Stream<Path> s = Files.list(store().resolve("blobs/sha256"))) {
            return s.filter(p -> !p.getFileName().toString().startsWith(".")).max(Comparator.comparingLong(StoreIntegrityIT::size)).orElseThrow();
        }
    }

    private static long size(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** A failed run: the exit code, exactly one ERROR line naming the blob and the fix, and no stack trace. */
    private static String assertStoreError(CliRun r, Path blob) {
        assertEquals(1, r.exit(), r.err());
        List<String> errors = r.err().lines().filter(l -> l.startsWith("ERROR")).toList();
        assertEquals(1, errors.size(), r.err());
        String line = errors.get(0);
        assertTrue(line.contains(blob.toString()), "names the store path: " + line);
        assertTrue(line.contains("kind-build cleanup --store"), "names the fix: " + line);
        assertFalse(line.contains("kind-build bug"), line);
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
        return line;
    }

    /** No partial file in the cache and none beside the output. */
    private void assertNoPartials(Path outputDir) throws IOException {
        try (Stream<Path> s = Files.walk(cache.dir())) {
            assertEquals(List.of(), s.filter(p -> p.getFileName().toString().startsWith(".partial-")).toList());
        }
        try (Stream<Path> s = Files.list(outputDir)) {
            assertEquals(List.of(), s.filter(p -> p.getFileName().toString().contains(".partial-")).toList());
        }
    }

    /** Every blob in the archive hashes to its name (docker-archive: {@code <hex>.json|.tar|.tar.gz}; OCI: {@code blobs/sha256/<hex>}). */
    private static int assertArchiveBlobsMatchTheirNames(Path archive) throws IOException {
        int checked = 0;
        try (TarArchiveInputStream tar = new TarArchiveInputStream(new BufferedInputStream(Files.newInputStream(archive), 1 << 16))) {
            for (TarArchiveEntry e; (e = tar.getNextEntry()) != null; ) {
                String name = DockerArchive.entryName(e.getName());
                String hex = name.startsWith("blobs/sha256/") ? name.substring(13) : name.replaceFirst("\\.(json|tar|tar\\.gz)$", "");
                if (!e.isFile() || !hex.matches("[0-9a-f]{64}")) {
                    continue;
                }
                MessageDigest md = Sha256.newDigest();
                byte[] buf = new byte[1 << 16];
                for (int n; (n = tar.read(buf)) > 0; ) {
                    md.update(buf, 0, n);
                }
                assertEquals(hex, Sha256.hex(md), name + " in " + archive);
                checked++;
            }
        }
        assertTrue(checked >= 3, "an image has a config and layers: " + checked + " blobs in " + archive);
        return checked;
    }

    @Test
    @Order(1)
    void aFlippedByteInABigLayerBlobFailsEitherArchiveAndTheNextRunFetchesItAgain() throws Exception {
        Path first = tmp.resolve("first.tar");
        CliRun built = run(build("--image", TAG, "--output", first.toString()));
        assertEquals(0, built.exit(), built.err());
        assertArchiveBlobsMatchTheirNames(first);

        for (String format : List.of("docker", "oci")) {
            Path blob = largestBlob();
            String good = blob.getFileName().toString();
            assertTrue(Files.size(blob) > 1 << 20, "a big layer: " + blob + " " + Files.size(blob));
            FileDamage.flipByte(blob, Files.size(blob) / 2);
            Path out = tmp.resolve("after-damage." + format + ".tar");
            Set<String> temps = Leaks.tempEntries("kind-build-");

            CliRun failed = run(build("--image", TAG, "--output", out.toString(), "--output-format", format));
            assertStoreError(failed, blob);
            assertFalse(Files.exists(out), format + ": no archive with the bad bytes");
            assertFalse(Files.exists(blob), "the bad blob is removed");
            assertNoPartials(tmp);
            Leaks.assertNoNewTempEntries("kind-build-", temps, 10);

            CliRun again = run(build("--image", TAG, "--output", out.toString(), "--output-format", format));
            assertEquals(0, again.exit(), again.err());
            assertEquals(good, Sha256.of(blob), "the next run fetched or rebuilt the blob: " + again.err());
            assertArchiveBlobsMatchTheirNames(out);
        }
    }

    @Test
    @Order(2)
    void aFlippedByteFailsAnEngineLoadAndTheEngineGetsNoImage() throws Exception {
        String tag = TAG + "-load";
        engineTags.add(tag);
        Path blob = largestBlob();
        String good = blob.getFileName().toString();
        FileDamage.flipByte(blob, Files.size(blob) / 3);

        CliRun failed = run(build("--image", tag)); // an engine answers and no --output: the image is loaded into it
        assertStoreError(failed, blob);
        assertTrue(engine.inspectImage(tag).isEmpty(), "the engine must not hold an image made of the bad bytes");
        assertFalse(Files.exists(blob));

        CliRun again = run(build("--image", tag));
        assertEquals(0, again.exit(), again.err());
        assertEquals(good, Sha256.of(blob));
        assertTrue(engine.inspectImage(tag).isPresent());
    }

    @Test
    @Order(3)
    void aFlippedByteFailsAPushWithTheStoresMessageNotOnlyTheRegistrys() throws Exception {
        String target = REGISTRY.host() + "/kind-build-test/store-integrity:" + Leaks.PID;
        Path blob = largestBlob();
        String good = blob.getFileName().toString();
        FileDamage.flipByte(blob, Files.size(blob) - 10);

        String previousHost = System.setProperty("DOCKER_HOST", "unix:///nonexistent/docker.sock"); // no engine: only the push reads it
        try {
            CliRun failed = run(build("--image", target, "--push"));
            String line = assertStoreError(failed, blob);
            // The registry's answer would read "refused … (400, …)"; a digest in the line may well hold the digits 400.
            assertFalse(line.contains("refused") || java.util.regex.Pattern.compile("\\b400\\b").matcher(line).find(),
                    "the local store is the cause, not the registry's answer: " + line);
            assertFalse(Files.exists(blob));
            assertEquals(404, manifestStatus(target), "no manifest was pushed");

            CliRun again = run(build("--image", target, "--push"));
            assertEquals(0, again.exit(), again.err());
            assertEquals(good, Sha256.of(blob));
            assertEquals(200, manifestStatus(target));
        } finally {
            if (previousHost == null) {
                System.clearProperty("DOCKER_HOST");
            } else {
                System.setProperty("DOCKER_HOST", previousHost);
            }
        }
    }

    private static int manifestStatus(String ref) throws IOException {
        int slash = ref.indexOf('/');
        int colon = ref.lastIndexOf(':');
        URI uri = URI.create("http://" + ref.substring(0, slash) + "/v2/" + ref.substring(slash + 1, colon) + "/manifests/" + ref.substring(colon + 1));
        HttpURLConnection c = (HttpURLConnection) uri.toURL().openConnection();
        c.setRequestMethod("HEAD");
        c.setRequestProperty("Accept", "application/vnd.oci.image.manifest.v1+json");
        try {
            return c.getResponseCode();
        } finally {
            c.disconnect();
        }
    }

    @Test
    @Order(4)
    void aFlippedByteInTheExtractedKubeletNeverReachesANode() throws Exception {
        Path kubelet = extractedKubelet();
        String good = Sha256.of(kubelet);
        // A store without the node image: it must be written again, from the extracted release.
        dev.kindbuild.lifecycle.TempPaths.deleteTree(store());
        FileDamage.flipByte(kubelet, Files.size(kubelet) / 2);
        Path out = tmp.resolve("after-kubelet.tar");
        CliRun r = run(build("--image", TAG, "--output", out.toString()));
        assertEquals(0, r.exit(), r.err());
        assertEquals(good, Sha256.of(kubelet), "the release was extracted again: " + r.err());
        ImageStore store = ImageStore.open(store());
        StoredImage node = store.image(store.resolve(TAG).orElseThrow());
        String inNode;
        try (InputStream in = ImageContents.of(store, node).open("/usr/bin/kubelet")) {
            MessageDigest md = Sha256.newDigest();
            md.update(in.readAllBytes());
            inNode = Sha256.hex(md);
        }
        assertEquals(good, inNode, "the node's kubelet is the release's");
        assertArchiveBlobsMatchTheirNames(out);
    }

    @Test
    @Order(5)
    void noCacheReusesNothingFromTheStore() throws Exception {
        Path out = tmp.resolve("warm.tar");
        CliRun warm = run(build("--image", TAG, "--output", out.toString(), "--json"));
        assertEquals(0, warm.exit(), warm.err());
        assertTrue(JSON.readTree(warm.out()).path("reused").asBoolean(), "same inputs: the store's node image: " + warm.out());

        CliRun fresh = run(build("--image", TAG, "--output", tmp.resolve("fresh.tar").toString(), "--json", "--no-cache"));
        assertEquals(0, fresh.exit(), fresh.err());
        JsonNode result = JSON.readTree(fresh.out());
        assertFalse(result.path("reused").asBoolean(), "--no-cache builds the node image again: " + fresh.err());
        assertEquals(JSON.readTree(warm.out()).path("manifestDigest").asText(), result.path("manifestDigest").asText(),
                "the same inputs give the same image, rebuilt");
        assertFalse(fresh.err().contains("inputs unchanged"), fresh.err());
        List<String> pulls = fresh.err().lines().filter(l -> l.contains("Pulling ")).toList();
        assertFalse(pulls.isEmpty(), fresh.err());
        assertTrue(pulls.stream().noneMatch(l -> l.contains("cached")), "every image pulled again: " + pulls);
        assertFalse(fresh.err().contains("(cached)"), "nothing from the release cache: " + fresh.err());
        assertArchiveBlobsMatchTheirNames(tmp.resolve("fresh.tar"));
    }

    @Test
    @Order(6)
    void cleanupStoreRemovesTheImageStoreAndNothingElseOfTheCache() throws Exception {
        assertTrue(Files.isDirectory(store().resolve("blobs/sha256")));
        List<String> downloads;
        try (Stream<Path> s = Files.list(cache.dir().resolve("downloads/sha256"))) {
            downloads = s.map(p -> p.getFileName().toString()).sorted().toList();
        }
        assertFalse(downloads.isEmpty());
        String previousTmp = System.getProperty("java.io.tmpdir");
        Path ownTmp = Files.createDirectories(tmp.resolve("cleanup-tmp")); // cleanup removes dead runs' temp dirs: only its own here
        CliRun cleanup;
        try {
            System.setProperty("java.io.tmpdir", ownTmp.toString());
            cleanup = CliRun.of("cleanup", "--store");
        } finally {
            System.setProperty("java.io.tmpdir", previousTmp);
        }
        assertEquals(0, cleanup.exit(), cleanup.err());
        assertTrue(cleanup.out().contains(store().toString()), "says what it removed: " + cleanup.out());
        assertFalse(Files.exists(store()), cleanup.out());
        try (Stream<Path> s = Files.list(cache.dir())) {
            assertEquals(List.of(), s.filter(p -> p.getFileName().toString().startsWith(".partial-")).toList());
        }
        try (Stream<Path> s = Files.list(cache.dir().resolve("downloads/sha256"))) {
            assertEquals(downloads, s.map(p -> p.getFileName().toString()).sorted().toList(), "downloads are kept");
        }

        CliRun after = run(build("--image", TAG, "--output", tmp.resolve("after-cleanup.tar").toString()));
        assertEquals(0, after.exit(), "a build after cleanup --store starts a new store: " + after.err());
        assertArchiveBlobsMatchTheirNames(tmp.resolve("after-cleanup.tar"));
    }

    @Test
    @Order(7)
    void theDockerBuilderChecksTheExtractedReleaseToo() throws Exception {
        String tag = TAG + "-docker";
        engineTags.add(tag);
        Path kubelet = extractedKubelet();
        String good = Sha256.of(kubelet);
        FileDamage.flipByte(kubelet, Files.size(kubelet) / 3);

        CliRun r = CliRun.of("node-image", V, "--builder", "docker", "--k8s-release-url", env.releaseUrl().toString(),
                "--image", tag, "--base-image", TestBaseImage.TAG,
                "--registry-mirror", "registry.k8s.io=" + REGISTRY.host(), "--registry-mirror", "docker.io=" + REGISTRY.host());
        assertEquals(0, r.exit(), r.err());
        assertEquals(good, Sha256.of(kubelet), "the release was extracted again: " + r.err());
        try (ImageFiles files = new ImageFiles(engine, tag)) {
            assertEquals(good, files.sha256("/usr/bin/kubelet"), "the node's kubelet is the release's");
        }
        Leaks.assertNoContainers(engine);
    }

    private Path extractedKubelet() throws IOException {
        try (Stream<Path> s = Files.list(cache.dir().resolve("releases"))) {
            return s.filter(Files::isDirectory).filter(d -> !d.getFileName().toString().startsWith(".")).findFirst().orElseThrow()
                    .resolve("bin/kubelet");
        }
    }
}
