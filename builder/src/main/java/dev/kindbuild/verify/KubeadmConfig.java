package dev.kindbuild.verify;

import dev.kindbuild.kube.KubeVersion;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The kubeadm configuration kind writes to {@code /kind/kubeadm.conf} for a single control-plane node, for a given
 * Kubernetes version, and the {@code kubeadm init} command kind runs with it (kind's
 * {@code pkg/cluster/internal/kubeadm/config.go} and {@code kubeadminit/init.go}):
 * <ul>
 * <li>kubeadm API v1beta2 below 1.23, v1beta3 from 1.23, v1beta4 from 1.36 (kind v0.32; v1beta4's {@code extraArgs}
 * and {@code kubeletExtraArgs} are lists of {@code {name, value}});</li>
 * <li>preflight skipped with {@code --skip-phases=preflight} below 1.23 and with {@code skipPhases: [preflight]} in
 * the Init and JoinConfiguration from 1.23 (kind v0.24; v1beta2 has no such field);</li>
 * <li>the kubelet's cgroup driver cgroupfs below 1.24 and systemd from 1.24;</li>
 * <li>kubelet under {@code /kubelet}, swap tolerated, disk-based eviction off and image GC never reclaiming the
 * preloaded images.</li>
 * </ul>
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
    public static final String PATH = "/kind/kubeadm.conf";

    public static KubeadmConfig forNode(KubeVersion version, String nodeName, String nodeIp) {
        return new KubeadmConfig(version, nodeName, nodeIp, DEFAULT_POD_SUBNET, DEFAULT_SERVICE_SUBNET);
    }

    /** The 1.x minor, with any later major counted as newer than every 1.x. */
    private int minor() {
        return version.major() > 1 ? Integer.MAX_VALUE : version.minor();
    }

    /** kubeadm's config API for this version. */
    public String kubeadmApi() {
        return minor() >= 36 ? "kubeadm.k8s.io/v1beta4" : minor() >= 23 ? "kubeadm.k8s.io/v1beta3" : "kubeadm.k8s.io/v1beta2";
    }

    /** Whether preflight is skipped in the configuration ({@code skipPhases}) rather than on the command line. */
    public boolean skipsPhasesInConfig() {
        return minor() >= 23;
    }

    /** The kubelet's cgroup driver for this version. */
    public String cgroupDriver() {
        return minor() >= 24 ? "systemd" : "cgroupfs";
    }

    /** {@code kubeadm init} as kind runs it on the first control-plane node. */
    public List<String> initCommand() {
        List<String> command = new ArrayList<>(List.of("kubeadm", "init", "--config=" + PATH, "--skip-token-print", "--v=6"));
        if (!skipsPhasesInConfig()) {
            command.add("--skip-phases=preflight");
        }
        return command;
    }

    /** The taints kind removes from a single node so workloads schedule there. */
    public List<String> controlPlaneTaints() {
        if (minor() < 24) return List.of("node-role.kubernetes.io/master");
        if (minor() == 24) return List.of("node-role.kubernetes.io/master", "node-role.kubernetes.io/control-plane");
        return List.of("node-role.kubernetes.io/control-plane");
    }

    /** The rendered YAML documents. */
    public String render() {
        String api = kubeadmApi();
        Map<String, String> kubeletArgs = new LinkedHashMap<>();
        kubeletArgs.put("fail-swap-on", "false");
        kubeletArgs.put("node-ip", nodeIp);
        kubeletArgs.put("provider-id", "kind://docker/kind/" + nodeName);
        String skipPhases = skipsPhasesInConfig() ? "skipPhases:\n- preflight\n" : "";
        String nodeRegistration = """
                nodeRegistration:
                  name: "%s"
                  criSocket: "unix:///run/containerd/containerd.sock"
                  kubeletExtraArgs:
                %s""".formatted(nodeName, args(kubeletArgs, "    "));
        return """
                apiVersion: %1$s
                kind: ClusterConfiguration
                metadata:
                  name: config
                kubernetesVersion: %2$s
                clusterName: kind
                controlPlaneEndpoint: "%3$s:6443"
                apiServer:
                  certSANs: [localhost, "127.0.0.1"]
                controllerManager:
                  extraArgs:
                %4$s\
                networking:
                  podSubnet: "%5$s"
                  serviceSubnet: "%6$s"
                ---
                apiVersion: %1$s
                kind: InitConfiguration
                metadata:
                  name: config
                bootstrapTokens:
                - token: "%7$s"
                localAPIEndpoint:
                  advertiseAddress: "%3$s"
                  bindPort: 6443
                %8$s%9$s\
                ---
                apiVersion: %1$s
                kind: JoinConfiguration
                metadata:
                  name: config
                %8$s\
                discovery:
                  bootstrapToken:
                    apiServerEndpoint: "%3$s:6443"
                    token: "%7$s"
                    unsafeSkipCAVerification: true
                %9$s\
                ---
                apiVersion: kubelet.config.k8s.io/v1beta1
                kind: KubeletConfiguration
                metadata:
                  name: config
                cgroupDriver: %10$s
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
                """.formatted(api, version, nodeIp, args(Map.of("enable-hostpath-provisioner", "true"), "    "), podSubnet,
                serviceSubnet, TOKEN, nodeRegistration, skipPhases, cgroupDriver());
    }

    /** kind's well-known bootstrap token (the node is on a network with no route out). */
    static final String TOKEN = "abcdef.0123456789abcdef";

    /** Extra arguments as this API wants them: a map up to v1beta3, a list of {@code {name, value}} from v1beta4. */
    private String args(Map<String, String> args, String indent) {
        StringBuilder out = new StringBuilder();
        boolean list = minor() >= 36;
        for (Map.Entry<String, String> a : args.entrySet()) {
            if (list) {
                out.append(indent).append("- name: ").append(a.getKey()).append('\n')
                        .append(indent).append("  value: \"").append(a.getValue()).append("\"\n");
            } else {
                out.append(indent).append(a.getKey()).append(": \"").append(a.getValue()).append("\"\n");
            }
        }
        return out.toString();
    }
}
