package dev.kindbuild.cli;

import dev.kindbuild.UserError;
import dev.kindbuild.base.BaseImageBuild;
import dev.kindbuild.base.BaseImageRequest;
import dev.kindbuild.base.BaseImageResult;
import dev.kindbuild.components.ComponentRequest;
import dev.kindbuild.components.InstalledComponent;
import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.image.ImageRef;
import dev.kindbuild.image.registry.RegistryAccess;
import dev.kindbuild.image.archive.ArchiveFormat;
import dev.kindbuild.image.archive.EngineImages;
import dev.kindbuild.image.archive.OciArchiveOutput;
import dev.kindbuild.image.registry.OciIndex;
import dev.kindbuild.image.registry.PushResult;
import dev.kindbuild.image.registry.RegistryClients;
import dev.kindbuild.image.registry.RegistryPush;
import dev.kindbuild.image.store.Descriptor;
import dev.kindbuild.image.store.ImageStore;
import dev.kindbuild.image.store.StoredImage;
import dev.kindbuild.progress.Progress;
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

/** `kind-build base-image`: builds (or reuses) the base image, optionally boot-checks and pushes it. */
@Command(name = "base-image", mixinStandardHelpOptions = true,
        description = "Build the kind base image: Debian with systemd as init, containerd, runc, CNI plugins and the tweaks that make them run in a container.")
final class BaseImageCommand implements Callable<Integer> {

    @Option(names = "--image", paramLabel = "NAME", description = "Tag for the image (default: kindest/base:v<date>-<recipe hash>).")
    String image;

    @Option(names = "--from", paramLabel = "IMAGE", defaultValue = BaseImageRequest.DEFAULT_FROM,
            description = "Debian image to start from (default: ${DEFAULT-VALUE}); bootstrapped with mmdebstrap when it cannot be pulled.")
    String from;

    @Option(names = "--debian-suite", paramLabel = "SUITE",
            description = "Debian suite of the base (default: " + BaseImageRequest.DEFAULT_SUITE + "; e.g. bookworm): short for --from debian:SUITE-slim.")
    String debianSuite;

    @Option(names = "--containerd", paramLabel = "VERSION|URL|FILE",
            description = "containerd to install instead of base-image/components.yaml's (2.3.1): a version (1.7 or 2.1.9), an http(s) URL (its .sha256 beside it) or a release tarball.")
    String containerd;

    @Option(names = "--runc", paramLabel = "VERSION|URL|FILE", description = "runc to install instead of the components file's (a version, URL or binary).")
    String runc;

    @Option(names = "--crictl", paramLabel = "VERSION|URL|FILE", description = "crictl to install instead of the components file's (a version, URL or release tarball).")
    String crictl;

    @Option(names = "--cni-plugins", paramLabel = "VERSION|URL|FILE", description = "CNI plugins to install instead of the components file's (a version, URL or release tarball).")
    String cniPlugins;

    @Mixin
    ArchOption arch;

    @Option(names = "--debian-mirror", paramLabel = "URL",
            description = "Debian mirror for the offline bootstrap (default: the one this machine's apt sources use).")
    String debianMirror = BaseImageRequest.DEFAULT_MIRROR;

    @Option(names = "--force", description = "Rebuild even if an image of the same recipe exists.")
    boolean force;

    @Option(names = "--check", description = "Boot the image as kind boots a node and check systemd and containerd.")
    boolean check;

    @Mixin
    ArchiveOutputOptions files;

    @Option(names = "--record", paramLabel = "FILE", description = "Also write the result as JSON to FILE (the build record: inputs, digests, timings).")
    Path recordFile;

    @Mixin
    RegistryOptions registry;

    @Mixin
    OutputOptions output;

    /** The --containerd, --runc, --crictl, --cni-plugins requests (each checked: a bad one is one line). */
    private Map<String, ComponentRequest> components() {
        Map<String, ComponentRequest> out = new LinkedHashMap<>();
        out.put("containerd", ComponentRequest.parse("containerd", containerd));
        out.put("runc", ComponentRequest.parse("runc", runc));
        out.put("crictl", ComponentRequest.parse("crictl", crictl));
        out.put("cni-plugins", ComponentRequest.parse("cni-plugins", cniPlugins));
        return out;
    }

    /** --debian-suite is --from debian:SUITE-slim; both at once would be ambiguous. */
    private void applySuite() {
        if (debianSuite == null) {
            return;
        }
        if (!debianSuite.matches("[a-z]+")) {
            throw new UserError("invalid --debian-suite '" + debianSuite + "': give a Debian suite name such as trixie or bookworm");
        }
        if (!from.equals(BaseImageRequest.DEFAULT_FROM)) {
            throw new UserError("give --from or --debian-suite, not both (--debian-suite " + debianSuite + " means --from debian:" + debianSuite + "-slim)");
        }
        from = "debian:" + debianSuite + "-slim";
    }

    static List<Map<String, String>> componentsJson(List<InstalledComponent> components) {
        return components.stream().map(c -> {
            Map<String, String> m = new LinkedHashMap<>();
            m.put("name", c.name());
            m.put("version", c.version());
            m.put("source", c.source());
            return m;
        }).toList();
    }

    @Override
    public Integer call() {
        arch.validate();
        applySuite();
        Map<String, ComponentRequest> components = components();
        // References are checked before anything connects: a bad one is one line naming the option, never echoed raw.
        ImageRef.check(from, "--from");
        if (image != null) {
            ImageRef.check(image, "--image");
        }
        new CommandFiles().reads("--ca-cert", files.caCert).writes("--output", files.outputFile).writes("--record", recordFile)
                .refuseOverwrites();
        ArchiveFormat format = files.format();
        Progress progress = output.progress();
        long start = System.nanoTime();
        if (arch.multiple()) {
            return multiArch(format, progress, start, components);
        }
        if (files.caCert != null) {
            throw new UserError("--ca-cert is for multi-arch pushes (kind-build's own); a single-arch base is pushed by the "
                    + "engine, which trusts what /etc/docker/certs.d/HOST:PORT/ca.crt holds");
        }
        try (DockerEngine engine = DockerEngine.connect()) {
            String targetArch = arch.resolve(engine);
            BaseImageRequest request = new BaseImageRequest(Optional.ofNullable(image), from, targetArch, debianMirror, force, check, components);
            BaseImageResult result = new BaseImageBuild(engine, progress).run(request);
            Optional<String> pushed = registry.pushIfAsked(engine, result.image(), progress);
            if (files.output().isPresent()) {
                writeArchive(engine, result.image(), format, files.output().get(), progress);
            }
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("image", result.image());
            json.put("imageId", result.imageId());
            json.put("recipeHash", result.recipeHash());
            json.put("arch", targetArch);
            json.put("reused", result.reused());
            result.from().ifPresent(f -> json.put("from", Map.of("ref", f.ref(), "how", f.how())));
            json.put("components", componentsJson(result.components()));
            result.bootCheck().ifPresent(m -> json.put("bootCheck", Map.of("passed", true, "nodeMode", m.name().toLowerCase())));
            pushed.ifPresent(d -> json.put("pushedDigest", d));
            files.output().ifPresent(f -> json.put("output", Map.of("file", f.toString(), "format", format.name().toLowerCase())));
            json.put("seconds", (System.nanoTime() - start) / 1e9);
            writeRecord(json);
            output.print(json, "Base image ready: " + result.image() + pushed.map(d -> " (pushed " + d + ")").orElse("")
                    + files.output().map(f -> ", written to " + f).orElse(""));
            return 0;
        }
    }

    /** The engine's image, read into the store, written to {@code file} (a temp name renamed into place). */
    private static void writeArchive(DockerEngine engine, String tag, ArchiveFormat format, Path file, Progress progress) {
        ImageStore store = ImageStore.defaultLocation();
        StoredImage stored = progress.step("Reading " + tag + " into the image store", () -> EngineImages.save(engine, tag, store),
                i -> i.manifest().digest().substring(0, 19));
        progress.run("Writing " + format.describe(file), () -> format.write(store, stored, tag, file));
    }

    private void writeRecord(Map<String, Object> json) {
        if (recordFile != null) {
            OutputOptions.writeJson(recordFile, json);
        }
    }

    /**
     * One base per architecture, built in the engine (tagged IMAGE-ARCH there: an engine holds one architecture per
     * tag), then read into the image store as one OCI index under IMAGE, pushed and/or written as an OCI archive.
     */
    private Integer multiArch(ArchiveFormat format, Progress progress, long start, Map<String, ComponentRequest> components) {
        List<String> arches = arch.arches();
        if (image == null || !registry.push && files.output().isEmpty()) {
            throw new UserError("--arch " + String.join(",", arches) + " makes an OCI index, which an engine cannot hold: give "
                    + "--image REGISTRY/REPO:TAG and --push, or --output FILE --output-format oci (each arch is also tagged in the engine as TAG-ARCH)");
        }
        if (files.output().isPresent() && format != ArchiveFormat.OCI) {
            throw new UserError("a docker-archive holds one image per tag, not " + arches.size() + " architectures: give "
                    + "--output-format oci (an OCI archive with the index) or --push");
        }
        ImageRef target = ImageRef.parse(image);
        ImageStore store = ImageStore.defaultLocation();
        Map<String, Object> json = new LinkedHashMap<>();
        List<Map<String, Object>> built = new ArrayList<>();
        List<StoredImage> images = new ArrayList<>();
        try (DockerEngine engine = DockerEngine.connect()) {
            for (String a : arches) {
                String tag = target.withTag(target.tag() + "-" + a).toString();
                BaseImageRequest request = new BaseImageRequest(Optional.of(tag), from, a, debianMirror, force,
                        check && a.equals(engine.facts().architecture()), components);
                BaseImageResult result = new BaseImageBuild(engine, progress.prefixed("[" + a + "] ")).run(request);
                StoredImage stored = progress.step("Reading " + tag + " into the image store", () -> EngineImages.save(engine, tag, store),
                        i -> i.manifest().digest().substring(0, 19));
                images.add(stored);
                Map<String, Object> one = new LinkedHashMap<>();
                one.put("arch", a);
                one.put("engineTag", tag);
                one.put("imageId", result.imageId());
                one.put("manifestDigest", stored.manifest().digest());
                one.put("reused", result.reused());
                one.put("components", componentsJson(result.components()));
                built.add(one);
            }
        }
        Descriptor index = OciIndex.write(store, images);
        store.tag(image, index);
        json.put("image", image);
        json.put("indexDigest", index.digest());
        json.put("arches", built);
        StringBuilder human = new StringBuilder("Base image ready: " + image + " (" + String.join(" + ", arches) + ")");
        if (files.output().isPresent()) {
            Path file = files.output().get();
            progress.run("Writing " + ArchiveFormat.OCI.describe(file), () -> OciArchiveOutput.writeIndex(store, index, images, image, file));
            json.put("output", Map.of("file", file.toString(), "format", "oci"));
            human.append(", written to ").append(file);
        }
        if (registry.push) {
            RegistryClients clients = new RegistryClients(RegistryAccess.of(registry.insecureRegistries), files.trust(), progress);
            PushResult pushed = new RegistryPush(clients, store, progress).push(index, target, Optional.empty());
            for (int i = 0; i < built.size(); i++) {
                built.get(i).put("pinned", pushed.reference().withDigest(images.get(i).manifest().digest()).toString());
            }
            json.put("pushed", pushed.pinned().toString());
            human.append(", pushed as:\n").append(pushed.pinned())
                    .append(built.stream().map(b -> "\n" + b.get("pinned") + " (linux/" + b.get("arch") + ")").reduce("", String::concat));
        }
        json.put("seconds", (System.nanoTime() - start) / 1e9);
        writeRecord(json);
        output.print(json, human.toString());
        return 0;
    }
}
