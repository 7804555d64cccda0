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
        assertEquals(List.of("ClusterConfiguration", "InitConfiguration", "KubeletConfiguration", "KubeProxyConfiguration"),
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
}
