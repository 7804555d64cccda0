package dev.kindbuild.node.pipeline;

import dev.kindbuild.kube.KubernetesArtifacts;
import dev.kindbuild.node.AddonManifests;
import dev.kindbuild.node.RequiredImages;
import dev.kindbuild.recipe.RecipeTree;
import java.util.List;

/**
 * A node image before it is written: Kubernetes resolved, the base and every pulled image in the store, and the inputs
 * that name the result. Both writers start from it; only the last step differs.
 *
 * @param tag          the node image's tag
 * @param arch         its architecture
 * @param k8s          the Kubernetes release (binaries and control-plane image archives)
 * @param base         the base image, in the store
 * @param required     the images a cluster of this version needs
 * @param releaseNames the names the release's image archives go in under ({@link ImagesInStore#releaseNames})
 * @param pulled       the required images the release does not bring, pulled into the store
 * @param manifests    kind's addon manifests
 * @param nodeFiles    the node runtime (node-image/files)
 * @param inputs       everything the image is made from
 */
record NodePlan(String tag, String arch, KubernetesArtifacts k8s, ObtainBaseImage.Base base, RequiredImages.Required required,
        List<String> releaseNames, List<ImagesInStore.NodeImage> pulled, AddonManifests manifests, RecipeTree nodeFiles,
        NodeInputs inputs) {}
