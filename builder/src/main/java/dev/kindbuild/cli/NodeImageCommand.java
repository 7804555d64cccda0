package dev.kindbuild.cli;

import dev.kindbuild.UserError;
import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.image.ImageRef;
import dev.kindbuild.image.registry.RegistryAccess;
import dev.kindbuild.image.registry.RegistryMirrors;
import dev.kindbuild.image.archive.ArchiveFormat;
import dev.kindbuild.image.store.ImageStore;
import dev.kindbuild.kube.KubeVersion;
import dev.kindbuild.kube.KubernetesSource;
import dev.kindbuild.support.Urls;
import dev.kindbuild.node.ImageRecord;
import dev.kindbuild.node.NodeImageRequest;
import dev.kindbuild.node.NodeImageResult;
import dev.kindbuild.node.BaseImageSource;
import dev.kindbuild.node.pipeline.NodeBuild;
import dev.kindbuild.progress.Progress;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** `kind-build node-image`: a node image for one Kubernetes version, with every image a cluster needs baked in. */
@Command(name = "node-image", mixinStandardHelpOptions = true,
        description = {"Build a kind node image: Kubernetes binaries in, every image a cluster needs pre-pulled into /kind/images.",
                "SOURCE is a version (v1.31.2), a CI marker (ci/latest), a release tarball URL or file, a directory with kubeadm/kubelet/kubectl, or a Kubernetes source tree."})
final class NodeImageCommand implements Callable<Integer> {

    @Parameters(index = "0", arity = "0..1", paramLabel = "SOURCE", description = "Where Kubernetes comes from (detected like kind).")
    String sourceArg;

    @Option(names = "--k8s-version", paramLabel = "vX.Y.Z", description = {"A released Kubernetes version (same as giving it as SOURCE);",
            "with a source tree or directory SOURCE: its version, when it records none (no git, no version file)."})
    String k8sVersion;

    @Option(names = "--type", paramLabel = "TYPE", description = {"Force the SOURCE type: release, ci, url, file, dir or source.",
            "ci: SOURCE is a version marker (latest, ci/latest-1.36) read from <k8s-release-url>/ci/<marker>.txt; the build is <k8s-release-url>/ci/<version>/."})
    String type;

    @Option(names = "--image", paramLabel = "NAME", description = "Tag for the node image (default: kindest/node:<version>).")
    String image;

    @Option(names = "--base-image", paramLabel = "IMAGE", description = "Base image to build on (default: the bundled base recipe, built or reused).")
    String baseImage;

    @Mixin
    ArchOption arch;

    @Option(names = "--k8s-release-url", paramLabel = "URL", defaultValue = "https://dl.k8s.io",
            description = "Where released versions are downloaded from (default: ${DEFAULT-VALUE}).")
    String releaseUrl;

    @Option(names = "--k8s-sha256", paramLabel = "HEX", description = "SHA-256 of the Kubernetes tarball, when no .sha256 is published beside it.")
    String k8sSha256;

    @Option(names = "--allow-insecure-http", description = "Allow plain-HTTP Kubernetes downloads from non-loopback hosts.")
    boolean allowInsecureHttp;

    @Option(names = "--registry-mirror", paramLabel = "HOST=MIRROR", description = "Pull images of registry HOST from MIRROR (repeatable), e.g. registry.k8s.io=127.0.0.1:5000.")
    List<String> mirrors = new ArrayList<>();

    @Option(names = "--extra-image", paramLabel = "REF", description = "Also bake this image in (repeatable).")
    List<String> extraImages = new ArrayList<>();

    @Option(names = "--go-root", paramLabel = "DIR", description = "The Go to build a source tree with (its GOROOT; default: `go` on PATH).")
    Path goRoot;

    @Option(names = "--no-cache", description = "Ignore cached downloads and images.")
    boolean noCache;

    @Option(names = "--builder", paramLabel = "docker|oci", description = {"docker: a builder container committed as the image (needs an engine);",
            "oci: assembled from kind-build's image store, no engine, reproducible.",
            "Default: docker when an engine answers (and no --output), else oci."})
    String builder;

    @Option(names = "--record", paramLabel = "FILE", description = "Also write the result as JSON to FILE (the build record: inputs, digests, sizes, timings).")
    Path recordFile;

    @Mixin
    ArchiveOutputOptions files;

    @Mixin
    RegistryOptions registry;

    @Mixin
    OutputOptions output;

    /** --k8s-release-url as a URI; a malformed one (a space, no host) is one line naming the option. */
    private URI releaseUrl() {
        try {
            return Urls.parseHttpUrl(releaseUrl);
        } catch (UserError e) {
            throw new UserError("--k8s-release-url: " + e.getMessage() + "; percent-encode spaces as %20");
        }
    }

    @Override
    public Integer call() {
        String given = sourceArg != null ? sourceArg : k8sVersion;
        if (given == null) {
            throw new UserError("say which Kubernetes to build: give a SOURCE (e.g. v1.31.2) or --k8s-version vX.Y.Z");
        }
        arch.validate();
        if (k8sVersion != null) {
            KubeVersion.parse(k8sVersion, "--k8s-version");
        }
        NodeImageRequest.checkNames(Optional.ofNullable(image), extraImages, Optional.ofNullable(k8sSha256));
        Optional<Path> baseArchive = Optional.empty();
        if (baseImage != null && !BaseImageSource.isArchive(baseImage)) {
            ImageRef.check(baseImage, "--base-image");
        } else if (baseImage != null) {
            // a missing archive fails here, before anything connects
            baseArchive = BaseImageSource.parse(Optional.of(baseImage)).archive();
        }
        Optional<String> forcedType = Optional.ofNullable(sourceArg == null ? "release" : type);
        KubernetesSource source = KubernetesSource.detect(given, forcedType, releaseUrl());
        new CommandFiles()
                .reads("--base-image archive", baseArchive.orElse(null))
                .reads("SOURCE tarball", source instanceof KubernetesSource.File f ? f.tarball() : null)
                .reads("--ca-cert", files.caCert)
                .writes("--output", files.outputFile)
                .writes("--record", recordFile)
                .refuseOverwrites();
        if (k8sVersion != null && sourceArg != null && source instanceof KubernetesSource.Release) {
            throw new UserError("give the release version once: as SOURCE or as --k8s-version, not both");
        }
        if (goRoot != null && !(source instanceof KubernetesSource.SourceTree)) {
            throw new UserError("--go-root is for building a source tree; " + source.describe() + " needs no Go: drop --go-root");
        }
        RegistryMirrors parsedMirrors = RegistryMirrors.parse(mirrors);
        RegistryAccess access = RegistryAccess.of(registry.insecureRegistries);
        ArchiveFormat format = files.format();
        if (builder != null && !List.of("docker", "oci").contains(builder)) {
            throw new UserError("--builder " + builder + ": choose docker or oci");
        }
        boolean multiArch = arch.multiple();
        if (multiArch && "docker".equals(builder)) {
            throw new UserError("--arch " + String.join(",", arch.arches()) + " needs --builder oci: the docker builder runs one architecture's builder container");
        }
        if (multiArch && k8sSha256 != null) {
            throw new UserError("--k8s-sha256 names one tarball, but --arch " + String.join(",", arch.arches())
                    + " downloads one per architecture: publish .sha256 files beside them instead");
        }
        if ("docker".equals(builder) && (files.outputFile != null || files.caCert != null)) {
            throw new UserError((files.outputFile != null ? "--output" : "--ca-cert") + " is for --builder oci; the docker builder tags the image in the engine");
        }
        Progress progress = output.progress();
        long start = System.nanoTime();
        Optional<DockerEngine> engine = "docker".equals(builder) ? Optional.of(DockerEngine.connect()) : DockerEngine.tryConnect();
        try {
            boolean oci = "oci".equals(builder) || builder == null && (engine.isEmpty() || files.outputFile != null || multiArch);
            if (oci && builder == null) {
                progress.notice(engine.isEmpty() ? "no Docker engine answers at " + DockerEngine.configuredHost() + ": building with --builder oci"
                        : multiArch ? "--arch " + String.join(",", arch.arches()) + ": building with --builder oci (no emulation)"
                        : "--output given: building with --builder oci");
            }
            String targetArch = arch.resolve(engine);
            NodeImageRequest request = new NodeImageRequest(source, Optional.ofNullable(image), Optional.ofNullable(baseImage),
                    targetArch, parsedMirrors, access, extraImages, noCache, allowInsecureHttp, Optional.ofNullable(k8sSha256),
                    Optional.ofNullable(sourceArg != null ? k8sVersion : null), Optional.ofNullable(goRoot));
            if (multiArch) {
                return multiArch(request, engine, progress, start);
            }
            NodeBuild.Options options = oci
                    ? new NodeBuild.Options(engine, files.output(), format, registry.push, files.trust(), ArchiveOutputOptions.sourceDateEpoch())
                    : NodeBuild.Options.docker(engine.get());
            NodeBuild.Result r = new NodeBuild(ImageStore.defaultLocation(), progress).run(request, options);
            NodeImageResult result = r.node();
            // The docker builder's image is in the engine: its push is the engine's (docker push).
            Optional<String> pushed = oci ? r.pushed().map(p -> p.pinned().toString()) : registry.pushIfAsked(engine.get(), result.image(), progress);
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("builder", oci ? "oci" : "docker");
            r.manifest().ifPresent(m -> json.put("manifestDigest", m));
            json.put("reused", r.reused());
            json.put("outputs", r.delivery().lines());
            json.put("inputs", r.inputs().tree());
            String where = r.delivery().where();
            json.put("image", result.image());
            json.put("imageId", result.imageId());
            json.put("kubernetesVersion", result.version());
            json.put("arch", targetArch);
            json.put("baseImage", result.baseImage());
            json.put("images", imagesJson(result.images()));
            json.put("stepSeconds", result.stepSeconds());
            pushed.ifPresent(d -> json.put("pushed", d));
            json.put("seconds", (System.nanoTime() - start) / 1e9);
            writeRecord(json);
            output.print(json, "Node image ready: " + result.image() + " (Kubernetes " + result.version() + ", "
                    + result.images().size() + " images baked in) in " + where + pushed.map(d -> ", pushed as:\n" + d).orElse(""));
            return 0;
        } finally {
            engine.ifPresent(DockerEngine::close);
        }
    }

    /** One node image per architecture and the index over them; the JSON lists each with its pinned reference. */
    private Integer multiArch(NodeImageRequest request, Optional<DockerEngine> engine, Progress progress, long start) {
        NodeBuild.Options options = new NodeBuild.Options(engine, files.output(), files.format(),
                registry.push, files.trust(), ArchiveOutputOptions.sourceDateEpoch());
        NodeBuild.MultiArchResult r = new NodeBuild(ImageStore.defaultLocation(), progress).runAll(request, arch.arches(), options);
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("builder", "oci");
        json.put("image", r.tag());
        json.put("indexDigest", r.index().digest());
        List<Map<String, Object>> arches = new ArrayList<>();
        List<String> pinned = new ArrayList<>();
        r.pushed().ifPresent(p -> pinned.add(p.pinned().toString()));
        for (NodeBuild.Built b : r.images()) {
            Map<String, Object> a = new LinkedHashMap<>();
            a.put("arch", b.arch());
            a.put("manifestDigest", b.image().manifest().digest());
            a.put("imageId", b.image().config().digest());
            a.put("kubernetesVersion", b.node().version());
            a.put("baseImage", b.node().baseImage());
            a.put("reused", b.reused());
            r.pushed().ifPresent(p -> {
                String ref = p.reference().withDigest(b.image().manifest().digest()).toString();
                a.put("pinned", ref);
                pinned.add(ref + " (linux/" + b.arch() + ")");
            });
            a.put("images", imagesJson(b.node().images()));
            a.put("stepSeconds", b.node().stepSeconds());
            arches.add(a);
        }
        json.put("arches", arches);
        json.put("outputs", r.delivery().lines());
        r.pushed().ifPresent(p -> json.put("pushed", p.pinned().toString()));
        json.put("seconds", (System.nanoTime() - start) / 1e9);
        writeRecord(json);
        NodeBuild.Built first = r.images().get(0);
        output.print(json, "Node image ready: " + r.tag() + " (Kubernetes " + first.node().version() + ", "
                + String.join(" + ", arch.arches()) + ", " + first.node().images().size() + " images baked in each) in "
                + (r.delivery().where())
                + (pinned.isEmpty() ? "" : ", pushed as:\n" + String.join("\n", pinned)));
        return 0;
    }

    private void writeRecord(Map<String, Object> json) {
        if (recordFile != null) {
            OutputOptions.writeJson(recordFile, json);
        }
    }

    /** The records of /kind/images.json as the JSON result lists them. */
    static List<Map<String, Object>> imagesJson(List<ImageRecord> records) {
        List<Map<String, Object>> images = new ArrayList<>();
        for (ImageRecord r : records) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", r.name());
            m.put("digest", r.digest());
            m.put("configDigest", r.configDigest());
            m.put("file", r.file());
            m.put("source", r.source());
            m.put("bytes", r.bytes());
            images.add(m);
        }
        return images;
    }
}
