package dev.kindbuild.release;

import dev.kindbuild.UserError;
import dev.kindbuild.base.BaseImageRequest;
import dev.kindbuild.image.ImageRef;
import dev.kindbuild.image.registry.RegistryAccess;
import dev.kindbuild.image.registry.RegistryMirrors;
import dev.kindbuild.kube.KubeVersion;
import dev.kindbuild.node.BaseImageSource;
import java.io.IOException;
import java.io.Reader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * A release file: which Kubernetes versions to publish, for which architectures, where. For example
 * <pre>
 * repository: registry.example/kindest/node     # each version is pushed as REPOSITORY:VERSION (an OCI index)
 * versions: [v1.31.2, v1.30.6]
 * arches: [amd64, arm64]
 * baseImage: registry.example/kindest/base:v20261202   # optional; multi-arch, or oci-archive:FILE with an index
 * kubernetesReleaseUrl: https://dl.k8s.io            # optional
 * allowInsecureHttp: false                            # optional: plain HTTP to a non-loopback kubernetesReleaseUrl
 * extraImages: [registry.example/tools/debug:1]       # optional
 * registryMirrors: {registry.k8s.io: mirror.example:5000}   # optional
 * insecureRegistries: []                              # optional: plain HTTP to these (loopback always allowed)
 * caCert: ca.pem                                      # optional: also trust this CA (relative to the file)
 * jobs: 2                                             # optional: builds at once (default: the machine's cores)
 * </pre>
 */
public record ReleaseFile(ImageRef repository, List<String> versions, List<String> arches, Optional<String> baseImage,
        URI releaseUrl, List<String> extraImages, List<String> mirrors, List<String> insecureRegistries, Optional<Path> caCert,
        int jobs, boolean allowInsecureHttp) {

    private static final Set<String> KEYS = Set.of("repository", "versions", "arches", "baseImage", "kubernetesReleaseUrl",
            "extraImages", "registryMirrors", "insecureRegistries", "caCert", "jobs",
            "allowInsecureHttp");

    public ReleaseFile {
        versions = List.copyOf(versions);
        arches = List.copyOf(arches);
        extraImages = List.copyOf(extraImages);
        mirrors = List.copyOf(mirrors);
        insecureRegistries = List.copyOf(insecureRegistries);
    }

    /** Reads and checks {@code file}; anything wrong is one line naming the file and the key. */
    public static ReleaseFile read(Path file) {
        Object loaded;
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            loaded = new Yaml(new SafeConstructor(new LoaderOptions())).load(in);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new UserError("release file " + file + " does not exist");
        } catch (IOException e) {
            throw new UserError("cannot read release file " + file + ": " + e.getMessage(), e);
        } catch (org.yaml.snakeyaml.error.YAMLException e) {
            throw new UserError("release file " + file + " is not valid YAML: " + e.getMessage().lines().findFirst().orElse(""));
        }
        if (!(loaded instanceof Map<?, ?> map)) {
            throw new UserError("release file " + file + " must be a YAML mapping with at least repository, versions and arches");
        }
        for (Object key : map.keySet()) {
            if (!KEYS.contains(String.valueOf(key))) {
                throw new UserError(file + ": unknown key '" + key + "' (known: " + String.join(", ", new java.util.TreeSet<>(KEYS)) + ")");
            }
        }
        Fields f = new Fields(file, map);
        String repoText = f.string("repository").orElseThrow(() -> new UserError(file + ": 'repository' is missing: "
                + "the registry/repository each version is pushed to, e.g. registry.example/kindest/node"));
        ImageRef.check(repoText, file + ": repository");
        ImageRef repository = ImageRef.parse(repoText);
        if (repoText.contains("@") || repoText.substring(repoText.lastIndexOf('/') + 1).contains(":")) {
            throw new UserError(file + ": repository '" + ImageRef.redact(repoText) + "' has a tag or digest; give the repository only (the version is the tag)");
        }
        List<String> versions = f.list("versions");
        if (versions.isEmpty()) {
            throw new UserError(file + ": 'versions' is missing or empty: list the Kubernetes versions, e.g. [v1.31.2]");
        }
        versions.forEach(v -> KubeVersion.parse(v, file + ": versions"));
        unique(file, "versions", versions);
        List<String> arches = f.list("arches");
        if (arches.isEmpty()) {
            arches = List.of("amd64");
        }
        arches.forEach(BaseImageRequest::checkArch);
        unique(file, "arches", arches);
        Optional<String> base = f.string("baseImage");
        base.ifPresent(b -> {
            if (BaseImageSource.isArchive(b)) {
                BaseImageSource.parse(Optional.of(b));
            } else {
                ImageRef.check(b, file + ": baseImage");
            }
        });
        URI releaseUrl = dev.kindbuild.support.Urls.parseHttpUrl(f.string("kubernetesReleaseUrl").orElse("https://dl.k8s.io"));
        Object insecureHttp = map.get("allowInsecureHttp");
        if (insecureHttp != null && !(insecureHttp instanceof Boolean)) {
            throw new UserError(file + ": 'allowInsecureHttp' must be true or false");
        }
        boolean allowInsecureHttp = Boolean.TRUE.equals(insecureHttp);
        try {
            dev.kindbuild.support.Urls.checkTransport(releaseUrl, allowInsecureHttp);
        } catch (UserError e) {
            throw new UserError(file + ": kubernetesReleaseUrl " + dev.kindbuild.support.Urls.redact(releaseUrl) + " is plain HTTP to a non-loopback host: use https,"
                    + " or set allowInsecureHttp: true (every download is still checked against its .sha256)", e);
        }
        List<String> mirrors = new ArrayList<>();
        Object m = map.get("registryMirrors");
        if (m instanceof Map<?, ?> mm) {
            mm.forEach((host, mirror) -> mirrors.add(host + "=" + mirror));
        } else if (m != null) {
            throw new UserError(file + ": 'registryMirrors' must map a registry to its mirror, e.g. {registry.k8s.io: mirror.example:5000}");
        }
        // Checked here, not when the build starts: --dry-run prints them, and a bad one is named before any work.
        List<String> extraImages = f.list("extraImages");
        extraImages.forEach(ref -> ImageRef.check(ref, file + ": extraImages"));
        List<String> insecure = f.list("insecureRegistries");
        try {
            RegistryMirrors.parse(mirrors);
            RegistryAccess.of(insecure);
        } catch (UserError e) {
            throw new UserError(file + ": " + e.getMessage().replaceFirst("^--registry-mirror", "registryMirrors")
                    .replaceFirst("^--insecure-registry", "insecureRegistries"), e);
        }
        Optional<Path> ca = f.string("caCert").map(p -> file.toAbsolutePath().getParent().resolve(p));
        ca.filter(p -> !Files.isRegularFile(p)).ifPresent(p -> {
            throw new UserError(file + ": caCert " + p + " does not exist");
        });
        int jobs = f.integer("jobs").orElse(Runtime.getRuntime().availableProcessors());
        if (jobs < 1) {
            throw new UserError(file + ": jobs must be at least 1");
        }
        return new ReleaseFile(repository, versions, arches, base, releaseUrl, extraImages, mirrors, insecure, ca, jobs, allowInsecureHttp);
    }

    /** The tag {@code version} is published under: REPOSITORY:VERSION ('+' is not allowed in a tag). */
    public String tag(String version) {
        return repository.withTag(version.replace('+', '_')).toString();
    }

    /**
     * Where a shard leaves one architecture's image for {@code --finalize}: a tag in the release's repository derived
     * from what the file asks for (repository, versions, arches, base, release URL, extra images, mirrors), so shards of
     * an edited file never meet images staged for the old one.
     */
    public ImageRef staging(String version, String arch) {
        return repository.withTag("kind-build-staging-" + inputsDigest().substring(0, 12) + "-" + version.replace('+', '_') + "-" + arch);
    }

    /** Whom TLS to registries trusts: the JVM's CAs, and the file's caCert when it names one. */
    public dev.kindbuild.image.registry.RegistryTrust trust() {
        return caCert.map(dev.kindbuild.image.registry.RegistryTrust::withCaCert).orElseGet(dev.kindbuild.image.registry.RegistryTrust::jvmDefault);
    }

    /** The digest of what the file asks for: the key of its staged images. */
    public String inputsDigest() {
        String all = String.join("\n", List.of(repository.toString(), String.join(",", versions), String.join(",", arches),
                baseImage.orElse(""), releaseUrl.toString(), String.join(",", extraImages), String.join(",", mirrors)));
        return dev.kindbuild.support.Sha256.of(all.getBytes(StandardCharsets.UTF_8));
    }

    private static void unique(Path file, String key, List<String> values) {
        if (new LinkedHashSet<>(values).size() != values.size()) {
            throw new UserError(file + ": '" + key + "' lists a value twice: " + values);
        }
    }

    /** Typed access to the mapping's values, with one-line errors. */
    private record Fields(Path file, Map<?, ?> map) {
        Optional<String> string(String key) {
            Object v = map.get(key);
            if (v == null) {
                return Optional.empty();
            }
            if (v instanceof Map || v instanceof List) {
                throw new UserError(file + ": '" + key + "' must be a single value, not " + (v instanceof Map ? "a mapping" : "a list"));
            }
            return Optional.of(String.valueOf(v).strip());
        }

        List<String> list(String key) {
            Object v = map.get(key);
            if (v == null) {
                return List.of();
            }
            if (v instanceof List<?> l) {
                return l.stream().map(x -> String.valueOf(x).strip()).toList();
            }
            if (v instanceof Map) {
                throw new UserError(file + ": '" + key + "' must be a list, e.g. " + key + ": [a, b]");
            }
            return List.of(String.valueOf(v).strip());
        }

        Optional<Integer> integer(String key) {
            Object v = map.get(key);
            if (v == null) {
                return Optional.empty();
            }
            if (v instanceof Integer i) {
                return Optional.of(i);
            }
            throw new UserError(file + ": '" + key + "' must be a whole number, not " + v);
        }
    }
}
