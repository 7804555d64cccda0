package dev.kindbuild.cri;

import dev.kindbuild.cri.v1.ContainerFilter;
import dev.kindbuild.cri.v1.ContainerState;
import dev.kindbuild.cri.v1.ContainerStatus;
import dev.kindbuild.cri.v1.ContainerStatusRequest;
import dev.kindbuild.cri.v1.ImageServiceGrpc;
import dev.kindbuild.cri.v1.ImageSpec;
import dev.kindbuild.cri.v1.ImageStatusRequest;
import dev.kindbuild.cri.v1.ImageStatusResponse;
import dev.kindbuild.cri.v1.ListContainersRequest;
import dev.kindbuild.cri.v1.ListPodSandboxRequest;
import dev.kindbuild.cri.v1.PodSandbox;
import dev.kindbuild.cri.v1.PodSandboxConfig;
import dev.kindbuild.cri.v1.PodSandboxFilter;
import dev.kindbuild.cri.v1.PodSandboxState;
import dev.kindbuild.cri.v1.PodSandboxStatus;
import dev.kindbuild.cri.v1.PodSandboxStatusRequest;
import dev.kindbuild.cri.v1.RemoveContainerRequest;
import dev.kindbuild.cri.v1.RemovePodSandboxRequest;
import dev.kindbuild.cri.v1.RunPodSandboxRequest;
import dev.kindbuild.cri.v1.RuntimeServiceGrpc;
import dev.kindbuild.cri.v1.StartContainerRequest;
import dev.kindbuild.cri.v1.StatusRequest;
import dev.kindbuild.cri.v1.StopContainerRequest;
import dev.kindbuild.cri.v1.StopPodSandboxRequest;
import dev.kindbuild.cri.v1.VersionRequest;
import dev.kindbuild.cri.v1.VersionResponse;
import io.grpc.Channel;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What kubelet asks of a node's runtime to start a pod, over CRI v1: the sandbox image and a preloaded image are
 * there (no pull), the network is ready (CNI config), a pod sandbox runs under kubelet's cgroup parent, a container
 * starts in it and keeps running. Whatever happens, the container and the sandbox are stopped and removed (found by
 * label, so also when a reply was lost), and anything still there afterwards fails the check.
 */
public final class CriPodRun {
    /** The outcome: whether a pod ran, and what was seen (or why not). */
    public record Outcome(boolean ok, String detail) {}

    private static final Duration NETWORK_WAIT = Duration.ofSeconds(20);
    private static final Duration RUNNING_WAIT = Duration.ofSeconds(10);
    /** A container must still run this long after it was first seen running (an entrypoint that dies at once). */
    private static final Duration STAYS_UP = Duration.ofMillis(500);

    private final Channel channel;
    private final Duration rpcTimeout;

    public CriPodRun(Channel channel, Duration rpcTimeout) {
        this.channel = channel;
        this.rpcTimeout = rpcTimeout;
    }

    /** The CRI Version RPC (the API version kubelet ≥ 1.26 insists on: v1); {@link CriCallFailed} when unanswered. */
    public RuntimeVersion version() {
        try {
            VersionResponse v = runtime().version(VersionRequest.newBuilder().setVersion("v1").build());
            return new RuntimeVersion(v.getRuntimeName(), v.getRuntimeVersion(), v.getRuntimeApiVersion());
        } catch (StatusRuntimeException e) {
            throw new CriCallFailed(CriRequests.rpcFailure("Version", e), e);
        }
    }

    public Outcome run(PodPlan plan) {
        Outcome outcome;
        try {
            outcome = runPod(plan);
        } catch (StatusRuntimeException e) {
            outcome = new Outcome(false, CriRequests.rpcFailure("CRI call", e));
        }
        List<String> left = cleanUp(plan);
        if (!left.isEmpty()) {
            return new Outcome(false, outcome.detail() + "; left behind in the node: " + String.join(", ", left));
        }
        return outcome;
    }

    private Outcome runPod(PodPlan plan) {
        boolean pinReported = reportsPinned(version());
        for (String[] image : new String[][] {{"sandbox image", plan.sandboxImage()}, {"image", plan.image()}}) {
            ImageStatusResponse status = imageStatus(image[1]);
            if (!status.hasImage()) {
                return new Outcome(false, image[0] + " " + image[1] + " is not in the node's containerd: kubelet's pods would pull it");
            }
            if (pinReported && !status.getImage().getPinned()) {
                return new Outcome(false, image[0] + " " + image[1] + " is not pinned as the runtime reports it to kubelet: "
                        + "kubelet's image garbage collection may remove it");
            }
        }
        Optional<String> network = awaitNetwork();
        if (network.isPresent()) {
            return new Outcome(false, network.get());
        }
        PodSandboxConfig sandbox = CriRequests.sandboxConfig(plan);
        String sandboxId;
        try {
            sandboxId = runtime().runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(sandbox).build()).getPodSandboxId();
        } catch (StatusRuntimeException e) {
            return new Outcome(false, CriRequests.rpcFailure("RunPodSandbox", e));
        }
        PodSandboxStatus status = runtime().podSandboxStatus(PodSandboxStatusRequest.newBuilder().setPodSandboxId(sandboxId).build()).getStatus();
        if (status.getState() != PodSandboxState.SANDBOX_READY) {
            return new Outcome(false, "pod sandbox is " + status.getState() + " after RunPodSandbox");
        }
        String containerId;
        try {
            containerId = runtime().createContainer(CriRequests.createContainer(sandboxId, sandbox, plan)).getContainerId();
        } catch (StatusRuntimeException e) {
            return new Outcome(false, CriRequests.rpcFailure("CreateContainer", e));
        }
        try {
            runtime().startContainer(StartContainerRequest.newBuilder().setContainerId(containerId).build());
        } catch (StatusRuntimeException e) {
            return new Outcome(false, CriRequests.rpcFailure("StartContainer", e));
        }
        Optional<String> notRunning = awaitRunning(containerId);
        if (notRunning.isPresent()) {
            return new Outcome(false, notRunning.get());
        }
        String ip = status.getNetwork().getIp();
        return new Outcome(true, "pod sandbox (" + plan.sandboxImage() + ") ready" + (ip.isEmpty() ? "" : " at " + ip)
                + " under " + CriRequests.cgroupParent(plan.driver(), plan.podUid()) + " (" + plan.driver().name().toLowerCase()
                + " cgroup driver), container from " + plan.image() + " running; both removed"
                + (pinReported ? "; both images reported pinned" : ""));
    }

    private ImageStatusResponse imageStatus(String image) {
        return images().imageStatus(ImageStatusRequest.newBuilder().setImage(ImageSpec.newBuilder().setImage(image)).build());
    }

    /** containerd reports its pin label to kubelet (Image.pinned) from 1.7; 1.6 leaves the field unset. */
    static boolean reportsPinned(RuntimeVersion runtime) {
        Matcher m = Pattern.compile("^v?(\\d+)\\.(\\d+)").matcher(runtime.version());
        return runtime.name().equals("containerd") && m.find()
                && (Integer.parseInt(m.group(1)) > 1 || Integer.parseInt(m.group(1)) == 1 && Integer.parseInt(m.group(2)) >= 7);
    }

    private Optional<String> awaitNetwork() {
        long deadline = System.nanoTime() + NETWORK_WAIT.toNanos();
        while (true) {
            // containerd picks up a CNI config written a moment ago asynchronously.
            Optional<String> why = CriRequests.networkNotReady(runtime().status(StatusRequest.getDefaultInstance()));
            if (why.isEmpty() || System.nanoTime() > deadline) {
                return why;
            }
            sleep(250);
        }
    }

    private Optional<String> awaitRunning(String containerId) {
        long deadline = System.nanoTime() + RUNNING_WAIT.toNanos();
        boolean seenRunning = false;
        while (true) {
            ContainerStatus status = containerStatus(containerId);
            Optional<String> why = CriRequests.notRunning(status);
            if (why.isEmpty() && seenRunning) {
                return why;
            }
            // Only a container still being created is worth waiting for; one that exited will not run.
            boolean settled = status.getState() != ContainerState.CONTAINER_CREATED;
            if (why.isPresent() && (settled || seenRunning || System.nanoTime() > deadline)) {
                return why;
            }
            seenRunning = why.isEmpty();
            sleep(why.isEmpty() ? STAYS_UP.toMillis() : 100);
        }
    }

    private ContainerStatus containerStatus(String containerId) {
        return runtime().containerStatus(ContainerStatusRequest.newBuilder().setContainerId(containerId).build()).getStatus();
    }

    /** Stops and removes every container and sandbox carrying the check's label; returns what is still there. */
    private List<String> cleanUp(PodPlan plan) {
        List<String> errors = new ArrayList<>();
        try {
            for (var c : listContainers(plan)) {
                quietly(errors, "StopContainer", () -> runtime().stopContainer(
                        StopContainerRequest.newBuilder().setContainerId(c.getId()).setTimeout(0).build()));
                quietly(errors, "RemoveContainer", () -> runtime().removeContainer(
                        RemoveContainerRequest.newBuilder().setContainerId(c.getId()).build()));
            }
            for (PodSandbox s : listSandboxes(plan)) {
                quietly(errors, "StopPodSandbox", () -> runtime().stopPodSandbox(
                        StopPodSandboxRequest.newBuilder().setPodSandboxId(s.getId()).build()));
                quietly(errors, "RemovePodSandbox", () -> runtime().removePodSandbox(
                        RemovePodSandboxRequest.newBuilder().setPodSandboxId(s.getId()).build()));
            }
            List<String> left = new ArrayList<>();
            listContainers(plan).forEach(c -> left.add("container " + c.getId()));
            listSandboxes(plan).forEach(s -> left.add("pod sandbox " + s.getId()));
            if (!left.isEmpty() && !errors.isEmpty()) {
                left.add("(" + String.join("; ", errors) + ")");
            }
            return left;
        } catch (StatusRuntimeException e) {
            return List.of("unknown: " + CriRequests.rpcFailure("listing what the check created", e));
        }
    }

    private List<dev.kindbuild.cri.v1.Container> listContainers(PodPlan plan) {
        return runtime().listContainers(ListContainersRequest.newBuilder().setFilter(
                ContainerFilter.newBuilder().putLabelSelector(CriRequests.LABEL, plan.podUid())).build()).getContainersList();
    }

    private List<PodSandbox> listSandboxes(PodPlan plan) {
        return runtime().listPodSandbox(ListPodSandboxRequest.newBuilder().setFilter(
                PodSandboxFilter.newBuilder().putLabelSelector(CriRequests.LABEL, plan.podUid())).build()).getItemsList();
    }

    private static void quietly(List<String> errors, String rpc, Runnable call) {
        try {
            call.run();
        } catch (StatusRuntimeException e) {
            errors.add(CriRequests.rpcFailure(rpc, e));
        }
    }

    private RuntimeServiceGrpc.RuntimeServiceBlockingStub runtime() {
        return RuntimeServiceGrpc.newBlockingStub(channel).withDeadlineAfter(rpcTimeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    private ImageServiceGrpc.ImageServiceBlockingStub images() {
        return ImageServiceGrpc.newBlockingStub(channel).withDeadlineAfter(rpcTimeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted during the CRI check", e);
        }
    }
}
