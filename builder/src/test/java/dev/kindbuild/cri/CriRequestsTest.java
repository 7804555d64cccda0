package dev.kindbuild.cri;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kindbuild.cri.v1.ContainerState;
import dev.kindbuild.cri.v1.ContainerStatus;
import dev.kindbuild.cri.v1.CreateContainerRequest;
import dev.kindbuild.cri.v1.NamespaceMode;
import dev.kindbuild.cri.v1.PodSandboxConfig;
import dev.kindbuild.cri.v1.RuntimeCondition;
import dev.kindbuild.cri.v1.RuntimeStatus;
import dev.kindbuild.cri.v1.StatusResponse;
import io.grpc.Status;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class CriRequestsTest {
    private static final String UID = "1f2e3d4c-0000-4111-8222-933344445555";

    @Test
    void namesThePodCgroupAsKubeletDoesUnderKindsCgroupRoot() {
        assertEquals("kubelet-kubepods-besteffort-pod1f2e3d4c_0000_4111_8222_933344445555.slice",
                CriRequests.cgroupParent(PodPlan.CgroupDriver.SYSTEMD, UID));
        assertEquals("/kubelet/kubepods/besteffort/pod" + UID, CriRequests.cgroupParent(PodPlan.CgroupDriver.CGROUPFS, UID));
    }

    @Test
    void buildsTheSandboxAndContainerRequestsKubeletWouldSend() {
        PodPlan plan = new PodPlan("registry.k8s.io/pause:3.10", "registry.k8s.io/pause:3.10", PodPlan.CgroupDriver.SYSTEMD, UID);
        PodSandboxConfig sandbox = CriRequests.sandboxConfig(plan);
        assertEquals("cri-check-1f2e3d4c", sandbox.getMetadata().getName());
        assertEquals(UID, sandbox.getMetadata().getUid());
        assertEquals("kind-build-verify", sandbox.getMetadata().getNamespace());
        assertEquals("/var/log/pods/kind-build-verify_cri-check-1f2e3d4c_" + UID, sandbox.getLogDirectory());
        assertEquals(UID, sandbox.getLabelsOrThrow(CriRequests.LABEL));
        assertEquals(CriRequests.cgroupParent(PodPlan.CgroupDriver.SYSTEMD, UID), sandbox.getLinux().getCgroupParent());
        var ns = sandbox.getLinux().getSecurityContext().getNamespaceOptions();
        assertEquals(NamespaceMode.POD, ns.getNetwork());
        assertEquals(NamespaceMode.CONTAINER, ns.getPid());
        assertEquals(NamespaceMode.POD, ns.getIpc());

        CreateContainerRequest create = CriRequests.createContainer("sb1", sandbox, plan);
        assertEquals("sb1", create.getPodSandboxId());
        assertEquals(sandbox, create.getSandboxConfig());
        assertEquals("registry.k8s.io/pause:3.10", create.getConfig().getImage().getImage());
        assertEquals("check", create.getConfig().getMetadata().getName());
        assertEquals("check/0.log", create.getConfig().getLogPath());
        assertEquals(UID, create.getConfig().getLabelsOrThrow(CriRequests.LABEL));
    }

    @Test
    void aContainerCountsAsRunningOnlyInTheRunningState() {
        assertEquals(Optional.empty(), CriRequests.notRunning(ContainerStatus.newBuilder().setState(ContainerState.CONTAINER_RUNNING).build()));
        assertEquals(Optional.of("container is exited (exit code 127): Error exec: \"/pause\": no such file"),
                CriRequests.notRunning(ContainerStatus.newBuilder().setState(ContainerState.CONTAINER_EXITED).setExitCode(127)
                        .setReason("Error").setMessage("exec: \"/pause\": no such file").build()));
        assertEquals(Optional.of("container is created"),
                CriRequests.notRunning(ContainerStatus.newBuilder().setState(ContainerState.CONTAINER_CREATED).build()));
    }

    @Test
    void readsNetworkReadinessFromTheRuntimeConditions() {
        assertEquals(Optional.empty(), CriRequests.networkNotReady(status(true, "", "")));
        assertEquals(Optional.of("runtime not NetworkReady: NetworkPluginNotReady cni config uninitialized"),
                CriRequests.networkNotReady(status(false, "NetworkPluginNotReady", "cni config uninitialized")));
        assertEquals(Optional.of("runtime reports no NetworkReady condition"), CriRequests.networkNotReady(StatusResponse.getDefaultInstance()));
    }

    @Test
    void aFailedCallIsOneLineWithTheRuntimesMessage() {
        assertEquals("RunPodSandbox failed: UNKNOWN: failed to pull image",
                CriRequests.rpcFailure("RunPodSandbox", Status.UNKNOWN.withDescription("failed to pull image").asRuntimeException()));
        assertEquals("Version failed: UNAVAILABLE", CriRequests.rpcFailure("Version", Status.UNAVAILABLE.asRuntimeException()));
    }

    private static StatusResponse status(boolean networkReady, String reason, String message) {
        return StatusResponse.newBuilder().setStatus(RuntimeStatus.newBuilder()
                .addConditions(RuntimeCondition.newBuilder().setType("RuntimeReady").setStatus(true))
                .addConditions(RuntimeCondition.newBuilder().setType("NetworkReady").setStatus(networkReady).setReason(reason).setMessage(message)))
                .build();
    }
}
