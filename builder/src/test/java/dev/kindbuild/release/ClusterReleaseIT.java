package dev.kindbuild.release;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.engine.ExecResult;
import dev.kindbuild.image.registry.RegistryAccess;
import dev.kindbuild.image.registry.RegistryMirrors;
import dev.kindbuild.kube.KubernetesSource;
import dev.kindbuild.node.NodeImageRequest;
import dev.kindbuild.node.NodeImageResult;
import dev.kindbuild.sample.SampleEnvironment;
import dev.kindbuild.sample.SampleSize;
import dev.kindbuild.testing.CliRun;
import dev.kindbuild.testing.DockerBuilds;
import dev.kindbuild.testing.ItTeardown;
import dev.kindbuild.testing.KeptImages;
import dev.kindbuild.testing.Leaks;
import dev.kindbuild.testing.LocalRegistry;
import dev.kindbuild.testing.ProcessRun;
import dev.kindbuild.testing.RealKubernetes;
import dev.kindbuild.testing.RecordingProgress;
import dev.kindbuild.testing.Skopeo;
import dev.kindbuild.testing.TestCache;
import dev.kindbuild.testing.TestEmulation;
import dev.kindbuild.testing.TestEngine;
import dev.kindbuild.verify.ClusterReport;
import dev.kindbuild.verify.ClusterVerifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A release farm on a real cluster made from kind-build's own node image: a real v1.20.2 node with kind-build's image
 * baked in (add-image: nothing is pulled at run time), a registry and a release server as hosts on the cluster's
 * network, `release --plan kubernetes` applied as printed — 2 versions × 2 arches over 2 shard Jobs and a finalize
 * Job. One shard's pod is deleted half-way: its Job's next pod finishes the shard and no blob is uploaded twice. What
 * the cluster publishes equals, byte for byte, a single-machine release of the same file. A shard that fails (a
 * version that does not exist) leaves finalize refusing, the version named, no tag moved.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClusterReleaseIT {
    /** The real cluster's own images (pause, etcd, the stand-in CNI). */
    @RegisterExtension
    static final LocalRegistry CLUSTER_IMAGES = new LocalRegistry();
    /** The release's registry: its storage is also served, from a container on the cluster's network, to the pods. */
    @RegisterExtension
    static final LocalRegistry FARM = new LocalRegistry();

    private static final ObjectMapper JSON = new ObjectMapper();
        private static final String PREFIX = "kind-build-test/farm:" + Leaks.PID + "-";
    private static final String SELF = "kind-build-test/farm-self:" + Leaks.PID;
    private static final String V1 = "v1.31.2";
    private static final String V2 = "v1.30.6";
    private static final String MISSING = "v1.29.99";
    /** The access log's line for a blob upload's last request, which names the blob. */
    private static final Pattern BLOB_PUT = Pattern.compile("\"PUT /v2/(\\S+?)/blobs/uploads/\\S*?[?&]digest=sha256(?:%3A|:)([0-9a-f]{64})");

    private DockerEngine engine;
    private TestCache cache;
    private SampleEnvironment env;
    private Path tmp;
    private String node;
    private String base;
    private final List<String> engineTags = new ArrayList<>();

    @BeforeAll
    void setUp() throws Exception {
        engine = TestEngine.connect();
        TestEmulation.requireArm64();
        // The node first, with the user's cache (the real source build is compiled once and kept there).
        RealKubernetes real = RealKubernetes.fetch();
        real.pushClusterImages(CLUSTER_IMAGES.host());
        String plain = PREFIX + "node";
        engineTags.add(plain);
        RegistryMirrors mirrors = RegistryMirrors.parse(List.of("k8s.gcr.io=" + CLUSTER_IMAGES.host(),
                "registry.k8s.io=" + CLUSTER_IMAGES.host(), "docker.io=" + CLUSTER_IMAGES.host()));
        NodeImageResult built = DockerBuilds.run(engine, new RecordingProgress(), new NodeImageRequest(
                new KubernetesSource.SourceTree(real.tree()), Optional.of(plain), Optional.empty(), engine.facts().architecture(), mirrors,
                RegistryAccess.defaults(), List.of(), false, false, Optional.empty(), Optional.of(RealKubernetes.VERSION),
                Optional.of(real.goRoot())));
        assertEquals(RealKubernetes.VERSION, built.version());

        cache = TestCache.create();
        tmp = Files.createTempDirectory("kind-build-it-farm-");
        Path self = tmp.resolve("self.tar");
        engineTags.add(SELF);
        CliRun image = CliRun.of("self-image", "--jar", ProcessRun.JAR.toString(), "--image", SELF, "--output", self.toString());
        assertEquals(0, image.exit(), image.err());
        // In the engine too: the registry and the release server of the farm run in it.
        try (java.io.InputStream in = Files.newInputStream(self)) {
            engine.load(in);
        }
        node = PREFIX + "node-with-kind-build";
        engineTags.add(node);
        CliRun added = CliRun.of("add-image", plain, "--from-archive", self.toString(), "--image", node);
        assertEquals(0, added.exit(), added.err());

        // A base for both arches (arm64's made under emulation), the sample releases and their images.
        base = FARM.host() + "/kind-build-test/base:farm";
        List.of("amd64", "arm64").forEach(a -> engineTags.add(base + "-" + a));
        CliRun baseBuilt = CliRun.of("base-image", "--arch", "amd64,arm64", "--debian-suite", "bookworm", "--containerd", "1.6",
                "--image", base, "--push");
        assertEquals(0, baseBuilt.exit(), baseBuilt.err());
        // MultiArchReleaseIT builds the same base: kept, it is reused there instead of made again under emulation.
        List.of("amd64", "arm64").forEach(a -> KeptImages.keep(engine, base + "-" + a));
        env = SampleEnvironment.start(List.of(V1, V2), List.of("amd64", "arm64"), 0, FARM.host(), SampleSize.STAND_IN, new RecordingProgress());
    }

    @AfterAll
    void tearDown() {
        ItTeardown.run(engine, engineTags, env, cache, tmp);
    }

    @Test
    void theClusterPublishesWhatOneMachineWouldAndSurvivesALostPod() throws Exception {
        ClusterReport report = new ClusterVerifier(engine, new RecordingProgress(), true).run(node, Optional.of(this::farm));
        assertTrue(report.passed(), report.checks().stream().map(c -> (c.ok() ? "ok " : "FAIL ") + c.name() + ": " + c.detail())
                .collect(Collectors.joining("\n")));
    }

    /** The hosts of the farm on the cluster's network, then the release through the cluster. */
    private void farm(ClusterVerifier.RunningCluster cluster) throws Exception {
        List<String> containers = new ArrayList<>();
        try {
            String registry = startHost(containers, cluster.network(), "registry", List.of("--user", "0",
                    "-v", "/usr/bin/docker-registry:/usr/bin/docker-registry:ro",
                    "-v", FARM.storageDir() + ":/var/lib/registry",
                    "-v", registryConfig() + ":/etc/registry.yml:ro",
                    "--entrypoint", "/usr/bin/docker-registry"), "serve", "/etc/registry.yml") + ":5000";
            String releases = "http://" + startHost(containers, cluster.network(), "releases", List.of("--user", "0",
                    "-v", env.releaseDir() + ":/releases:ro", "--entrypoint", "java"),
                    "-m", "jdk.httpserver", "-b", "0.0.0.0", "-p", "8080", "-d", "/releases") + ":8080";
            awaitHttp("http://" + registry + "/v2/");
            awaitHttp(releases + "/");

            publishThroughTheCluster(cluster, registry, releases, containers.get(0));
            aFailedShardBlocksFinalize(cluster, registry, releases);
        } finally {
            for (String c : containers) {
                engine.remove(c);
            }
        }
    }

    private void publishThroughTheCluster(ClusterVerifier.RunningCluster cluster, String registry, String releases, String registryContainer)
            throws Exception {
        String repository = registry + "/kind-build-test/farm";
        Path file = releaseFile("farm", repository, registry, releases, List.of(V1, V2));
        CliRun plan = CliRun.of("release", file.toString(), "--plan", "kubernetes", "--shards", "2", "--kind-build-image", SELF);
        assertEquals(0, plan.exit(), plan.err());
        String name = "release-" + ReleaseFile.read(file).inputsDigest().substring(0, 8);

        long start = System.nanoTime();
        ok(cluster.kubectlOnFile(plan.out(), "apply"));
        // Half-way: once shard 1 has staged its first image (it builds one at a time: jobs 1), its pod is deleted.
        String lost = awaitLog(cluster, name + "-shard-1", "staged " + V1 + " amd64", Duration.ofMinutes(6));
        ok(cluster.kubectl("delete", lost, "--wait=false"));
        Map<String, Long> peak = new HashMap<>();
        awaitJobs(cluster, List.of(name + "-shard-1", name + "-shard-2", name + "-finalize"), Duration.ofMinutes(12), peak);
        double clusterSeconds = (System.nanoTime() - start) / 1e9;

        // The deleted pod did not finish the shard (it is gone, or ended by the signal); a pod the Job made after it did.
        String pods = ok(cluster.kubectl("get", "pods", "-l", "job-name=" + name + "-shard-1", "-o",
                "jsonpath={range .items[*]}pod/{.metadata.name}={.status.phase}{\"\\n\"}{end}"));
        assertFalse(pods.contains(lost + "=Succeeded"), "the deleted pod did not finish: " + pods);
        assertEquals(1, pods.lines().filter(l -> l.endsWith("=Succeeded") && !l.startsWith(lost + "=")).count(),
                "a pod made after it finished the shard: " + pods);
        String finalized = ok(cluster.kubectl("logs", "-l", "job-name=" + name + "-finalize", "--tail=-1"));
        for (String v : List.of(V1, V2)) {
            assertTrue(finalized.contains(repository + ":" + v + "@sha256:"), "finalize prints the pinned list: " + finalized);
        }
        // Every blob of the release went up once, the lost pod's uploads included: its successor sent only the rest.
        Map<String, Integer> puts = new HashMap<>();
        Matcher m = BLOB_PUT.matcher(engine.logs(registryContainer));
        while (m.find()) {
            if (m.group(1).equals("kind-build-test/farm")) {
                puts.merge(m.group(2), 1, Integer::sum);
            }
        }
        assertFalse(puts.isEmpty(), "the registry's access log shows the uploads");
        assertEquals(Map.of(), puts.entrySet().stream().filter(e -> e.getValue() > 1).collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue)),
                "no blob uploaded twice");

        // The same file from one machine (this host, the same kind-build jar), to another repository.
        String single = registry + "/kind-build-test/farm-single";
        long t0 = System.nanoTime();
        ProcessRun whole = ProcessRun.jar(cache.dir(), "release", releaseFile("single", single, registry, releases, List.of(V1, V2)).toString());
        double singleSeconds = (System.nanoTime() - t0) / 1e9;
        assertEquals(0, whole.exit(), whole.err());
        for (String v : List.of(V1, V2)) {
            byte[] index = Skopeo.run("inspect", "--tls-verify=false", "--raw", "docker://" + repository + ":" + v);
            assertArrayEquals(Skopeo.run("inspect", "--tls-verify=false", "--raw", "docker://" + single + ":" + v), index, v + ": the same index");
            for (JsonNode entry : JSON.readTree(index).path("manifests")) {
                String digest = entry.path("digest").asText();
                assertArrayEquals(Skopeo.run("inspect", "--tls-verify=false", "--raw", "docker://" + single + "@" + digest),
                        Skopeo.run("inspect", "--tls-verify=false", "--raw", "docker://" + repository + "@" + digest), v + " " + digest);
            }
        }
        // What the pods of each shard that remain said they uploaded ("staged … (N blobs, X MB uploaded)").
        StringBuilder uploaded = new StringBuilder();
        for (String shard : List.of(name + "-shard-1", name + "-shard-2")) {
            Matcher mb = Pattern.compile("staged \\S+ \\S+ as \\S+ \\((\\d+) blobs, ([0-9.]+) MB uploaded\\)")
                    .matcher(cluster.kubectl("logs", "-l", "job-name=" + shard, "--tail=-1").stdout());
            double total = 0;
            while (mb.find()) {
                total += Double.parseDouble(mb.group(2));
            }
            uploaded.append(String.format(java.util.Locale.ROOT, "%s %.1f MB; ", shard, total));
        }
        System.out.printf("release farm: 2 versions x 2 arches over 2 shard pods: %.1f s (apply to finalize, one pod lost);"
                + " the same release on this host: %.1f s; blobs uploaded: %d (%s); peak memory of a shard pod: %s%n",
                clusterSeconds, singleSeconds, puts.size(), uploaded.toString().strip(), peak.entrySet().stream()
                        .map(e -> e.getKey() + " " + e.getValue() / (1 << 20) + " MiB").collect(Collectors.joining(", ")));
    }

    private void aFailedShardBlocksFinalize(ClusterVerifier.RunningCluster cluster, String registry, String releases) throws Exception {
        String repository = registry + "/kind-build-test/farm-missing";
        Path file = releaseFile("missing", repository, registry, releases, List.of(V1, MISSING));
        CliRun plan = CliRun.of("release", file.toString(), "--plan", "kubernetes", "--shards", "2", "--kind-build-image", SELF);
        assertEquals(0, plan.exit(), plan.err());
        String name = "release-" + ReleaseFile.read(file).inputsDigest().substring(0, 8);
        try {
            ok(cluster.kubectlOnFile(plan.out(), "apply"));
            // Shard 1 holds V1 amd64 and the missing version's amd64: it stages the first and fails on the second.
            awaitFailedPod(cluster, name + "-shard-1", Duration.ofMinutes(6));
            String failed = ok(cluster.kubectl("logs", "-l", "job-name=" + name + "-shard-1", "--tail=-1"));
            assertTrue(failed.contains("staged " + V1 + " amd64") && failed.contains(MISSING), failed);
            ProcessRun finalize = ProcessRun.jar(cache.dir(), "release", file.toString(), "--finalize");
            assertEquals(1, finalize.exit(), finalize.err());
            assertTrue(finalize.err().contains("not staged: ") && finalize.err().contains(MISSING + " amd64"), finalize.err());
            assertFalse(finalize.err().contains(V1 + " amd64,"), "what shard 1 staged is there: " + finalize.err());
            assertThrows(AssertionError.class, () -> Skopeo.run("inspect", "--tls-verify=false", "--raw", "docker://" + repository + ":" + V1),
                    "no tag moved");
        } finally {
            cluster.kubectlOnFile(plan.out(), "delete", "--wait=false");
        }
    }

    // ---- helpers ---------------------------------------------------------------------------------------------------

    private Path releaseFile(String id, String repository, String registry, String releases, List<String> versions) throws Exception {
        String yaml = "repository: " + repository + "\n"
                + "versions: [" + String.join(", ", versions) + "]\n"
                + "arches: [amd64, arm64]\n"
                + "baseImage: " + registry + "/kind-build-test/base:farm\n"
                + "kubernetesReleaseUrl: " + releases + "\n"
                + "allowInsecureHttp: true\n"
                + "registryMirrors: {registry.k8s.io: \"" + registry + "\", docker.io: \"" + registry + "\"}\n"
                + "insecureRegistries: [\"" + registry + "\"]\n"
                + "jobs: 1\n";
        Path dir = Files.createDirectories(tmp.resolve(id));
        return Files.writeString(dir.resolve("release.yaml"), yaml);
    }

    private Path registryConfig() throws Exception {
        Path config = tmp.resolve("registry.yml");
        Files.writeString(config, String.join("\n", "version: 0.1", "log:", "  level: info", "  accesslog:", "    disabled: false",
                "storage:", "  filesystem:", "    rootdirectory: /var/lib/registry", "  delete:", "    enabled: true",
                "http:", "  addr: 0.0.0.0:5000", ""));
        return config;
    }

    /** A container of kind-build's image on {@code network}, serving; returns its address there. */
    private String startHost(List<String> containers, String network, String role, List<String> options, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("docker", "run", "-d", "--name", "kind-build-test-farm-" + role + "-" + Leaks.PID,
                "--network", network));
        command.addAll(options);
        command.add(SELF);
        command.addAll(List.of(args));
        ProcessRun started = ProcessRun.of(command);
        assertEquals(0, started.exit(), started.err());
        String id = started.out().strip();
        containers.add(id);
        return engine.containerIp(id, network).orElseThrow(() -> new AssertionError(role + " got no address on " + network));
    }

    private static void awaitHttp(String url) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            try {
                java.net.HttpURLConnection c = (java.net.HttpURLConnection) java.net.URI.create(url).toURL().openConnection();
                c.setConnectTimeout(2000);
                if (c.getResponseCode() < 500) {
                    return;
                }
            } catch (java.io.IOException e) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError(url + " does not answer: " + e.getMessage(), e);
                }
            }
            Thread.sleep(500);
        }
    }

    /** The name of a pod of {@code job} once its log holds {@code text}. */
    private static String awaitLog(ClusterVerifier.RunningCluster cluster, String job, String text, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            String pod = cluster.kubectl("get", "pods", "-l", "job-name=" + job, "-o", "name").stdout().strip();
            if (!pod.isEmpty() && !pod.contains("\n") && cluster.kubectl("logs", pod).stdout().contains(text)) {
                return pod;
            }
            Thread.sleep(1000);
        }
        throw new AssertionError(job + ": no pod logged '" + text + "' within " + timeout + ": "
                + cluster.kubectl("describe", "job", job).stdout() + cluster.kubectl("logs", "job/" + job).stdout());
    }

    /** Waits for every job to complete; meanwhile keeps each shard pod's peak memory (its cgroup's, page cache included). */
    private static void awaitJobs(ClusterVerifier.RunningCluster cluster, List<String> jobs, Duration timeout, Map<String, Long> peak)
            throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            String done = cluster.kubectl("get", "jobs", "-o", "jsonpath={range .items[*]}{.metadata.name}={.status.succeeded}{\"\\n\"}{end}")
                    .stdout();
            if (jobs.stream().allMatch(j -> done.lines().anyMatch(l -> l.equals(j + "=1")))) {
                return;
            }
            String uids = cluster.kubectl("get", "pods", "-o",
                    "jsonpath={range .items[*]}{.metadata.labels.job-name} {.metadata.uid}{\"\\n\"}{end}").stdout();
            for (String line : uids.lines().filter(l -> l.contains("-shard-")).toList()) {
                String[] f = line.split(" ");
                // cgroup v1 (this host): the pod's memory cgroup, wherever the node's kubelet put its kubepods.
                ExecResult usage = cluster.engine().exec(cluster.node(), List.of("sh", "-c", "for d in $(find /sys/fs/cgroup/memory -maxdepth 6"
                        + " -type d -name pod" + f[1] + "); do cat $d/memory.max_usage_in_bytes; done 2>/dev/null"));
                usage.stdout().lines().filter(l -> l.matches("\\d+")).map(Long::parseLong).forEach(b -> peak.merge(f[0], b, Math::max));
            }
            Thread.sleep(2000);
        }
        throw new AssertionError("jobs not complete within " + timeout + ": " + cluster.kubectl("get", "jobs,pods", "-o", "wide").stdout()
                + jobs.stream().map(j -> cluster.kubectl("logs", "job/" + j, "--tail=30").stdout()).collect(Collectors.joining("\n")));
    }

    private static void awaitFailedPod(ClusterVerifier.RunningCluster cluster, String job, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            String failed = cluster.kubectl("get", "job", job, "-o", "jsonpath={.status.failed}").stdout().strip();
            if (!failed.isEmpty() && !failed.equals("0")) {
                return;
            }
            Thread.sleep(1000);
        }
        throw new AssertionError(job + " did not fail within " + timeout + ": " + cluster.kubectl("logs", "job/" + job).stdout());
    }

    private static String ok(ExecResult r) {
        assertEquals(0, r.exitCode(), r.stdout() + r.stderr());
        return r.stdout();
    }

}
