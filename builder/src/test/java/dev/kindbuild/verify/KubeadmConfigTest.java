package dev.kindbuild.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kindbuild.kube.KubeVersion;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/** kind's kubeadm config per Kubernetes version: API version, cgroup driver, kubelet settings, taints. */
class KubeadmConfigTest {

    private static KubeadmConfig config(String version) {
        return KubeadmConfig.forNode(KubeVersion.parse(version, "test"), "node-a", "172.18.0.2");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Map<String, Object>> documents(KubeadmConfig c) {
        Map<String, Map<String, Object>> byKind = new java.util.LinkedHashMap<>();
        for (Object doc : new Yaml(new SafeConstructor(new LoaderOptions())).loadAll(c.render())) {
            Map<String, Object> m = (Map<String, Object>) doc;
            byKind.put((String) m.get("kind"), m);
        }
        return byKind;
    }

    @Test
    void v120UsesV1beta2AndCgroupfs() {
        var docs = documents(config("v1.20.2"));
        assertEquals(List.of("ClusterConfiguration", "InitConfiguration", "JoinConfiguration", "KubeletConfiguration", "KubeProxyConfiguration"),
                List.copyOf(docs.keySet()));
        assertEquals("kubeadm.k8s.io/v1beta2", docs.get("ClusterConfiguration").get("apiVersion"));
        assertEquals("kubeadm.k8s.io/v1beta2", docs.get("InitConfiguration").get("apiVersion"));
        assertEquals("v1.20.2", docs.get("ClusterConfiguration").get("kubernetesVersion"));
        assertEquals("172.18.0.2:6443", docs.get("ClusterConfiguration").get("controlPlaneEndpoint"));
        Map<String, Object> kubelet = docs.get("KubeletConfiguration");
        assertEquals("cgroupfs", kubelet.get("cgroupDriver"));
        assertEquals("/kubelet", kubelet.get("cgroupRoot"));
        assertEquals(false, kubelet.get("failSwapOn"));
        assertEquals(100, kubelet.get("imageGCHighThresholdPercent"));
        assertEquals(Map.of("nodefs.available", "0%", "nodefs.inodesFree", "0%", "imagefs.available", "0%"), kubelet.get("evictionHard"));
        assertEquals(List.of("node-role.kubernetes.io/master"), config("v1.20.2").controlPlaneTaints());
    }

    @Test
    void v123SwitchesToV1beta3AndV124ToSystemd() {
        assertEquals("kubeadm.k8s.io/v1beta2", config("v1.22.17").kubeadmApi());
        assertEquals("kubeadm.k8s.io/v1beta3", config("v1.23.0").kubeadmApi());
        assertEquals("cgroupfs", config("v1.23.17").cgroupDriver());
        assertEquals("systemd", config("v1.24.0").cgroupDriver());
        assertEquals("systemd", documents(config("v1.31.2")).get("KubeletConfiguration").get("cgroupDriver"));
        assertEquals(List.of("node-role.kubernetes.io/master", "node-role.kubernetes.io/control-plane"), config("v1.24.3").controlPlaneTaints());
        assertEquals(List.of("node-role.kubernetes.io/control-plane"), config("v1.25.0").controlPlaneTaints());
    }

    @Test
    void initConfigurationNamesTheNodeAndItsAddress() {
        @SuppressWarnings("unchecked")
        Map<String, Object> registration = (Map<String, Object>) documents(config("v1.20.2")).get("InitConfiguration").get("nodeRegistration");
        assertEquals("node-a", registration.get("name"));
        assertEquals("unix:///run/containerd/containerd.sock", registration.get("criSocket"));
        assertTrue(registration.get("kubeletExtraArgs").toString().contains("node-ip=172.18.0.2"), registration.toString());
    }

    @Test
    void v136IsV1beta4WithExtraArgsAsNameValueLists() {
        KubeadmConfig c = config("v1.36.1");
        assertEquals("kubeadm.k8s.io/v1beta4", c.kubeadmApi());
        var docs = documents(c);
        for (String kind : List.of("ClusterConfiguration", "InitConfiguration", "JoinConfiguration")) {
            assertEquals("kubeadm.k8s.io/v1beta4", docs.get(kind).get("apiVersion"), kind);
        }
        assertEquals(List.of(Map.of("name", "enable-hostpath-provisioner", "value", "true")),
                ((Map<?, ?>) docs.get("ClusterConfiguration").get("controllerManager")).get("extraArgs"));
        for (String kind : List.of("InitConfiguration", "JoinConfiguration")) {
            Object args = ((Map<?, ?>) docs.get(kind).get("nodeRegistration")).get("kubeletExtraArgs");
            assertEquals(List.of(Map.of("name", "fail-swap-on", "value", "false"), Map.of("name", "node-ip", "value", "172.18.0.2"),
                    Map.of("name", "provider-id", "value", "kind://docker/kind/node-a")), args, kind);
        }
        assertEquals("kubeadm.k8s.io/v1beta4", config("v1.37.0").kubeadmApi());
        assertEquals("kubeadm.k8s.io/v1beta3", config("v1.35.4").kubeadmApi());
        // v1beta3 keeps maps
        assertEquals(Map.of("enable-hostpath-provisioner", "true"),
                ((Map<?, ?>) documents(config("v1.35.4")).get("ClusterConfiguration").get("controllerManager")).get("extraArgs"));
    }

    @Test
    void preflightIsSkippedInTheConfigFrom123AndOnTheCommandLineBelow() {
        // kind's GenerateBootstrapCommand: the flag only below 1.23; from 1.23 skipPhases in Init- and JoinConfiguration.
        assertEquals(List.of("kubeadm", "init", "--config=/kind/kubeadm.conf", "--skip-token-print", "--v=6", "--skip-phases=preflight"),
                config("v1.22.17").initCommand());
        assertEquals(List.of("kubeadm", "init", "--config=/kind/kubeadm.conf", "--skip-token-print", "--v=6"), config("v1.23.0").initCommand());
        assertEquals(List.of("kubeadm", "init", "--config=/kind/kubeadm.conf", "--skip-token-print", "--v=6"), config("v1.37.0").initCommand());
        for (String v : List.of("v1.23.0", "v1.31.2", "v1.36.0")) {
            var docs = documents(config(v));
            assertEquals(List.of("preflight"), docs.get("InitConfiguration").get("skipPhases"), v);
            assertEquals(List.of("preflight"), docs.get("JoinConfiguration").get("skipPhases"), v);
        }
        var v120 = documents(config("v1.20.2"));
        assertTrue(!v120.get("InitConfiguration").containsKey("skipPhases") && !v120.get("JoinConfiguration").containsKey("skipPhases"),
                "v1beta2 has no skipPhases");
    }

    @Test
    void joinConfigurationPointsAtTheNode() {
        @SuppressWarnings("unchecked")
        Map<String, Object> token = (Map<String, Object>) ((Map<?, ?>) documents(config("v1.31.2")).get("JoinConfiguration").get("discovery"))
                .get("bootstrapToken");
        assertEquals(Map.of("apiServerEndpoint", "172.18.0.2:6443", "token", "abcdef.0123456789abcdef", "unsafeSkipCAVerification", true), token);
    }

    @Test
    void kubernetes135OrNewerIsRefusedAtOnceOnACgroupV1Host() {
        ClusterVerifier.refuseOnHost(KubeVersion.parse("v1.34.3", "t"), 1, "kindest/node:v1.34.3");
        ClusterVerifier.refuseOnHost(KubeVersion.parse("v1.37.0", "t"), 2, "kindest/node:v1.37.0");
        dev.kindbuild.UserError e = org.junit.jupiter.api.Assertions.assertThrows(dev.kindbuild.UserError.class,
                () -> ClusterVerifier.refuseOnHost(KubeVersion.parse("v1.35.0", "t"), 1, "kindest/node:v1.35.0"));
        assertTrue(e.getMessage().startsWith("cannot run a cluster of kindest/node:v1.35.0 here: the kubelet of Kubernetes v1.35.0 refuses "
                + "a cgroup v1 host"), e.getMessage());
        assertTrue(e.getMessage().contains("cgroup v2 host") && !e.getMessage().contains("\n"), e.getMessage());
    }
}
