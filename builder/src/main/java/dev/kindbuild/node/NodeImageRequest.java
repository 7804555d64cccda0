package dev.kindbuild.node;

import dev.kindbuild.image.RegistryAccess;
import dev.kindbuild.image.RegistryMirrors;
import dev.kindbuild.kube.KubernetesSource;
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
        Optional<String> k8sSha256) {

    public NodeImageRequest {
        extraImages = List.copyOf(extraImages);
    }
}
