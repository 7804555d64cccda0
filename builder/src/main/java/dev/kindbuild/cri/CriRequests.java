package dev.kindbuild.cri;

import dev.kindbuild.cri.v1.ContainerConfig;
import dev.kindbuild.cri.v1.ContainerMetadata;
import dev.kindbuild.cri.v1.ContainerState;
import dev.kindbuild.cri.v1.ContainerStatus;
import dev.kindbuild.cri.v1.CreateContainerRequest;
import dev.kindbuild.cri.v1.ImageSpec;
import dev.kindbuild.cri.v1.LinuxPodSandboxConfig;
import dev.kindbuild.cri.v1.LinuxSandboxSecurityContext;
import dev.kindbuild.cri.v1.NamespaceMode;
import dev.kindbuild.cri.v1.NamespaceOption;
import dev.kindbuild.cri.v1.PodSandboxConfig;
import dev.kindbuild.cri.v1.PodSandboxMetadata;
import dev.kindbuild.cri.v1.RuntimeCondition;
import dev.kindbuild.cri.v1.StatusResponse;
import io.grpc.StatusRuntimeException;
import java.util.Optional;

/** The CRI requests the pod check sends, built as kubelet builds them for a BestEffort pod, and what replies mean. */
final class CriRequests {
    /** Marks the check's sandbox and container, so cleanup finds them even when a reply was lost. */
    static final String LABEL = "dev.kind-build.cri-check";
    static final String NAMESPACE = "kind-build-verify";
    static final String CONTAINER = "check";

    private CriRequests() {}

    /**
     * The pod's cgroup parent as kubelet names it with kind's {@code cgroupRoot: /kubelet}: a systemd slice under the
     * systemd driver (kubelet joins the path with '-' and escapes '-' in the UID as '_'), a path under cgroupfs.
     */
    static String cgroupParent(PodPlan.CgroupDriver driver, String podUid) {
        return switch (driver) {
            case SYSTEMD -> "kubelet-kubepods-besteffort-pod" + podUid.replace('-', '_') + ".slice";
            case CGROUPFS -> "/kubelet/kubepods/besteffort/pod" + podUid;
        };
    }

    static String podName(PodPlan plan) {
        return "cri-check-" + plan.podUid().substring(0, 8);
    }

    static PodSandboxConfig sandboxConfig(PodPlan plan) {
        String name = podName(plan);
        return PodSandboxConfig.newBuilder()
                .setMetadata(PodSandboxMetadata.newBuilder().setName(name).setUid(plan.podUid()).setNamespace(NAMESPACE))
                .setHostname(name)
                .setLogDirectory("/var/log/pods/" + NAMESPACE + "_" + name + "_" + plan.podUid())
                .putLabels(LABEL, plan.podUid())
                .putLabels("io.kubernetes.pod.name", name)
                .putLabels("io.kubernetes.pod.namespace", NAMESPACE)
                .putLabels("io.kubernetes.pod.uid", plan.podUid())
                .setLinux(LinuxPodSandboxConfig.newBuilder()
                        .setCgroupParent(cgroupParent(plan.driver(), plan.podUid()))
                        // kubelet's defaults for a pod: its own network and IPC, a PID namespace per container.
                        .setSecurityContext(LinuxSandboxSecurityContext.newBuilder().setNamespaceOptions(NamespaceOption.newBuilder()
                                .setNetwork(NamespaceMode.POD).setPid(NamespaceMode.CONTAINER).setIpc(NamespaceMode.POD))))
                .build();
    }

    static CreateContainerRequest createContainer(String sandboxId, PodSandboxConfig sandbox, PodPlan plan) {
        return CreateContainerRequest.newBuilder()
                .setPodSandboxId(sandboxId)
                .setConfig(ContainerConfig.newBuilder()
                        .setMetadata(ContainerMetadata.newBuilder().setName(CONTAINER))
                        .setImage(ImageSpec.newBuilder().setImage(plan.image()))
                        .putLabels(LABEL, plan.podUid())
                        .putLabels("io.kubernetes.container.name", CONTAINER)
                        .setLogPath(CONTAINER + "/0.log"))
                .setSandboxConfig(sandbox)
                .build();
    }

    /** Why a started container does not count as running; empty when it runs. */
    static Optional<String> notRunning(ContainerStatus status) {
        if (status.getState() == ContainerState.CONTAINER_RUNNING) {
            return Optional.empty();
        }
        StringBuilder why = new StringBuilder("container is ").append(status.getState().name().replace("CONTAINER_", "").toLowerCase());
        if (status.getState() == ContainerState.CONTAINER_EXITED) {
            why.append(" (exit code ").append(status.getExitCode()).append(')');
        }
        if (!status.getReason().isEmpty() || !status.getMessage().isEmpty()) {
            why.append(": ").append((status.getReason() + " " + status.getMessage()).strip());
        }
        return Optional.of(why.toString());
    }

    /** Why pods cannot get a network yet (no CNI config, plugin missing); empty when the runtime says NetworkReady. */
    static Optional<String> networkNotReady(StatusResponse status) {
        for (RuntimeCondition c : status.getStatus().getConditionsList()) {
            if (c.getType().equals("NetworkReady")) {
                return c.getStatus() ? Optional.empty()
                        : Optional.of("runtime not NetworkReady: " + (c.getReason() + " " + c.getMessage()).strip());
            }
        }
        return Optional.of("runtime reports no NetworkReady condition");
    }

    /** One line for a failed call: the RPC, the gRPC code and the runtime's own message. */
    static String rpcFailure(String rpc, StatusRuntimeException e) {
        String description = e.getStatus().getDescription();
        return rpc + " failed: " + e.getStatus().getCode() + (description == null ? "" : ": " + description);
    }
}
