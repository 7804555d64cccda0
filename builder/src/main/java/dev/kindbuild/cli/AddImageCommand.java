package dev.kindbuild.cli;

import dev.kindbuild.UserError;
import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.image.ImageRef;
import dev.kindbuild.image.registry.RegistryAccess;
import dev.kindbuild.image.registry.RegistryMirrors;
import dev.kindbuild.image.archive.ArchiveFormat;
import dev.kindbuild.image.store.ImageStore;
import dev.kindbuild.node.ImageRecord;
import dev.kindbuild.node.pipeline.AddImageBuild;
import dev.kindbuild.node.BaseImageSource;
import dev.kindbuild.node.pipeline.NodeBuild;
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

/** `kind-build add-image`: more images baked into an existing node image, as one new layer. */
@Command(name = "add-image", mixinStandardHelpOptions = true,
        description = {"Add images to a node image's /kind/images as one new layer (no Kubernetes rebuild, no engine needed).",
                "NODE_IMAGE is a reference, docker-archive:PATH or oci-archive:PATH; REF... are images to pull."})
final class AddImageCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "NODE_IMAGE", description = "The node image to add to.")
    String node;

    @Parameters(index = "1..*", arity = "0..*", paramLabel = "REF", description = "Images to pull and add.")
    List<String> refs = new ArrayList<>();

    @Option(names = "--from-archive", paramLabel = "FILE", description = "Add the image in this docker-archive (`docker save` output; repeatable).")
    List<Path> archives = new ArrayList<>();

    @Option(names = "--image", paramLabel = "NAME", description = "Name of the new node image (default: NODE_IMAGE's own name).")
    String image;

    @Mixin
    ArchOption arch;

    @Option(names = "--registry-mirror", paramLabel = "HOST=MIRROR", description = "Pull images of registry HOST from MIRROR (repeatable).")
    List<String> mirrors = new ArrayList<>();

    @Mixin
    ArchiveOutputOptions files;

    @Mixin
    RegistryOptions registry;

    @Mixin
    OutputOptions output;

    @Override
    public Integer call() {
        arch.validate();
        // References are checked before anything connects: a bad one is one line naming the argument, never echoed raw.
        if (!BaseImageSource.isArchive(node)) {
            ImageRef.check(node, "NODE_IMAGE");
        }
        if (image != null) {
            ImageRef.check(image, "--image");
        }
        refs.forEach(r -> ImageRef.check(r, "REF"));
        for (Path a : archives) {
            if (!java.nio.file.Files.isRegularFile(a)) {
                throw new UserError("--from-archive " + a + ": no such file");
            }
        }
        CommandFiles io = new CommandFiles()
                .reads("NODE_IMAGE archive", BaseImageSource.isArchive(node) ? BaseImageSource.parse(Optional.of(node)).archive().orElse(null) : null)
                .reads("--ca-cert", files.caCert);
        archives.forEach(a -> io.reads("--from-archive", a));
        io.writes("--output", files.outputFile).refuseOverwrites();
        ArchiveFormat format = files.format();
        RegistryMirrors parsedMirrors = RegistryMirrors.parse(mirrors);
        RegistryAccess access = RegistryAccess.of(registry.insecureRegistries);
        var progress = output.progress();
        Optional<DockerEngine> engine = DockerEngine.tryConnect();
        try {
            arch.requireSingle("add-image");
            String targetArch = arch.resolve(engine);
            AddImageBuild.Request request = new AddImageBuild.Request(node, refs, archives, Optional.ofNullable(image), targetArch,
                    parsedMirrors, access);
            AddImageBuild.Result r = new AddImageBuild(ImageStore.defaultLocation(), progress).run(request,
                    new NodeBuild.Options(engine, files.output(), format, registry.push, files.trust(),
                            ArchiveOutputOptions.sourceDateEpoch()));
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("image", r.image());
            json.put("manifestDigest", r.manifest());
            json.put("imageId", r.configDigest());
            json.put("added", r.added().stream().map(ImageRecord::name).toList());
            json.put("images", r.images().size());
            json.put("outputs", r.delivery().lines());
            r.pushed().ifPresent(p -> json.put("pushed", p.pinned().toString()));
            output.print(json, "Node image ready: " + r.image() + " (" + r.added().size() + " images added, " + r.images().size()
                    + " in all) in " + r.delivery().where()
                    + r.pushed().map(p -> ", pushed " + p.pinned()).orElse(""));
            return 0;
        } finally {
            engine.ifPresent(DockerEngine::close);
        }
    }
}
