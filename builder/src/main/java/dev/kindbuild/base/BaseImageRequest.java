package dev.kindbuild.base;

import dev.kindbuild.UserError;
import dev.kindbuild.components.ComponentRequest;
import dev.kindbuild.image.ImageRef;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What `kind-build base-image` was asked to do.
 *
 * @param image        the tag to give the image, or empty for kindest/base:v&lt;date&gt;-&lt;recipe hash&gt;
 * @param fromImage    the Debian image the recipe starts from
 * @param arch         amd64 or arm64
 * @param debianMirror where mmdebstrap fetches packages when the FROM image cannot be pulled ("": none known)
 * @param force        rebuild even when an image of the same recipe exists
 * @param check        boot the image afterwards and check systemd and containerd
 * @param components   what was asked per runtime component (--containerd …); missing ones take the file's default
 */
public record BaseImageRequest(
        Optional<String> image,
        String fromImage,
        String arch,
        String debianMirror,
        boolean force,
        boolean check,
        Map<String, ComponentRequest> components) {

    public static final String DEFAULT_SUITE = "trixie";
    public static final String DEFAULT_FROM = "debian:" + DEFAULT_SUITE + "-slim";
    /** The mirror of this machine's apt sources ("" when none is configured: then only --debian-mirror will do). */
    public static final String DEFAULT_MIRROR = dev.kindbuild.debian.AptSources.machineMirror();
    public static final List<String> ARCHES = List.of("amd64", "arm64");

    /** The file's defaults for every component. */
    public BaseImageRequest(Optional<String> image, String fromImage, String arch, String debianMirror, boolean force, boolean check) {
        this(image, fromImage, arch, debianMirror, force, check, Map.of());
    }

    public BaseImageRequest {
        checkArch(arch);
        components = components == null ? Map.of() : Map.copyOf(components);
        if (debianMirror == null) {
            debianMirror = "";
        }
        if (!debianMirror.isEmpty() && !debianMirror.matches("https?://\\S+")) {
            throw new UserError("invalid --debian-mirror '" + debianMirror + "': give the http(s) URL of a Debian mirror,"
                    + " as in your apt sources");
        }
        if (fromImage == null || fromImage.isBlank()) {
            throw new UserError("--from needs an image reference, e.g. " + DEFAULT_FROM);
        }
        ImageRef.check(fromImage, "--from");
        image.ifPresent(name -> {
            ImageRef.refuseCredentials(name, "invalid --image '" + ImageRef.redact(name) + "'");
            if (!name.matches("[a-z0-9]+([._/:@-][a-zA-Z0-9_.-]+)*")) {
                throw new UserError("invalid --image '" + name + "': use a reference like registry.example/kindest/base:v1");
            }
        });
    }

    /** The component requests in a stable order, for the recipe's identity: e.g. containerd=version:1.7. */
    public String componentsKey() {
        return new java.util.TreeMap<>(components).entrySet().stream().filter(e -> e.getValue().kind() != ComponentRequest.Kind.DEFAULT)
                .map(e -> e.getKey() + "=" + e.getValue().key()).collect(java.util.stream.Collectors.joining(","));
    }

    /** The same request with other component requests. */
    public BaseImageRequest withComponents(Map<String, ComponentRequest> other) {
        return new BaseImageRequest(image, fromImage, arch, debianMirror, force, check, other);
    }

    /** Fails with one line unless {@code arch} is one kind-build builds for. */
    public static void checkArch(String arch) {
        if (!ARCHES.contains(arch)) {
            throw new UserError("unknown --arch '" + arch + "': use one of " + String.join(", ", ARCHES));
        }
    }
}
