package dev.kindbuild.cli;

import dev.kindbuild.base.BaseImageBuild;
import dev.kindbuild.base.BaseImageRequest;
import dev.kindbuild.base.BaseImageResult;
import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.progress.Progress;
import dev.kindbuild.UserError;
import dev.kindbuild.image.ImageRef;
import dev.kindbuild.image.RegistryAccess;
import dev.kindbuild.image.archive.EngineImages;
import dev.kindbuild.image.registry.OciIndex;
import dev.kindbuild.image.registry.PushResult;
import dev.kindbuild.image.registry.RegistryClients;
import dev.kindbuild.image.registry.RegistryPush;
import dev.kindbuild.image.registry.RegistryTrust;
import dev.kindbuild.image.store.Descriptor;
import dev.kindbuild.image.store.ImageStore;
import dev.kindbuild.image.store.StoredImage;
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

    @Mixin
    ArchOption arch;

    @Option(names = "--debian-mirror", paramLabel = "URL",
            description = "Debian mirror for the offline bootstrap (default: the one this machine's apt sources use).")
    String debianMirror = BaseImageRequest.DEFAULT_MIRROR;

    @Option(names = "--force", description = "Rebuild even if an image of the same recipe exists.")
    boolean force;

    @Option(names = "--check", description = "Boot the image as kind boots a node and check systemd and containerd.")
    boolean check;

    @Option(names = "--ca-cert", paramLabel = "PEM", description = "Also trust this CA for registry TLS (multi-arch pushes).")
    java.nio.file.Path caCert;

    @Mixin
    RegistryOptions registry;

    @Mixin
    OutputOptions output;

    @Override
    public Integer call() {
        arch.validate();
        Progress progress = output.progress();
        long start = System.nanoTime();
        if (arch.multiple()) {
            return multiArch(progress, start);
        }
        try (DockerEngine engine = DockerEngine.connect()) {
            String targetArch = arch.resolve(engine);
            BaseImageRequest request = new BaseImageRequest(Optional.ofNullable(image), from, targetArch, debianMirror, force, check);
            BaseImageResult result = new BaseImageBuild(engine, progress).run(request);
            Optional<String> pushed = registry.pushIfAsked(engine, result.image(), progress);
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("image", result.image());
            json.put("imageId", result.imageId());
            json.put("recipeHash", result.recipeHash());
            json.put("arch", targetArch);
            json.put("reused", result.reused());
            result.from().ifPresent(f -> json.put("from", Map.of("ref", f.ref(), "how", f.how())));
            result.bootCheck().ifPresent(m -> json.put("bootCheck", Map.of("passed", true, "nodeMode", m.name().toLowerCase())));
            pushed.ifPresent(d -> json.put("pushedDigest", d));
            json.put("seconds", (System.nanoTime() - start) / 1e9);
            output.print(json, "Base image ready: " + result.image() + pushed.map(d -> " (pushed " + d + ")").orElse(""));
            return 0;
        }
    }

    /**
     * One base per architecture, built in the engine (tagged IMAGE-ARCH there: an engine holds one architecture per
     * tag), then read into the image store and pushed as one OCI index under IMAGE.
     */
    private Integer multiArch(Progress progress, long start) {
        List<String> arches = arch.arches();
        if (image == null || !registry.push) {
            throw new UserError("--arch " + String.join(",", arches) + " makes an OCI index, which only a registry holds: give "
                    + "--image REGISTRY/REPO:TAG and --push (each arch is also tagged in the engine as TAG-ARCH)");
        }
        ImageRef target = ImageRef.parse(image);
        ImageStore store = ImageStore.defaultLocation();
        Map<String, Object> json = new LinkedHashMap<>();
        List<Map<String, Object>> built = new ArrayList<>();
        List<StoredImage> images = new ArrayList<>();
        try (DockerEngine engine = DockerEngine.connect()) {
            for (String a : arches) {
                String tag = target.withTag(target.tag() + "-" + a).toString();
                BaseImageRequest request = new BaseImageRequest(Optional.of(tag), from, a, debianMirror, force, check && a.equals(engine.facts().architecture()));
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
                built.add(one);
            }
        }
        Descriptor index = OciIndex.write(store, images);
        store.tag(image, index);
        RegistryClients clients = new RegistryClients(RegistryAccess.of(registry.insecureRegistries), trust(), progress);
        PushResult pushed = new RegistryPush(clients, store, progress).push(index, target, Optional.empty());
        for (int i = 0; i < built.size(); i++) {
            built.get(i).put("pinned", pushed.reference().withDigest(images.get(i).manifest().digest()).toString());
        }
        json.put("image", image);
        json.put("indexDigest", index.digest());
        json.put("arches", built);
        json.put("pushed", pushed.pinned().toString());
        json.put("seconds", (System.nanoTime() - start) / 1e9);
        output.print(json, "Base image ready: " + image + " (" + String.join(" + ", arches) + "), pushed as:\n" + pushed.pinned()
                + built.stream().map(b -> "\n" + b.get("pinned") + " (linux/" + b.get("arch") + ")").reduce("", String::concat));
        return 0;
    }

    private RegistryTrust trust() {
        return caCert == null ? RegistryTrust.jvmDefault() : RegistryTrust.withCaCert(caCert);
    }
}
