package dev.kindbuild.node;

/** Where things live in a node image; the runtime (node-image/files) and the verify command read the same paths. */
public final class NodeLayout {
    private NodeLayout() {}

    /** Image tarballs the loader imports at boot. */
    public static final String IMAGES_DIR = "/kind/images";
    /** The list of baked-in images (JSON array of {@link ImageRecord}). */
    public static final String IMAGES_LIST = "/kind/images.json";
    /** The loader's summary, written at boot. */
    public static final String LOADER_SUMMARY = "/run/kind/images-loaded.json";
    public static final String VERSION_FILE = "/kind/version";
    public static final String LOADER_UNIT = "kind-load-images.service";
    /** The loader's unit file, and what `systemctl enable` makes of its WantedBy=multi-user.target. */
    public static final String LOADER_UNIT_FILE = "/etc/systemd/system/" + LOADER_UNIT;
    public static final String LOADER_UNIT_LINK = "/etc/systemd/system/multi-user.target.wants/" + LOADER_UNIT;
    public static final String CONTAINERD_CONFIG = "/etc/containerd/config.toml";
    /** What goes into /usr/bin from the Kubernetes release. */
    public static final java.util.List<String> KUBERNETES_BINARIES = java.util.List.of("kubeadm", "kubelet", "kubectl");

    /** Image labels on the committed node image. */
    public static final String LABEL_K8S_VERSION = "io.x-k8s.kind.kubernetes-version";
    public static final String LABEL_BASE_IMAGE = "io.x-k8s.kind.base-image";
    public static final String LABEL_IMAGES = "dev.kind-build.images";
}
