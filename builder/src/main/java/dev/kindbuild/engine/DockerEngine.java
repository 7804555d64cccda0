package dev.kindbuild.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.command.BuildImageResultCallback;
import com.github.dockerjava.api.command.CreateContainerCmd;
import com.github.dockerjava.api.command.InspectImageResponse;
import com.github.dockerjava.api.command.PullImageResultCallback;
import com.github.dockerjava.api.exception.DockerException;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.BuildResponseItem;
import com.github.dockerjava.api.model.Capability;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.api.model.Device;
import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.Image;
import com.github.dockerjava.api.model.Info;
import com.github.dockerjava.api.model.StreamType;
import com.github.dockerjava.api.model.Volume;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.transport.DockerHttpClient;
import com.github.dockerjava.zerodep.ZerodepDockerHttpClient;
import dev.kindbuild.UserError;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The one place kind-build talks to a Docker engine. Wraps docker-java and, where docker-java 3.7.1 is broken or
 * lacks a parameter (image import, commit with changes), sends the engine API request directly.
 */
public final class DockerEngine implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String host;
    private final DockerHttpClient http;
    private final DockerClient client;
    private final DefaultDockerClientConfig config;

    private DockerEngine(String host, DockerHttpClient http, DockerClient client, DefaultDockerClientConfig config) {
        this.host = host;
        this.http = http;
        this.client = client;
        this.config = config;
    }

    /** Connects to DOCKER_HOST (default the local socket) and checks the engine answers. */
    public static DockerEngine connect() {
        DefaultDockerClientConfig config = DefaultDockerClientConfig.createDefaultConfigBuilder().build();
        String host = config.getDockerHost().toString();
        DockerHttpClient http = new ZerodepDockerHttpClient.Builder()
                .dockerHost(config.getDockerHost())
                .sslConfig(config.getSSLConfig())
                .connectionTimeout(Duration.ofSeconds(5))
                .build();
        DockerEngine engine = new DockerEngine(host, http, DockerClientImpl.getInstance(config, http), config);
        try {
            engine.client.pingCmd().exec();
        } catch (RuntimeException e) {
            engine.close();
            throw new UserError("cannot reach a Docker engine at " + host + " (" + rootMessage(e)
                    + "): start one with scripts/start-engine, or set DOCKER_HOST to a running engine");
        }
        return engine;
    }

    /** The engine at DOCKER_HOST if one answers; empty (not an error) when none does. */
    public static Optional<DockerEngine> tryConnect() {
        try {
            return Optional.of(connect());
        } catch (UserError e) {
            return Optional.empty();
        }
    }

    /** Where DOCKER_HOST (or the default) points, for messages. */
    public static String configuredHost() {
        return DefaultDockerClientConfig.createDefaultConfigBuilder().build().getDockerHost().toString();
    }

    public String host() {
        return host;
    }

    /** Engine facts the tool decides on. */
    public record EngineFacts(String serverVersion, String architecture, int cgroupVersion, String os) {}

    public EngineFacts facts() {
        Info info = client.infoCmd().exec();
        Object cgroup = info.getRawValues().get("CgroupVersion");
        int cgroupVersion = cgroup == null ? 1 : Integer.parseInt(cgroup.toString());
        return new EngineFacts(info.getServerVersion(), normalizeArch(info.getArchitecture()), cgroupVersion,
                info.getOperatingSystem());
    }

    /** Maps kernel machine names (x86_64, aarch64) to Go/OCI architecture names. */
    public static String normalizeArch(String machine) {
        if (machine == null) {
            return "amd64";
        }
        return switch (machine) {
            case "x86_64", "amd64" -> "amd64";
            case "aarch64", "arm64" -> "arm64";
            default -> machine;
        };
    }

    // ---- images ----

    public Optional<ImageInfo> inspectImage(String ref) {
        try {
            InspectImageResponse r = client.inspectImageCmd(ref).exec();
            var config = r.getConfig();
            String stopSignal = null;
            List<String> entrypoint = null;
            List<String> env = null;
            Map<String, String> labels = null;
            if (config != null) {
                entrypoint = config.getEntrypoint() == null ? null : List.of(config.getEntrypoint());
                env = config.getEnv() == null ? null : List.of(config.getEnv());
                labels = config.getLabels();
                // docker-java's ContainerConfig has no stop signal; read it from the raw inspect document.
                stopSignal = rawImageField(ref, "StopSignal");
            }
            return Optional.of(new ImageInfo(r.getId(), r.getRepoTags(), r.getArch(), entrypoint, env, stopSignal,
                    labels, r.getSize() == null ? 0 : r.getSize()));
        } catch (NotFoundException e) {
            return Optional.empty();
        } catch (com.github.dockerjava.api.exception.BadRequestException e) {
            throw new UserError("the engine refuses the image reference \"" + ref + "\": " + rootMessage(e), e);
        }
    }

    private String rawImageField(String ref, String field) {
        JsonNode doc = requestJson("GET", "/images/" + encodePath(ref) + "/json", null, null);
        JsonNode value = doc.path("Config").path(field);
        return value.isMissingNode() || value.isNull() ? null : value.asText();
    }

    /** Image IDs carrying label {@code key=value}. */
    public List<String> imagesWithLabel(String key, String value) {
        List<String> ids = new ArrayList<>();
        for (Image image : client.listImagesCmd().withLabelFilter(Map.of(key, value)).exec()) {
            ids.add(image.getId());
        }
        return ids;
    }

    /**
     * Removes untagged images carrying kind-build's image label (any kind) created at or after {@code since} (epoch
     * seconds): what a multi-stage build leaves of its earlier stages, which carry the label of the image they start
     * FROM. Their untagged parents go with them.
     */
    public int removeDanglingSince(long since) {
        int removed = 0;
        List<Image> dangling = client.listImagesCmd().withDanglingFilter(true).withLabelFilter(Labels.IMAGE_KIND).exec();
        for (Image image : dangling) {
            if (image.getCreated() != null && image.getCreated() >= since) {
                if (removeUnusedImage(image.getId())) {
                    removed++;
                }
            }
        }
        return removed;
    }

    /** Removes an image unless a container or another image still uses it; returns whether it went. */
    public boolean removeUnusedImage(String id) {
        try {
            client.removeImageCmd(id).exec();
            return true;
        } catch (DockerException inUse) {
            return false; // still in use: not ours to force
        }
    }

    /** IDs of untagged images that nothing builds on (dangling). */
    public List<String> danglingImages() {
        return client.listImagesCmd().withDanglingFilter(true).exec().stream().map(Image::getId).toList();
    }

    public void tag(String imageId, String repoTag) {
        ImageName name = ImageName.parse(repoTag);
        client.tagImageCmd(imageId, name.repository(), name.tag()).withForce(true).exec();
    }

    public void removeImage(String ref) {
        try {
            client.removeImageCmd(ref).withForce(true).exec();
        } catch (NotFoundException ignored) {
            // already gone
        }
    }

    /**
     * Tries to pull {@code ref} for {@code platform} (e.g. linux/amd64). Returns false, with the reason sent to
     * {@code why}, when the engine cannot: offline, unknown name, no such platform.
     */
    public boolean tryPull(String ref, String platform, Duration timeout, Consumer<String> why) {
        ImageName name = ImageName.parse(ref);
        try {
            boolean done = client.pullImageCmd(name.repository()).withTag(name.tag()).withPlatform(platform)
                    .exec(new PullImageResultCallback())
                    .awaitCompletion(timeout.toSeconds(), TimeUnit.SECONDS);
            if (!done) {
                why.accept("pull of " + ref + " timed out after " + timeout.toSeconds() + "s");
            }
            return done && inspectImage(ref).isPresent();
        } catch (DockerException | com.github.dockerjava.api.exception.DockerClientException e) {
            // DockerClientException: the engine reported the failure inside the pull stream (its network, the name).
            why.accept(rootMessage(e));
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UserError("interrupted while pulling " + ref);
        }
    }

    /** Imports a root filesystem tarball as an image (docker import); returns the image ID. */
    public String importRootfs(InputStream rootfsTar, String repoTag, List<String> changes) {
        ImageName name = ImageName.parse(repoTag);
        StringBuilder path = new StringBuilder("/images/create?fromSrc=-&repo=").append(encode(name.repository()))
                .append("&tag=").append(encode(name.tag()));
        for (String change : changes) {
            path.append("&changes=").append(encode(change));
        }
        // docker-java 3.7.1 JSON-encodes the stream in createImageCmd; send the tar ourselves.
        requestText("POST", path.toString(), "application/x-tar", rootfsTar);
        return inspectImage(repoTag).orElseThrow(() -> new IllegalStateException("import of " + repoTag + " left no image")).id();
    }

    /**
     * Builds an image from a context tarball (the legacy builder). Output lines go to {@code log}.
     * {@code noCache} rebuilds every step (fresh packages). Returns the image ID; a failure becomes one line.
     */
    public String build(InputStream contextTar, Map<String, String> buildArgs, Map<String, String> labels,
            String repoTag, boolean noCache, Consumer<String> log) {
        return build(contextTar, buildArgs, labels, repoTag, noCache, Optional.empty(), log);
    }

    /** As above, for {@code platform} (e.g. linux/arm64: the RUN steps then need binfmt emulation on another host). */
    public String build(InputStream contextTar, Map<String, String> buildArgs, Map<String, String> labels,
            String repoTag, boolean noCache, Optional<String> platform, Consumer<String> log) {
        var cmd = client.buildImageCmd(contextTar).withTags(java.util.Set.of(repoTag)).withLabels(labels)
                .withRemove(true).withForcerm(true).withPull(false).withNoCache(noCache);
        platform.ifPresent(cmd::withPlatform);
        buildArgs.forEach(cmd::withBuildArg);
        StringBuilder lastLines = new StringBuilder();
        BuildImageResultCallback callback = new BuildImageResultCallback() {
            @Override
            public void onNext(BuildResponseItem item) {
                if (item.getStream() != null) {
                    for (String line : item.getStream().split("\n")) {
                        if (!line.isBlank()) {
                            log.accept(line.stripTrailing());
                            if (lastLines.length() > 4000) {
                                lastLines.delete(0, lastLines.length() - 2000);
                            }
                            lastLines.append(line.strip()).append('\n');
                        }
                    }
                }
                super.onNext(item);
            }
        };
        try {
            cmd.exec(callback).awaitImageId();
            return inspectImage(repoTag).orElseThrow(() -> new IllegalStateException("build left no image " + repoTag)).id();
        } catch (DockerException | com.github.dockerjava.api.exception.DockerClientException e) {
            // DockerClientException: the engine reported the failure inside the build stream (a failed RUN, the
            // engine's own network error while fetching): the user's environment, not a kind-build bug.
            String tail = lastLines.toString().strip();
            String lastLine = tail.isEmpty() ? "" : tail.substring(tail.lastIndexOf('\n') + 1);
            throw new UserError("image build failed: " + rootMessage(e)
                    + (lastLine.isEmpty() ? "" : " (last output: " + lastLine + ")") + "; run with -v for the full log");
        }
    }

    /**
     * Whether the engine would talk plain HTTP to {@code registry} (its insecure-registries setting, which includes
     * 127.0.0.0/8 by default). The engine's push keeps the image exactly as built (stop signal included).
     */
    public boolean engineTreatsAsInsecure(String registry) {
        JsonNode info = requestJson("GET", "/info", null, null);
        JsonNode index = info.path("RegistryConfig").path("IndexConfigs").path(registry);
        if (!index.isMissingNode()) {
            return !index.path("Secure").asBoolean(true);
        }
        String hostOnly = registry.replaceFirst(":\\d+$", "");
        for (JsonNode cidr : info.path("RegistryConfig").path("InsecureRegistryCIDRs")) {
            if (cidr.asText().equals("127.0.0.0/8") && (hostOnly.startsWith("127.") || hostOnly.equals("localhost"))) {
                return true;
            }
        }
        return false;
    }

    /** Pushes {@code ref} with the engine, credentials from the Docker config; returns the pushed manifest digest. */
    public String push(String ref, Consumer<String> log) {
        ImageName name = ImageName.parse(ref);
        StringBuilder digest = new StringBuilder();
        StringBuilder error = new StringBuilder();
        try {
            client.pushImageCmd(name.repository()).withTag(name.tag())
                    .withAuthConfig(config.effectiveAuthConfig(ref))
                    .exec(new ResultCallback.Adapter<com.github.dockerjava.api.model.PushResponseItem>() {
                        @Override
                        public void onNext(com.github.dockerjava.api.model.PushResponseItem item) {
                            if (item.getError() != null) {
                                error.append(item.getError());
                            }
                            if (item.getAux() != null && item.getAux().getDigest() != null) {
                                digest.append(item.getAux().getDigest());
                            }
                            if (item.getStatus() != null && item.getProgressDetail() == null) {
                                log.accept((item.getId() == null ? "" : item.getId() + ": ") + item.getStatus());
                            }
                        }
                    }).awaitCompletion(30, TimeUnit.MINUTES);
        } catch (DockerException e) {
            throw new UserError("push of " + ref + " failed: " + rootMessage(e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UserError("interrupted while pushing " + ref);
        }
        if (error.length() > 0 || digest.length() == 0) {
            throw new UserError("push of " + ref + " failed: " + (error.length() > 0 ? error : "the engine reported no digest"));
        }
        return digest.toString();
    }

    public InputStream save(String ref) {
        return client.saveImageCmd(ref).exec();
    }

    public void load(InputStream dockerArchive) {
        client.loadImageCmd(dockerArchive).exec();
    }

    /** Commits a container as an image, applying Dockerfile-style {@code changes} (ENTRYPOINT, ENV, LABEL…). */
    public String commit(String containerId, String repoTag, List<String> changes) {
        ImageName name = ImageName.parse(repoTag);
        StringBuilder path = new StringBuilder("/commit?container=").append(encode(containerId))
                .append("&repo=").append(encode(name.repository())).append("&tag=").append(encode(name.tag()))
                .append("&pause=true");
        for (String change : changes) {
            path.append("&changes=").append(encode(change));
        }
        // docker-java's commitCmd cannot set the entrypoint or pass changes.
        JsonNode reply = requestJson("POST", path.toString(), "application/json",
                new java.io.ByteArrayInputStream("{}".getBytes(StandardCharsets.UTF_8)));
        return reply.path("Id").asText();
    }

    // ---- containers ----

    /**
     * Creates a container, always marking it as kind-build's with a {@link Labels#CONTAINER} value made for it alone
     * (set here, at create time, never taken from an image); returns its ID.
     */
    public String create(ContainerSpec spec) {
        HostConfig host = HostConfig.newHostConfig()
                .withPrivileged(spec.privileged())
                .withSecurityOpts(spec.securityOpts())
                .withTmpFs(spec.tmpfs().isEmpty() ? null : spec.tmpfs())
                .withInit(false);
        if (!spec.capAdd().isEmpty()) {
            host.withCapAdd(spec.capAdd().stream().map(Capability::valueOf).toArray(Capability[]::new));
        }
        if (!spec.capDrop().isEmpty()) {
            host.withCapDrop(spec.capDrop().stream().map(Capability::valueOf).toArray(Capability[]::new));
        }
        if (!spec.binds().isEmpty()) {
            host.withBinds(spec.binds().stream().map(Bind::parse).toList());
        }
        if (!spec.devices().isEmpty()) {
            host.withDevices(spec.devices().stream().map(d -> new Device("rwm", d, d)).toList());
        }
        if (!spec.deviceCgroupRules().isEmpty()) {
            host.withDeviceCgroupRules(spec.deviceCgroupRules());
        }
        if (spec.cgroupns() != null) {
            host.withCgroupnsMode(spec.cgroupns());
        }
        if (spec.networkMode() != null) {
            host.withNetworkMode(spec.networkMode());
        }
        Map<String, String> labels = new HashMap<>(spec.labels());
        labels.putIfAbsent(Labels.CONTAINER, Labels.newContainerMark());
        labels.putIfAbsent(Labels.PID, Long.toString(ProcessHandle.current().pid()));
        CreateContainerCmd cmd = client.createContainerCmd(spec.image())
                .withName(spec.name())
                .withLabels(labels)
                .withEnv(spec.env())
                .withTty(spec.tty())
                .withHostConfig(host);
        if (!spec.entrypoint().isEmpty()) {
            cmd.withEntrypoint(spec.entrypoint());
        }
        if (!spec.cmd().isEmpty()) {
            cmd.withCmd(spec.cmd());
        }
        if (!spec.volumes().isEmpty()) {
            cmd.withVolumes(spec.volumes().stream().map(Volume::new).toList());
        }
        if (spec.hostname() != null) {
            cmd.withHostName(spec.hostname());
        }
        return cmd.exec().getId();
    }

    public void start(String containerId) {
        client.startContainerCmd(containerId).exec();
    }

    /** Removes a container and its anonymous volumes; a missing container is fine. */
    public void remove(String containerId) {
        try {
            client.removeContainerCmd(containerId).withForce(true).withRemoveVolumes(true).exec();
        } catch (NotFoundException ignored) {
            // already gone
        }
    }

    public boolean isRunning(String containerId) {
        try {
            Boolean running = client.inspectContainerCmd(containerId).exec().getState().getRunning();
            return Boolean.TRUE.equals(running);
        } catch (NotFoundException e) {
            return false;
        }
    }

    /** The container's exit code, or null while it runs. */
    public Long exitCode(String containerId) {
        var state = client.inspectContainerCmd(containerId).exec().getState();
        return Boolean.TRUE.equals(state.getRunning()) ? null : state.getExitCodeLong();
    }

    /** The container's IPv4 address on {@code network}, or empty when it has none there. */
    public Optional<String> containerIp(String containerId, String network) {
        var networks = client.inspectContainerCmd(containerId).exec().getNetworkSettings().getNetworks();
        if (networks == null || !networks.containsKey(network)) {
            return Optional.empty();
        }
        String ip = networks.get(network).getIpAddress();
        return ip == null || ip.isBlank() ? Optional.empty() : Optional.of(ip);
    }

    // ---- networks ----

    /**
     * Creates a bridge network; {@code internal} ones give containers an address but no route out of the host.
     * Always carries kind-build's creation mark ({@link Labels#CONTAINER}); returns its ID.
     */
    public String createNetwork(String name, boolean internal, Map<String, String> labels) {
        Map<String, String> all = new HashMap<>(labels);
        all.putIfAbsent(Labels.CONTAINER, Labels.newContainerMark());
        return client.createNetworkCmd().withName(name).withDriver("bridge").withInternal(internal)
                .withLabels(all).withCheckDuplicate(true).exec().getId();
    }

    /** Removes a network; a missing one is fine. */
    public void removeNetwork(String networkId) {
        try {
            client.removeNetworkCmd(networkId).exec();
        } catch (NotFoundException ignored) {
            // already gone
        }
    }

    /** Network IDs with label {@code key=value}. */
    public List<String> networksWithLabel(String key, String value) {
        return client.listNetworksCmd().withFilter("label", List.of(key + "=" + value)).exec().stream()
                .map(com.github.dockerjava.api.model.Network::getId).toList();
    }

    /** A network as {@code cleanup} sees it. */
    public record NetworkLabels(String id, String name, Map<String, String> labels) {}

    /** Networks carrying the {@link Labels#CONTAINER} key (kind-build's creation mark, see {@link #createNetwork}). */
    public List<NetworkLabels> networksWithMark() {
        return client.listNetworksCmd().withFilter("label", List.of(Labels.CONTAINER)).exec().stream()
                .map(n -> new NetworkLabels(n.getId(), n.getName(), n.getLabels() == null ? Map.of() : n.getLabels()))
                .toList();
    }

    /** Container IDs (running or not) with label {@code key=value}. */
    public List<String> containersWithLabel(String key, String value) {
        List<String> ids = new ArrayList<>();
        for (Container c : client.listContainersCmd().withShowAll(true).withLabelFilter(Map.of(key, value)).exec()) {
            ids.add(c.getId());
        }
        return ids;
    }

    /** A container as {@code cleanup} sees it: its labels, and the labels of the image it was created from. */
    public record ContainerLabels(String id, String name, Map<String, String> labels, Map<String, String> imageLabels) {}

    /**
     * Containers (running or not) carrying the {@link Labels#CONTAINER} key, with their image's labels: a container
     * whose image is gone has empty image labels.
     */
    public List<ContainerLabels> containersWithMark() {
        List<ContainerLabels> found = new ArrayList<>();
        Map<String, Map<String, String>> imageLabels = new HashMap<>();
        for (Container c : client.listContainersCmd().withShowAll(true).withLabelFilter(List.of(Labels.CONTAINER)).exec()) {
            String image = c.getImageId();
            Map<String, String> fromImage = image == null ? Map.of()
                    : imageLabels.computeIfAbsent(image, i -> inspectImage(i).map(ImageInfo::labels).orElse(Map.of()));
            String name = c.getNames() == null || c.getNames().length == 0 ? c.getId() : c.getNames()[0].replaceFirst("^/", "");
            found.add(new ContainerLabels(c.getId(), name, c.getLabels() == null ? Map.of() : c.getLabels(), fromImage));
        }
        return found;
    }

    /** The labels of a container (empty when it is gone). */
    public Map<String, String> containerLabels(String containerId) {
        try {
            Map<String, String> labels = client.inspectContainerCmd(containerId).exec().getConfig().getLabels();
            return labels == null ? Map.of() : labels;
        } catch (NotFoundException e) {
            return Map.of();
        }
    }

    /** The container's log so far (stdout and stderr together). */
    public String logs(String containerId) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            client.logContainerCmd(containerId).withStdOut(true).withStdErr(true).withTailAll()
                    .exec(new ResultCallback.Adapter<Frame>() {
                        @Override
                        public void onNext(Frame frame) {
                            out.writeBytes(frame.getPayload());
                        }
                    }).awaitCompletion(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    /** Runs a command in a running container and collects its output. */
    public ExecResult exec(String containerId, List<String> command) {
        return exec(containerId, command, null, Duration.ofMinutes(10));
    }

    /**
     * Runs a command with {@code stdin} fed to it (may be null) as root, within {@code timeout}. Not privileged:
     * engines that refuse --privileged refuse privileged execs too, and the container's own capabilities suffice.
     */
    public ExecResult exec(String containerId, List<String> command, InputStream stdin, Duration timeout) {
        String execId = client.execCreateCmd(containerId)
                .withCmd(command.toArray(String[]::new))
                .withAttachStdout(true).withAttachStderr(true).withAttachStdin(stdin != null)
                .withUser("root")
                .exec().getId();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        var start = client.execStartCmd(execId).withDetach(false);
        if (stdin != null) {
            start.withStdIn(stdin);
        }
        try {
            boolean finished = start.exec(new ResultCallback.Adapter<Frame>() {
                @Override
                public void onNext(Frame frame) {
                    (frame.getStreamType() == StreamType.STDERR ? err : out).writeBytes(frame.getPayload());
                }
            }).awaitCompletion(timeout.toSeconds(), TimeUnit.SECONDS);
            if (!finished) {
                throw new UserError("command timed out after " + timeout.toSeconds() + "s in container: " + String.join(" ", command));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UserError("interrupted while running: " + String.join(" ", command));
        }
        Long code = client.inspectExecCmd(execId).exec().getExitCodeLong();
        return new ExecResult(code == null ? -1 : code.intValue(), out.toString(StandardCharsets.UTF_8),
                err.toString(StandardCharsets.UTF_8));
    }

    /**
     * Starts a command with {@code stdin} streamed to it and its stdout streamed to {@code stdout} as it comes (stderr
     * goes to {@code stderr}), without waiting for it: a byte pipe into the container (e.g. socat to a Unix socket).
     * Closing the returned handle ends the attachment; the engine then closes the command's stdin.
     */
    public Pipe execPipe(String containerId, List<String> command, InputStream stdin,
            java.io.OutputStream stdout, Consumer<String> stderr) {
        String execId = client.execCreateCmd(containerId)
                .withCmd(command.toArray(String[]::new))
                .withAttachStdout(true).withAttachStderr(true).withAttachStdin(true)
                .withUser("root")
                .exec().getId();
        ResultCallback.Adapter<Frame> attached = client.execStartCmd(execId).withDetach(false).withStdIn(stdin).exec(new ResultCallback.Adapter<Frame>() {
            @Override
            public void onNext(Frame frame) {
                if (frame.getStreamType() == StreamType.STDERR) {
                    stderr.accept(new String(frame.getPayload(), StandardCharsets.UTF_8));
                    return;
                }
                try {
                    stdout.write(frame.getPayload());
                    stdout.flush();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        });
        return new Pipe() {
            @Override
            public void awaitEnd() throws InterruptedException {
                attached.awaitCompletion();
            }

            @Override
            public void close() {
                try {
                    attached.close();
                } catch (IOException e) {
                    // already closed by the engine: nothing left to release
                }
            }
        };
    }

    /** A running {@link #execPipe}: wait for the command to end, or close the attachment. */
    public interface Pipe extends AutoCloseable {
        void awaitEnd() throws InterruptedException;

        @Override
        void close();
    }

    /** Runs a command and fails with its last error line when it exits non-zero; returns stdout. */
    public String execOk(String containerId, List<String> command) {
        ExecResult r = exec(containerId, command);
        if (!r.ok()) {
            throw new IllegalStateException("`" + String.join(" ", command) + "` exited " + r.exitCode() + ": " + r.lastErrorLine());
        }
        return r.stdout();
    }

    /** Extracts a tar stream into the container at {@code path} (which must exist and must not be a tmpfs). */
    public void copyIn(String containerId, InputStream tar, String path) {
        client.copyArchiveToContainerCmd(containerId).withTarInputStream(tar).withRemotePath(path)
                .withNoOverwriteDirNonDir(false).exec();
    }

    /**
     * Places files in the container (parents created, root-owned, modes as given). Existing directories keep their
     * modes. Not for tmpfs mounts: the engine silently drops files copied there.
     */
    public void copyFiles(String containerId, List<ContainerFile> files) {
        java.util.concurrent.atomic.AtomicReference<IOException> failure = new java.util.concurrent.atomic.AtomicReference<>();
        try (InputStream tar = ContainerFileTar.stream(files, failure)) {
            copyIn(containerId, tar, "/");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (failure.get() != null) {
            throw new UncheckedIOException("copying files into the container failed", failure.get());
        }
    }

    /** A tar stream of {@code path} in the container; the caller closes it. */
    public InputStream copyOut(String containerId, String path) {
        return client.copyArchiveFromContainerCmd(containerId, path).exec();
    }

    @Override
    public void close() {
        try {
            client.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---- raw engine API ----

    private JsonNode requestJson(String method, String path, String contentType, InputStream body) {
        String text = requestText(method, path, contentType, body);
        try {
            return text.isBlank() ? JSON.createObjectNode() : JSON.readTree(text);
        } catch (IOException e) {
            throw new UncheckedIOException("engine sent invalid JSON for " + path, e);
        }
    }

    private String requestText(String method, String path, String contentType, InputStream body) {
        var builder = DockerHttpClient.Request.builder()
                .method(DockerHttpClient.Request.Method.valueOf(method))
                .path(path);
        if (contentType != null) {
            builder.putHeader("Content-Type", contentType);
        }
        if (body != null) {
            builder.body(body);
        }
        try (DockerHttpClient.Response response = http.execute(builder.build())) {
            String text = new String(response.getBody().readAllBytes(), StandardCharsets.UTF_8);
            if (response.getStatusCode() >= 300) {
                throw new IllegalStateException("engine answered " + response.getStatusCode() + " to " + method + " "
                        + path.replaceAll("\\?.*", "") + ": " + errorMessage(text));
            }
            // Streaming endpoints (import) report failures inside a 200 reply.
            int err = text.indexOf("\"error\"");
            if (err >= 0) {
                throw new IllegalStateException("engine failed " + method + " " + path.replaceAll("\\?.*", "") + ": " + errorMessage(text.substring(text.lastIndexOf('{', err))));
            }
            return text;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String errorMessage(String text) {
        try {
            JsonNode node = JSON.readTree(text);
            if (node.hasNonNull("message")) {
                return node.get("message").asText();
            }
            if (node.hasNonNull("error")) {
                return node.get("error").asText();
            }
        } catch (IOException notJson) {
            // fall through to the raw text
        }
        return text.strip();
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static String encodePath(String ref) {
        return encode(ref).replace("%2F", "/").replace("%3A", ":");
    }

    /** The innermost message of an exception chain, for one-line errors. */
    public static String rootMessage(Throwable t) {
        Throwable cur = t;
        while (cur.getCause() != null && cur.getCause() != cur) {
            cur = cur.getCause();
        }
        String msg = cur.getMessage() == null ? cur.getClass().getSimpleName() : cur.getMessage();
        // docker-java reports engine errors as "Status 500: {"message":"…"}"; keep just the message.
        int brace = msg.indexOf('{');
        if (msg.startsWith("Status ") && brace > 0) {
            msg = errorMessage(msg.substring(brace));
        }
        return msg.strip().replace('\n', ' ');
    }
}
