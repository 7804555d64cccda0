package dev.kindbuild.release;

import dev.kindbuild.node.ContentStoreLayout;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.image.layer.ImageContents;
import dev.kindbuild.image.store.Descriptor;
import dev.kindbuild.image.store.ImageStore;
import dev.kindbuild.image.store.StoredImage;
import dev.kindbuild.node.ArchGuard;
import dev.kindbuild.node.NodeLayout;
import dev.kindbuild.testing.LocalRegistry;
import dev.kindbuild.sample.SampleEnvironment;
import dev.kindbuild.sample.SampleImages;
import dev.kindbuild.sample.SampleSize;
import dev.kindbuild.testing.CliRun;
import dev.kindbuild.testing.ItTeardown;
import dev.kindbuild.testing.KeptImages;
import dev.kindbuild.testing.Leaks;
import dev.kindbuild.testing.RecordingProgress;
import dev.kindbuild.testing.Skopeo;
import dev.kindbuild.testing.TestCache;
import dev.kindbuild.testing.TestEmulation;
import dev.kindbuild.testing.TestEngine;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;
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
 * Release jobs end to end, against local registries: a multi-arch base (arm64 built under emulation), a multi-arch node
 * image built with the emulation unregistered, checked by skopeo per platform, arm64 throughout (ELF headers, image
 * configs, and its programs run under emulation), the amd64 image pulled back by the engine passing verify --offline;
 * then a release file of two versions × two arches published to a registry with htpasswd and TLS (a CA of our own).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MultiArchReleaseIT {
    @RegisterExtension
    static final LocalRegistry REGISTRY = new LocalRegistry();
    private static final String USER = "releaser";
    private static final String PASSWORD = "rel-" + Leaks.PID + "-secret";
    @RegisterExtension
    static final LocalRegistry SECURE = new LocalRegistry().withHtpasswd(USER, PASSWORD).withTls();

    private static final String V1 = "v1.31.2";
    private static final String V2 = "v1.30.6";
    private static final List<String> ARCHES = List.of("amd64", "arm64");
    /**
     * The base these release jobs build: bookworm with its containerd 1.6, because the arm64 node must boot here under
     * qemu-user, and systemd 257 (trixie, the default base) cannot spawn a single service there ("Failed to spawn
     * executor: Invalid argument"). The default (trixie) base goes the same way for either arch; an emulated boot of it
     * is reported at once by verify (NodeArchTest).
     */
    private static final String[] EMULATION_BOOTABLE_BASE = {"--debian-suite", "bookworm", "--containerd", "1.6"};
    private static final ObjectMapper JSON = new ObjectMapper();

    private DockerEngine engine;
    private TestCache cache;
    private SampleEnvironment env;
    private Path tmp;
    private String base;
    private String node;
    private Path baseRecord;
    private final List<String> engineTags = new ArrayList<>();

    @BeforeAll
    void setUp() throws Exception {
        engine = TestEngine.connect();
        TestEmulation.requireArm64();
        cache = TestCache.create();
        tmp = Files.createTempDirectory("kind-build-it-release-");
        env = SampleEnvironment.start(List.of(V1, V2), ARCHES, 0, REGISTRY.host(), SampleSize.STAND_IN, new RecordingProgress());
        base = REGISTRY.host() + "/kind-build-test/base:multi";
        node = REGISTRY.host() + "/kind-build-test/node:" + V1;
        ARCHES.forEach(a -> engineTags.add(base + "-" + a));
        baseRecord = tmp.resolve("base-record.json");
        CliRun built = CliRun.of(withBase("base-image", "--arch", "amd64,arm64", "--image", base, "--push", "--record", baseRecord.toString()));
        assertEquals(0, built.exit(), built.err());
        assertTrue(built.out().contains(base + "@sha256:"), built.out());
        // ClusterReleaseIT builds the same base: kept, it is reused there instead of made again under emulation.
        ARCHES.forEach(a -> KeptImages.keep(engine, base + "-" + a));
    }

    @AfterAll
    void tearDown() {
        ItTeardown.run(engine, engineTags, env, cache, tmp);
    }

    private List<String> mirrors() {
        return List.of("--registry-mirror", "registry.k8s.io=" + REGISTRY.host(), "--registry-mirror", "docker.io=" + REGISTRY.host());
    }

    private static Set<String> platforms(JsonNode index) {
        Set<String> out = new TreeSet<>();
        index.path("manifests").forEach(m -> out.add(m.path("platform").path("os").asText() + "/" + m.path("platform").path("architecture").asText()));
        return out;
    }

    @Test
    @Order(1)
    void aMultiArchNodeImageIsBuiltWithNoEmulationAndPushedAsAnIndex() throws Exception {
        JsonNode baseIndex = JSON.readTree(Skopeo.run("inspect", "--raw", "docker://" + base));
        assertEquals(Set.of("linux/amd64", "linux/arm64"), platforms(baseIndex));

        List<String> args = new ArrayList<>(List.of("node-image", V1, "--arch", "amd64,arm64", "--base-image", base, "--image", node,
                "--push", "--k8s-release-url", env.releaseUrl().toString()));
        args.addAll(mirrors());
        CliRun run = TestEmulation.withoutArm64(() -> CliRun.of(args.toArray(String[]::new)));
        assertEquals(0, run.exit(), run.err());
        assertTrue(run.err().contains("building with --builder oci (no emulation)"), run.err());
        assertTrue(TestEmulation.arm64Registered(), "emulation is registered again after the build");

        JsonNode index = JSON.readTree(Skopeo.run("inspect", "--raw", "docker://" + node));
        assertEquals("application/vnd.oci.image.index.v1+json", index.path("mediaType").asText());
        assertEquals(Set.of("linux/amd64", "linux/arm64"), platforms(index));
        String[] lines = run.out().strip().split("\n");
        String pinnedIndex = lines[lines.length - 3];
        assertTrue(pinnedIndex.startsWith(node + "@sha256:"), run.out());
        for (String arch : ARCHES) {
            JsonNode config = JSON.readTree(Skopeo.run("inspect", "--override-arch", arch, "--config", "--raw", "docker://" + node));
            assertEquals(arch, config.path("architecture").asText());
            assertEquals("linux", config.path("os").asText());
            assertTrue(config.path("config").path("Labels").path("dev.kind-build.inputs").asText().contains("\"arch\":\"" + arch + "\""));
            assertTrue(run.out().contains("(linux/" + arch + ")"), run.out());
        }
        // Each entry of the index is exactly what the store built for its arch.
        assertNotEquals(index.path("manifests").path(0).path("digest").asText(), index.path("manifests").path(1).path("digest").asText());

        // The same index as an OCI archive (a warm build: nothing is built again), per platform readable by skopeo.
        Path archive = tmp.resolve("node-multi.oci.tar");
        List<String> toFile = new ArrayList<>(args.subList(0, args.indexOf("--push")));
        toFile.addAll(List.of("--k8s-release-url", env.releaseUrl().toString(), "--output", archive.toString(), "--output-format", "oci"));
        toFile.addAll(mirrors());
        CliRun written = CliRun.of(toFile.toArray(String[]::new));
        assertEquals(0, written.exit(), written.err());
        assertTrue(written.err().contains("inputs unchanged"), written.err());
        for (JsonNode m : index.path("manifests")) {
            String arch = m.path("platform").path("architecture").asText();
            JsonNode inspected = JSON.readTree(Skopeo.run("inspect", "--override-arch", arch, "oci-archive:" + archive));
            JsonNode pushed = JSON.readTree(Skopeo.run("inspect", "--override-arch", arch, "docker://" + node));
            // skopeo names the index's digest for both; the layers are the platform's own.
            assertEquals(pushed.path("Digest").asText(), inspected.path("Digest").asText(), arch);
            assertEquals(pushed.path("Layers"), inspected.path("Layers"), arch);
            assertEquals(arch, inspected.path("Architecture").asText());
        }
        // A docker-archive holds one image per tag: refused with one line, nothing written.
        List<String> docker = new ArrayList<>(toFile.subList(0, toFile.indexOf("--output-format")));
        CliRun refused = CliRun.of(docker.toArray(String[]::new));
        assertEquals(1, refused.exit());
        assertTrue(refused.err().contains("a docker-archive holds one image per tag, not 2 architectures"), refused.err());
    }

    @Test
    @Order(2)
    void theArm64NodeIsArm64ThroughoutAndItsProgramsRunUnderEmulation() throws Exception {
        ImageStore store = ImageStore.defaultLocation();
        Descriptor indexDescriptor = store.resolve(node).orElseThrow();
        JsonNode index = store.readJson(indexDescriptor.digest());
        JsonNode entry = null;
        for (JsonNode m : index.path("manifests")) {
            if (m.path("platform").path("architecture").asText().equals("arm64")) {
                entry = m;
            }
        }
        StoredImage arm64 = store.image(new Descriptor(entry.path("mediaType").asText(), entry.path("digest").asText(), entry.path("size").asLong()));
        ImageContents files = ImageContents.of(store, arm64);
        assertEquals(Optional.of("arm64"), ArchGuard.elfArch(files.open("/usr/bin/containerd")));
        assertEquals(Optional.of("arm64"), ArchGuard.elfArch(files.open("/usr/bin/runc")));
        for (String bin : List.of("kubeadm", "kubelet", "kubectl")) {
            // the sample release's binaries are scripts (no arch); a real release's are ELF and must be arm64
            ArchGuard.elfArch(files.open("/usr/bin/" + bin)).ifPresent(a -> assertEquals("arm64", a, bin));
        }
        JsonNode records = JSON.readTree(files.readText(NodeLayout.IMAGES_LIST));
        assertTrue(records.size() >= 8, records.toString());
        for (JsonNode r : records) {
            String name = r.path("name").asText();
            Map<String, byte[]> stub = stubBlobs(files, NodeLayout.IMAGES_DIR + "/" + r.path("file").asText());
            String configDigest = r.path("configDigest").asText();
            JsonNode config = JSON.readTree(stub.get(configDigest));
            assertEquals("arm64", config.path("architecture").asText(), name);
            JsonNode manifest = null;
            for (byte[] b : stub.values()) {
                JsonNode j = JSON.readTree(b);
                if (j.path("config").path("digest").asText().equals(configDigest)) {
                    manifest = j;
                }
            }
            JsonNode layers = manifest.path("layers");
            String lastLayer = layers.path(layers.size() - 1).path("digest").asText().substring(7);
            Optional<String> program = programArch(files, lastLayer);
            if (r.path("source").asText().equals("release")) {
                program.ifPresent(a -> assertEquals("arm64", a, name)); // the sample release's images run scripts
            } else {
                assertEquals(Optional.of("arm64"), program, name);
            }
        }

        // Under emulation the arm64 node's own programs run: its userland is a working arm64 one.
        String local = "kind-build-test/node-arm64:" + Leaks.PID;
        engineTags.add(local);
        Skopeo.run("copy", "--src-tls-verify=false", "--override-arch", "arm64", "docker://" + node, "docker-daemon:" + local);
        Process p = new ProcessBuilder("docker", "run", "--rm", "--label", "dev.kind-build.test=" + Leaks.PID, "--entrypoint", "/bin/sh",
                local, "-c", "uname -m; containerd --version 2>&1").redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.startsWith("aarch64\n"), out);
        assertTrue(out.contains("containerd"), out);

        // The whole arm64 node boots under emulation, offline: systemd, containerd and the loader import every image.
        CliRun verify = CliRun.of("verify", local, "--offline", "--json", "-v"); // -v: the loader's journal on failure
        assertEquals(0, verify.exit(), verify.out() + verify.err());
        assertTrue(verify.err().contains("the node is arm64, the engine amd64: it runs under binfmt emulation"), verify.err());
        JsonNode report = JSON.readTree(verify.out());
        assertEquals("arm64", report.path("architecture").asText());
        assertEquals(records.size() + 2, report.path("checks").size(), report.toString()); // loader, versions, each image
        assertTrue(report.path("notChecked").path(0).asText().startsWith("running a preloaded image"), report.toString());
        assertTrue(report.path("notChecked").path(1).asText().startsWith("CRI v1 pod: "), report.toString());
        // A cluster needs pods, which an emulated node cannot start: refused before anything boots.
        CliRun cluster = CliRun.of("verify", local, "--cluster");
        assertEquals(1, cluster.exit());
        assertTrue(cluster.err().contains("verify --cluster needs a node of the engine's architecture (amd64)"), cluster.err());
        // With no emulation the arm64 node cannot boot here: one line, before anything starts.
        CliRun noEmulation = TestEmulation.withoutArm64(() -> CliRun.of("verify", local, "--offline"));
        assertEquals(1, noEmulation.exit());
        assertTrue(noEmulation.err().contains("no arm64 emulation is registered (binfmt_misc); run scripts/enable-emulation"), noEmulation.err());
    }

    private static String blob(String hex) {
        return dev.kindbuild.node.ContentStoreLayout.LAYER_BLOBS + "/" + hex;
    }

    /** The blobs (digest → bytes) of an image's small archive under /kind/images: its manifest and config. */
    private static Map<String, byte[]> stubBlobs(ImageContents files, String path) throws Exception {
        Map<String, byte[]> out = new HashMap<>();
        try (TarArchiveInputStream tar = new TarArchiveInputStream(files.open(path))) {
            for (TarArchiveEntry t = tar.getNextEntry(); t != null; t = tar.getNextEntry()) {
                if (t.isFile() && t.getName().startsWith("blobs/sha256/")) {
                    out.put("sha256:" + t.getName().substring("blobs/sha256/".length()), tar.readAllBytes());
                }
            }
        }
        return out;
    }

    /** The ELF architecture of the sample program in a layer blob of the node's content store. */
    private static Optional<String> programArch(ImageContents files, String layerHex) throws Exception {
        try (InputStream raw = files.open(blob(layerHex));
                InputStream in = new java.io.BufferedInputStream(raw)) {
            in.mark(2);
            boolean gzip = in.read() == 0x1f && in.read() == 0x8b;
            in.reset();
            try (TarArchiveInputStream tar = new TarArchiveInputStream(gzip ? new GZIPInputStream(in) : in)) {
                for (TarArchiveEntry t = tar.getNextEntry(); t != null; t = tar.getNextEntry()) {
                    String name = t.getName().replaceFirst("^\\./", "/").replaceFirst("^([^/])", "/$1");
                    if (name.equals(SampleImages.PROGRAM_PATH) || name.startsWith("/usr/local/bin/")) {
                        return ArchGuard.elfArch(tar.readNBytes(20));
                    }
                }
            }
        }
        return Optional.empty();
    }

    @Test
    @Order(3)
    void theAmd64ImagePulledBackFromTheRegistryPassesVerifyOffline() throws Exception {
        String pulled = REGISTRY.host() + "/kind-build-test/node:" + V1;
        engineTags.add(pulled);
        assertTrue(engine.tryPull(pulled, "linux/amd64", java.time.Duration.ofMinutes(5), line -> {}), "the engine pulls the index's amd64 image");
        assertEquals("amd64", engine.inspectImage(pulled).orElseThrow().architecture());
        CliRun verify = CliRun.of("verify", pulled, "--offline");
        assertEquals(0, verify.exit(), verify.out() + verify.err());
    }

    private Path releaseFile(String repository, List<String> versions) throws Exception {
        String yaml = "repository: " + repository + "\n"
                + "versions: [" + String.join(", ", versions) + "]\n"
                + "arches: [amd64, arm64]\n"
                + "baseImage: " + base + "\n"
                + "kubernetesReleaseUrl: " + env.releaseUrl() + "\n"
                + "registryMirrors: {registry.k8s.io: \"" + REGISTRY.host() + "\", docker.io: \"" + REGISTRY.host() + "\"}\n"
                + "caCert: " + SECURE.caCert() + "\n"
                + "jobs: 2\n";
        return Files.writeString(tmp.resolve("release-" + versions.size() + "-" + repository.hashCode() + ".yaml"), yaml);
    }

    /** The CLI run with a Docker config that logs in to the secure registry (as `docker login` writes it). */
    private CliRun withLogin(String... args) throws Exception {
        Path home = tmp.resolve("home");
        Files.createDirectories(home.resolve(".docker"));
        String auth = Base64.getEncoder().encodeToString((USER + ":" + PASSWORD).getBytes(StandardCharsets.UTF_8));
        Files.writeString(home.resolve(".docker/config.json"), "{\"auths\":{\"" + SECURE.host() + "\":{\"auth\":\"" + auth + "\"}}}");
        String previous = System.setProperty("user.home", home.toString());
        try {
            return CliRun.of(args);
        } finally {
            System.setProperty("user.home", previous);
        }
    }

    @Test
    @Order(4)
    void aReleaseFilePublishesTwoVersionsTimesTwoArchesWithPinnedReferences() throws Exception {
        String repository = SECURE.host() + "/kind/node";
        Path file = releaseFile(repository, List.of(V1, V2));
        Path record = tmp.resolve("release-record.json");
        CliRun run = withLogin("release", file.toString(), "--record", record.toString());
        assertEquals(0, run.exit(), run.err());
        assertFalse((run.out() + run.err()).contains(PASSWORD), "credentials are never printed");
        Path certs = Files.createDirectories(tmp.resolve("skopeo-certs"));
        Files.copy(SECURE.caCert(), certs.resolve("ca.crt"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        String certDir = certs.toString();
        for (String v : List.of(V1, V2)) {
            String tag = repository + ":" + v;
            byte[] raw = Skopeo.run("inspect", "--cert-dir", certDir, "--creds", USER + ":" + PASSWORD, "--raw", "docker://" + tag);
            JsonNode index = JSON.readTree(raw);
            assertEquals(Set.of("linux/amd64", "linux/arm64"), platforms(index));
            String digest = "sha256:" + dev.kindbuild.support.Sha256.of(raw);
            assertTrue(run.out().contains(tag + "@" + digest + "\n"), "pinned index of " + v + " printed: " + run.out());
            for (JsonNode m : index.path("manifests")) {
                String arch = m.path("platform").path("architecture").asText();
                assertTrue(run.out().contains(tag + "@" + m.path("digest").asText() + " (linux/" + arch + ")"), run.out());
                JsonNode config = JSON.readTree(Skopeo.run("inspect", "--cert-dir", certDir, "--creds", USER + ":" + PASSWORD,
                        "--override-arch", arch, "--config", "--raw", "docker://" + tag));
                assertEquals(arch, config.path("architecture").asText());
                assertTrue(config.path("config").path("Labels").path("dev.kind-build.inputs").asText().contains(v));
            }
        }
        JsonNode rec = JSON.readTree(record.toFile());
        assertEquals(2, rec.path("versions").size());
        for (JsonNode v : rec.path("versions")) {
            assertEquals(2, v.path("arches").size());
            for (JsonNode a : v.path("arches")) {
                assertTrue(a.path("bytes").asLong() > 0);
                assertTrue(a.path("images").size() >= 8);
            }
        }
        // v1.31.2 was built in the first test with the same inputs: the release found it in the store.
        assertTrue(rec.path("versions").path(0).path("arches").path(0).path("reused").asBoolean(), rec.toString());
        assertTrue(run.out().contains("VERSION"), run.out());
    }

    @Test
    @Order(5)
    void aFailedVersionIsNamedAndNothingIsPushed() throws Exception {
        String repository = SECURE.host() + "/kind/failed";
        Path file = releaseFile(repository, List.of(V1, "v1.29.9"));
        CliRun run = withLogin("release", file.toString());
        assertNotEquals(0, run.exit());
        String error = run.err().lines().filter(l -> l.startsWith("ERROR: ")).findFirst().orElse(run.err());
        assertTrue(error.contains("nothing pushed") && error.contains("v1.29.9 amd64") && error.contains("v1.29.9 arm64"), error);
        assertFalse(error.contains("v1.31.2 amd64:"), error);
        Process p = new ProcessBuilder("skopeo", "list-tags", "--cert-dir", tmp.resolve("skopeo-certs").toString(), "--creds",
                USER + ":" + PASSWORD, "docker://" + repository + "").redirectErrorStream(true).start();
        String tags = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(60, TimeUnit.SECONDS);
        assertFalse(tags.contains(V1), "no tag pushed for the release that failed: " + tags);
    }

    @Test
    @Order(6)
    void theMultiArchBaseIsRecordedAndWrittenAsAnOciArchiveANodeBuildTakesWithNoRegistry() throws Exception {
        JsonNode record = JSON.readTree(baseRecord.toFile());
        String indexDigest = record.path("indexDigest").asText();
        assertEquals(base + "@" + indexDigest, record.path("pushed").asText());
        assertEquals(2, record.path("arches").size());
        JsonNode pushedIndex = JSON.readTree(Skopeo.run("inspect", "--raw", "docker://" + base));

        // The same bases (reused, nothing rebuilt) to a file: the same index, both platforms, no push.
        Path archive = tmp.resolve("base-multi.oci.tar");
        CliRun written = CliRun.of(withBase("base-image", "--arch", "amd64,arm64", "--image", base, "--output", archive.toString(),
                "--output-format", "oci", "--json"));
        assertEquals(0, written.exit(), written.err());
        JsonNode result = JSON.readTree(written.out());
        assertEquals(indexDigest, result.path("indexDigest").asText());
        assertFalse(result.has("pushed"), written.out());
        JsonNode archived = JSON.readTree(Skopeo.run("inspect", "--raw", "oci-archive:" + archive));
        assertEquals(pushedIndex, archived, "the archive holds the index the registry has");
        for (String arch : ARCHES) {
            JsonNode config = JSON.readTree(Skopeo.run("inspect", "--override-arch", arch, "--config", "--raw", "oci-archive:" + archive));
            assertEquals(arch, config.path("architecture").asText());
        }

        // A node build takes that archive as its multi-arch base, with no registry for the base.
        Path nodeArchive = tmp.resolve("node-from-base-archive.oci.tar");
        List<String> args = new ArrayList<>(List.of("node-image", V1, "--arch", "amd64,arm64", "--base-image", "oci-archive:" + archive,
                "--image", "kind-build-test/node:from-archive", "--output", nodeArchive.toString(), "--output-format", "oci",
                "--k8s-release-url", env.releaseUrl().toString()));
        args.addAll(mirrors());
        CliRun node = CliRun.of(args.toArray(String[]::new));
        assertEquals(0, node.exit(), node.err());
        assertEquals(Set.of("linux/amd64", "linux/arm64"), platforms(JSON.readTree(Skopeo.run("inspect", "--raw", "oci-archive:" + nodeArchive))));

        // A docker-archive cannot hold both: one line, nothing built or written.
        Path never = tmp.resolve("base-never.tar");
        CliRun refused = CliRun.of("base-image", "--arch", "amd64,arm64", "--image", base, "--output", never.toString());
        assertEquals(1, refused.exit());
        assertTrue(refused.err().contains("a docker-archive holds one image per tag, not 2 architectures"), refused.err());
        assertFalse(Files.exists(never));
    }

    @Test
    @Order(7)
    void aKubernetesBinaryOfAnotherArchIsRefusedWithOneLine() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("amd64-binaries"));
        for (String bin : List.of("kubeadm", "kubectl")) {
            Files.writeString(dir.resolve(bin), "#!/bin/sh\necho " + V1 + "\n");
        }
        Files.write(dir.resolve("kubelet"), SampleImages.program("amd64", "kubelet"));
        CliRun run = CliRun.of("node-image", dir.toString(), "--type", "dir", "--k8s-version", V1, "--arch", "arm64",
                "--base-image", base, "--output", tmp.resolve("never.tar").toString());
        assertNotEquals(0, run.exit());
        assertTrue(run.err().contains("kubelet of Kubernetes") && run.err().contains("is amd64, but this node image is for arm64"), run.err());
        assertFalse(Files.exists(tmp.resolve("never.tar")));
    }

    private static String[] withBase(String... args) {
        String[] all = java.util.Arrays.copyOf(args, args.length + EMULATION_BOOTABLE_BASE.length);
        System.arraycopy(EMULATION_BOOTABLE_BASE, 0, all, args.length, EMULATION_BOOTABLE_BASE.length);
        return all;
    }
}
