package dev.kindbuild.selfimage;

import dev.kindbuild.UserError;
import dev.kindbuild.debian.DebianRoot;
import dev.kindbuild.image.delivery.DeliverImage;
import dev.kindbuild.image.delivery.Delivery;
import dev.kindbuild.image.delivery.Targets;
import dev.kindbuild.image.layer.ImageAssembly;
import dev.kindbuild.image.layer.Layer;
import dev.kindbuild.image.layer.LayerBuilder;
import dev.kindbuild.image.layer.LayerEntry;
import dev.kindbuild.image.registry.OciIndex;
import dev.kindbuild.image.registry.RegistryAccess;
import dev.kindbuild.image.registry.RegistryClients;
import dev.kindbuild.image.registry.RegistryTrust;
import dev.kindbuild.image.store.Descriptor;
import dev.kindbuild.image.store.ImageStore;
import dev.kindbuild.image.store.StoredImage;
import dev.kindbuild.progress.Progress;
import dev.kindbuild.support.Sha256;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.jar.JarFile;

/**
 * `kind-build self-image`: kind-build's own container image, made with no engine and no emulation. Per architecture:
 * a Debian root with a JRE (unpacked, not installed: see {@link JavaRoot}) as one layer, the kind-build jar as another,
 * a config that runs {@code kind-build} as an unprivileged user whose only writable place is its cache volume. Several
 * architectures make an OCI index. Everything is written into the image store and delivered from there like a node
 * image; the same Debian root and jar give the same digest.
 */
public final class SelfImageBuild {
    public static final String DEFAULT_REPOSITORY = "kind-build";
    /**
     * The JRE and Debian's CAs; and a shell userland (dash as sh, bash, coreutils): a Kubernetes release's own tools may
     * be scripts (wrappers, test stand-ins), and a shard in this image must run them as a host does, or its images
     * would differ from a host's; CI runners (a GitHub Actions job container) expect them too.
     */
    static final List<String> PACKAGES = List.of("openjdk-21-jre-headless", "ca-certificates", "dash", "bash", "coreutils");
    static final String JAR = "/usr/share/kind-build/kind-build.jar";
    private static final String JAVA_HOME_LABEL = "dev.kind-build.java-home";

    /**
     * What to build.
     *
     * @param arches       one image per architecture, in this order in the index
     * @param tag          the image's name
     * @param jar          the kind-build jar that goes in (the self-contained one)
     * @param suite        the Debian suite of the root
     * @param debianMirror where Debian's packages come from
     * @param created      the image time (SOURCE_DATE_EPOCH; else the epoch, so the time is no input)
     */
    public record Request(List<String> arches, String tag, Path jar, String suite, String debianMirror, Instant created) {
        public Request {
            arches = List.copyOf(arches);
            if (arches.isEmpty()) {
                throw new IllegalArgumentException("no architecture");
            }
        }
    }

    /**
     * What was built.
     *
     * @param images   one per architecture
     * @param index    the index over them, when more than one
     * @param delivery where it went
     */
    public record Result(String tag, String version, List<StoredImage> images, Optional<Descriptor> index, Delivery delivery) {
        /** The digest that names the result: the index's, else the one image's manifest. */
        public String digest() {
            return index.map(Descriptor::digest).orElse(images.get(0).manifest().digest());
        }
    }

    private final ImageStore store;
    private final Path cacheDir;
    private final Progress progress;

    public SelfImageBuild(ImageStore store, Path cacheDir, Progress progress) {
        this.store = store;
        this.cacheDir = cacheDir;
        this.progress = progress;
    }

    public Result run(Request request, Targets targets, RegistryAccess access, RegistryTrust trust) {
        String version = versionOf(request.jar());
        List<StoredImage> images = new ArrayList<>();
        for (String arch : request.arches()) {
            Progress p = request.arches().size() > 1 ? progress.prefixed("[" + arch + "] ") : progress;
            images.add(build(request, arch, version, p));
        }
        RegistryClients clients = new RegistryClients(access, trust, progress);
        if (images.size() == 1) {
            Delivery delivery = DeliverImage.run(store, images.get(0), request.tag(), Optional.empty(), targets, true, clients, progress);
            return new Result(request.tag(), version, images, Optional.empty(), delivery);
        }
        Descriptor index = progress.step("Writing the index of " + request.tag(), () -> OciIndex.write(store, images),
                d -> d.digest().substring(0, 19));
        Delivery delivery = DeliverImage.runIndex(store, index, images, request.tag(), Optional.empty(), targets, true, clients, progress);
        return new Result(request.tag(), version, images, Optional.of(index), delivery);
    }

    private StoredImage build(Request request, String arch, String version, Progress p) {
        DebianRoot.Spec spec = new DebianRoot.Spec(request.suite(), DebianRoot.Variant.EXTRACT, arch, PACKAGES);
        Path rootTar = p.step("Debian " + request.suite() + " root with a JRE (" + arch + ")",
                () -> DebianRoot.obtain(cacheDir, spec, request.debianMirror(), p), t -> t.getFileName().toString());
        Root root = p.step("Writing layer: Debian root", () -> root(rootTar, arch, request.created()),
                r -> r.layer().describe());
        Layer jar = p.step("Writing layer: kind-build " + version, () -> new LayerBuilder()
                .add(LayerEntry.file(JAR.substring(1), request.jar(), 0644, 0, 0)).write(store, request.created()), Layer::describe);
        return p.step("Assembling " + request.tag() + " (" + arch + ")", () -> {
            ImageAssembly image = ImageAssembly.scratch("linux", arch).architecture(arch)
                    .layer(root.layer(), "kind-build: Debian " + request.suite() + " with " + String.join(", ", PACKAGES) + " (unpacked)")
                    .layer(jar, "kind-build: the kind-build " + version + " jar")
                    .entrypoint(entrypoint(root.javaHome()))
                    .cmd(List.of("--help"))
                    .user(JavaRoot.UID + ":" + JavaRoot.UID)
                    .volume(JavaRoot.CACHE)
                    .workingDir(JavaRoot.CACHE)
                    .env("PATH", root.javaHome() + "/bin:/usr/local/bin:/usr/bin:/bin")
                    .env("JAVA_HOME", root.javaHome())
                    .env("KIND_BUILD_CACHE", JavaRoot.CACHE)
                    // Temp files go in the cache volume: the root may be read-only.
                    .env("TMPDIR", JavaRoot.CACHE + "/tmp")
                    // glibc's built-in UTF-8 locale: step marks (✓, ✗) print as themselves, not as '?'.
                    .env("LANG", "C.UTF-8")
                    .label("org.opencontainers.image.title", "kind-build")
                    .label("org.opencontainers.image.version", version)
                    .label("dev.kind-build.image-kind", "kind-build")
                    .created(request.created());
            return image.write(store);
        }, i -> i.manifest().digest().substring(0, 19));
    }

    /**
     * The JVM as the launcher script runs it: the serial collector and a bounded heap (kind-build streams big files;
     * unbounded, the heap grows towards a quarter of the node's memory), no perf-data file (the root is read-only).
     */
    static List<String> entrypoint(String javaHome) {
        return List.of(javaHome + "/bin/java", "-XX:+UseSerialGC", "-Xmx256m", "-XX:-UsePerfData", "-jar", JAR);
    }

    private record Root(Layer layer, String javaHome) {}

    /**
     * The Debian root as a layer; kept in the store under a name made of the root tar's own name (its inputs) and
     * {@link JavaRoot#REVISION}, so a second image of the same root costs nothing.
     */
    private Root root(Path rootTar, String arch, Instant created) throws IOException {
        String name = "kind-build.self-image-root/" + Sha256.of((rootTar.getFileName() + "\n" + Files.size(rootTar) + "\n" + JavaRoot.REVISION
                + "\n" + created.getEpochSecond()).getBytes(StandardCharsets.UTF_8)).substring(0, 32);
        Optional<StoredImage> kept = store.resolve(name).flatMap(store::whole);
        if (kept.isPresent()) {
            StoredImage image = kept.get();
            return new Root(new Layer(image.layers().get(0), image.diffIds().get(0)),
                    image.configJson().path("config").path("Labels").path(JAVA_HOME_LABEL).asText());
        }
        JavaRoot.Contents contents = JavaRoot.read(rootTar);
        Layer layer = new LayerBuilder().addAll(contents.entries()).write(store, created);
        // A one-layer image only to keep the layer and the JRE's place together in the store.
        StoredImage image = ImageAssembly.scratch("linux", arch).architecture(arch).layer(layer, "Debian root")
                .label(JAVA_HOME_LABEL, contents.javaHome()).created(created).write(store);
        store.tag(name, image.manifest());
        return new Root(layer, contents.javaHome());
    }

    /** The jar's own version (its manifest's Implementation-Version); refused when the file is no kind-build jar. */
    public static String versionOf(Path jar) {
        try (JarFile file = new JarFile(jar.toFile())) {
            if (file.getEntry("dev/kindbuild/cli/Main.class") == null || file.getEntry("picocli/CommandLine.class") == null) {
                throw new UserError(jar + " is not the self-contained kind-build jar (with its libraries): give builder/target/kind-build-all.jar");
            }
            var manifest = file.getManifest();
            String version = manifest == null ? null : manifest.getMainAttributes().getValue("Implementation-Version");
            if (version == null) {
                throw new UserError(jar + " has no Implementation-Version: give the self-contained jar (builder/target/kind-build-all.jar)");
            }
            return version;
        } catch (IOException e) {
            throw new UserError("cannot read the kind-build jar " + jar + ": " + e.getMessage(), e);
        }
    }
}
