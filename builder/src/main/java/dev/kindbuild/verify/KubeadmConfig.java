package dev.kindbuild.verify;

import dev.kindbuild.kube.KubeVersion;

/**
 * The kubeadm configuration kind writes to {@code /kind/kubeadm.conf} for a single control-plane node, for a given
 * Kubernetes version: kubeadm API v1beta2 below 1.23 and v1beta3 from 1.23; the kubelet's cgroup driver cgroupfs
 * below 1.24 and systemd from 1.24; kubelet under {@code /kubelet}, swap tolerated, disk-based eviction off and
 * image GC never reclaiming the preloaded images.
 *
 * @param version     the node's Kubernetes version
 * @param nodeName    the node's name (its container's hostname)
 * @param nodeIp      the node's address, which the apiserver advertises
 * @param podSubnet   the cluster's pod subnet (kind's default 10.244.0.0/16)
 * @param serviceSubnet the cluster's service subnet (kind's default 10.96.0.0/16)
 */
public record KubeadmConfig(KubeVersion version, String nodeName, String nodeIp, String podSubnet, String serviceSubnet) {
    public static final String DEFAULT_POD_SUBNET = "10.244.0.0/16";
    public static final String DEFAULT_SERVICE_SUBNET = "10.96.0.0/16";

    public static KubeadmConfig forNode(KubeVersion version, String nodeName, String nodeIp) {
        return new KubeadmConfig(version, nodeName, nodeIp, DEFAULT_POD_SUBNET, DEFAULT_SERVICE_SUBNET);
    }

    /** kubeadm's config API for this version. */
    public String kubeadmApi() {
        return version.minor() >= 23 || version.major() > 1 ? "kubeadm.k8s.io/v1beta3" : "kubeadm.k8s.io/v1beta2";
    }

    /** The kubelet's cgroup driver for this version. */
    public String cgroupDriver() {
        return version.minor() >= 24 || version.major() > 1 ? "systemd" : "cgroupfs";
    }

    /** The taints kind removes from a single node so workloads schedule there. */
    public java.util.List<String> controlPlaneTaints() {
        int minor = version.major() > 1 ? Integer.MAX_VALUE : version.minor();
        if (minor < 24) return java.util.List.of("node-role.kubernetes.io/master");
        if (minor == 24) return java.util.List.of("node-role.kubernetes.io/master", "node-role.kubernetes.io/control-plane");
        return java.util.List.of("node-role.kubernetes.io/control-plane");
    }

    /** The rendered YAML documents. */
    public String render() {
        String api = kubeadmApi();
        return """
                apiVersion: %1$s
                kind: ClusterConfiguration
                metadata:
                  name: config
                kubernetesVersion: %2$s
                clusterName: kind
                controlPlaneEndpoint: "%4$s:6443"
                apiServer:
                  certSANs: [localhost, "127.0.0.1"]
                controllerManager:
                  extraArgs:
                    enable-hostpath-provisioner: "true"
                networking:
                  podSubnet: "%5$s"
                  serviceSubnet: "%6$s"
                ---
                apiVersion: %1$s
                kind: InitConfiguration
                metadata:
                  name: config
                bootstrapTokens:
                - token: "abcdef.0123456789abcdef"
                localAPIEndpoint:
                  advertiseAddress: "%4$s"
                  bindPort: 6443
                nodeRegistration:
                  name: "%3$s"
                  criSocket: "unix:///run/containerd/containerd.sock"
                  kubeletExtraArgs:
                    fail-swap-on: "false"
                    node-ip: "%4$s"
                    provider-id: "kind://docker/kind/%3$s"
                ---
                apiVersion: kubelet.config.k8s.io/v1beta1
                kind: KubeletConfiguration
                metadata:
                  name: config
                cgroupDriver: %7$s
                cgroupRoot: /kubelet
                failSwapOn: false
                evictionHard:
                  nodefs.available: "0%%"
                  nodefs.inodesFree: "0%%"
                  imagefs.available: "0%%"
                imageGCHighThresholdPercent: 100
                ---
                apiVersion: kubeproxy.config.k8s.io/v1alpha1
                kind: KubeProxyConfiguration
                metadata:
                  name: config
                mode: iptables
                iptables:
                  minSyncPeriod: 1s
                conntrack:
                  # A node cannot set the host-wide nf_conntrack_max: leave it as it is.
                  maxPerCore: 0
                """.formatted(api, version, nodeName, nodeIp, podSubnet, serviceSubnet, cgroupDriver());
    }
}
