package dev.kindbuild.cli;

import dev.kindbuild.CacheLocation;
import dev.kindbuild.UserError;
import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.image.ImageRef;
import dev.kindbuild.image.archive.ArchiveFormat;
import dev.kindbuild.image.delivery.Targets;
import dev.kindbuild.image.registry.RegistryAccess;
import dev.kindbuild.image.store.ImageStore;
import dev.kindbuild.image.store.StoredImage;
import dev.kindbuild.selfimage.SelfImageBuild;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** `kind-build self-image`: kind-build's own container image (for release shards on a cluster, CI, any engine). */
@Command(name = "self-image", mixinStandardHelpOptions = true,
        description = {"Build kind-build's own container image: Debian with a JRE and the kind-build jar, run as an unprivileged user.",
                "No engine, no privileges, no emulation: --arch amd64,arm64 makes an OCI index."})
final class SelfImageCommand implements Callable<Integer> {

    @Option(names = "--image", paramLabel = "NAME", description = "Name of the image (default: kind-build:VERSION).")
    String image;

    @Option(names = "--jar", paramLabel = "FILE", description = "The kind-build jar to put in (default: the one running).")
    Path jar;

    @Option(names = "--debian-suite", paramLabel = "SUITE", description = "Debian suite of the image's root (default: ${DEFAULT-VALUE}).")
    String suite = "trixie";

    @Option(names = "--debian-mirror", paramLabel = "URL",
            description = "Debian mirror the root comes from (default: the one this machine's apt sources use).")
    String debianMirror = dev.kindbuild.base.BaseImageRequest.DEFAULT_MIRROR;

    @Mixin
    ArchOption arch;

    @Mixin
    ArchiveOutputOptions files;

    @Mixin
    RegistryOptions registry;

    @Mixin
    OutputOptions output;

    @Override
    public Integer call() {
        arch.validate();
        if (image != null) {
            ImageRef.check(image, "--image");
        }
        if (!suite.matches("[a-z]+")) {
            throw new UserError("--debian-suite " + suite + ": give a suite name such as trixie");
        }
        Path jarFile = jar != null ? jar : runningJar();
        new CommandFiles().reads("--jar", jarFile).reads("--ca-cert", files.caCert).writes("--output", files.outputFile).refuseOverwrites();
        ArchiveFormat format = files.format();
        if (arch.multiple() && files.outputFile != null && format != ArchiveFormat.OCI) {
            throw new UserError("--arch " + String.join(",", arch.arches()) + " makes an index, which a docker-archive cannot hold: add --output-format oci");
        }
        RegistryAccess access = RegistryAccess.of(registry.insecureRegistries);
        var progress = output.progress();
        Optional<DockerEngine> engine = files.outputFile == null && !registry.push ? DockerEngine.tryConnect() : Optional.empty();
        try {
            List<String> arches = arch.arches().isEmpty() ? List.of(arch.resolve(engine)) : arch.arches();
            String tag = image != null ? image : SelfImageBuild.DEFAULT_REPOSITORY + ":" + versionTag(jarFile);
            Instant created = ArchiveOutputOptions.sourceDateEpoch().orElse(Instant.EPOCH);
            SelfImageBuild.Request request = new SelfImageBuild.Request(arches, tag, jarFile, suite, debianMirror, created);
            SelfImageBuild.Result r = new SelfImageBuild(ImageStore.defaultLocation(), CacheLocation.root(), progress)
                    .run(request, new Targets(files.output(), format, engine, registry.push), access, files.trust());
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("image", r.tag());
            json.put("version", r.version());
            json.put("digest", r.digest());
            json.put("arches", r.images().stream().map(StoredImage::architecture).toList());
            json.put("manifests", r.images().stream().map(i -> i.manifest().digest()).toList());
            json.put("outputs", r.delivery().lines());
            r.delivery().pushed().ifPresent(p -> json.put("pushed", p.pinned().toString()));
            output.print(json, "kind-build image ready: " + r.tag() + " (" + String.join(", ", r.images().stream().map(StoredImage::architecture).toList())
                    + ", " + r.digest().substring(0, 19) + ") in " + r.delivery().where()
                    + r.delivery().pushed().map(p -> ", pushed " + p.pinned()).orElse(""));
            return 0;
        } finally {
            engine.ifPresent(DockerEngine::close);
        }
    }

    /** The jar this kind-build runs from; refused when it runs from classes (a development run): then --jar is needed. */
    private static Path runningJar() {
        try {
            Path self = Path.of(Main.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            if (Files.isRegularFile(self) && self.toString().endsWith(".jar")) {
                return self;
            }
        } catch (URISyntaxException | SecurityException e) {
            // fall through to the error below
        }
        throw new UserError("kind-build is not running from its jar: give --jar builder/target/kind-build-all.jar");
    }

    /** A tag from the jar's version ("0.1.0-SNAPSHOT"); '+' is not allowed in tags. */
    private static String versionTag(Path jarFile) {
        return SelfImageBuild.versionOf(jarFile).replace('+', '_');
    }
}
