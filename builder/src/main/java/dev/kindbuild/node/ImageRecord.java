package dev.kindbuild.node;

/**
 * One image baked into a node image.
 *
 * @param name         the name kubeadm/kubelet asks for, e.g. registry.k8s.io/pause:3.10
 * @param digest       the registry manifest digest it was pulled at (empty for images built with Kubernetes)
 * @param configDigest the image ID (config digest) in the tarball — what containerd keeps after import
 * @param file         its archive under /kind/images: a small OCI archive whose layers are in /kind/images/blobs
 * @param source       "release" (from the Kubernetes artifacts) or the registry it was pulled from
 * @param bytes        bytes in the node (archive and layers)
 */
public record ImageRecord(String name, String digest, String configDigest, String file, String source, long bytes) {}
