package dev.kindbuild.cli;

import dev.kindbuild.base.BaseImageBuild;
import dev.kindbuild.base.BaseImageRequest;
import dev.kindbuild.base.BaseImageResult;
import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.progress.Progress;
import java.util.LinkedHashMap;
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

    @Mixin
    RegistryOptions registry;

    @Mixin
    OutputOptions output;

    @Override
    public Integer call() {
        arch.validate();
        Progress progress = output.progress();
        long start = System.nanoTime();
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
}
