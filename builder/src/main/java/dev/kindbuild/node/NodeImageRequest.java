package dev.kindbuild.node;

import dev.kindbuild.UserError;
import dev.kindbuild.image.ImageRef;
import dev.kindbuild.image.registry.RegistryAccess;
import dev.kindbuild.image.registry.RegistryMirrors;
import dev.kindbuild.kube.KubernetesSource;
import dev.kindbuild.support.Sha256;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * What `kind-build node-image` was asked to do.
 *
 * @param source          where Kubernetes comes from
 * @param image           the tag for the node image, or empty for kindest/node:&lt;version&gt;
 * @param baseImage       the base image to build on, or empty to build/reuse the bundled base recipe
 * @param arch            amd64 or arm64
 * @param mirrors         registry mirrors for pulling images
 * @param access          TLS policy and credentials for registries
 * @param extraImages     images to bake in besides kubeadm's and the addons'
 * @param noCache         bypass the download and image caches
 * @param allowInsecureHttp plain http downloads of Kubernetes from non-loopback hosts
 * @param k8sSha256       the tarball digest the user trusts, replacing the published .sha256
 * @param k8sVersion      the version of a source tree or directory that records none ({@code --k8s-version})
 * @param goRoot          the Go that builds a source tree ({@code --go-root}); empty: {@code go} on PATH
 */
public record NodeImageRequest(
        KubernetesSource source,
        Optional<String> image,
        Optional<String> baseImage,
        String arch,
        RegistryMirrors mirrors,
        RegistryAccess access,
        List<String> extraImages,
        boolean noCache,
        boolean allowInsecureHttp,
        Optional<String> k8sSha256,
        Optional<String> k8sVersion,
        Optional<Path> goRoot) {

    public NodeImageRequest {
        extraImages = List.copyOf(extraImages);
        k8sVersion = k8sVersion == null ? Optional.empty() : k8sVersion;
        goRoot = goRoot == null ? Optional.empty() : goRoot;
        checkNames(image, extraImages, k8sSha256);
        baseImage.filter(ref -> !BaseImageSource.isArchive(ref))
                .ifPresent(ref -> ImageRef.check(ref, "--base-image"));
    }

    /** How Kubernetes is resolved for this request, whichever builder runs it. */
    /** The same request for another architecture (one image of a multi-arch build). */
    public NodeImageRequest withArch(String otherArch) {
        return new NodeImageRequest(source, image, baseImage, otherArch, mirrors, access, extraImages, noCache, allowInsecureHttp,
                k8sSha256, k8sVersion, goRoot);
    }

    /** The same request for another Kubernetes source and tag (one version of a release file). */
    public NodeImageRequest withSource(KubernetesSource otherSource, String tag) {
        return new NodeImageRequest(otherSource, Optional.of(tag), baseImage, arch, mirrors, access, extraImages, noCache,
                allowInsecureHttp, k8sSha256, k8sVersion, goRoot);
    }

    public dev.kindbuild.kube.KubernetesResolver.Options resolverOptions() {
        return dev.kindbuild.kube.KubernetesResolver.Options.defaults(arch)
                .withNoCache(noCache)
                .withAllowInsecureHttp(allowInsecureHttp)
                .withExpectedSha256(k8sSha256)
                .withFallbackVersion(k8sVersion)
                .withGoRoot(goRoot);
    }

    /** A request whose source records its own version and needs no Go. */
    public NodeImageRequest(KubernetesSource source, Optional<String> image, Optional<String> baseImage, String arch,
            RegistryMirrors mirrors, RegistryAccess access, List<String> extraImages, boolean noCache,
            boolean allowInsecureHttp, Optional<String> k8sSha256) {
        this(source, image, baseImage, arch, mirrors, access, extraImages, noCache, allowInsecureHttp, k8sSha256,
                Optional.empty(), Optional.empty());
    }

    /**
     * Fails with one line on a malformed --image, --extra-image or --k8s-sha256. The CLI calls it before connecting
     * to the engine; otherwise a bad --extra-image would fail only after the builder is set up, and a bad --image
     * only at the commit, after every image was pulled.
     */
    public static void checkNames(Optional<String> image, List<String> extraImages, Optional<String> k8sSha256) {
        image.ifPresent(name -> {
            ImageRef.check(name, "--image");
            if (ImageRef.parse(name).digest() != null) {
                throw new UserError("--image " + name + ": give the node image a name:tag, not a digest");
            }
        });
        extraImages.forEach(ref -> {
            ImageRef.check(ref, "--extra-image");
            ImageRef.parse(ref).nameWithTag();
        });
        k8sSha256.ifPresent(hex -> Sha256.parseDigest(hex, "--k8s-sha256"));
    }
}
