package dev.kindbuild.cri;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kindbuild.cri.v1.Container;
import dev.kindbuild.cri.v1.ContainerState;
import dev.kindbuild.cri.v1.ContainerStatus;
import dev.kindbuild.cri.v1.ContainerStatusRequest;
import dev.kindbuild.cri.v1.ContainerStatusResponse;
import dev.kindbuild.cri.v1.CreateContainerRequest;
import dev.kindbuild.cri.v1.CreateContainerResponse;
import dev.kindbuild.cri.v1.Image;
import dev.kindbuild.cri.v1.ImageServiceGrpc;
import dev.kindbuild.cri.v1.ImageStatusRequest;
import dev.kindbuild.cri.v1.ImageStatusResponse;
import dev.kindbuild.cri.v1.ListContainersRequest;
import dev.kindbuild.cri.v1.ListContainersResponse;
import dev.kindbuild.cri.v1.ListPodSandboxRequest;
import dev.kindbuild.cri.v1.ListPodSandboxResponse;
import dev.kindbuild.cri.v1.PodSandbox;
import dev.kindbuild.cri.v1.PodSandboxNetworkStatus;
import dev.kindbuild.cri.v1.PodSandboxState;
import dev.kindbuild.cri.v1.PodSandboxStatus;
import dev.kindbuild.cri.v1.PodSandboxStatusRequest;
import dev.kindbuild.cri.v1.PodSandboxStatusResponse;
import dev.kindbuild.cri.v1.RemoveContainerRequest;
import dev.kindbuild.cri.v1.RemoveContainerResponse;
import dev.kindbuild.cri.v1.RemovePodSandboxRequest;
import dev.kindbuild.cri.v1.RemovePodSandboxResponse;
import dev.kindbuild.cri.v1.RunPodSandboxRequest;
import dev.kindbuild.cri.v1.RunPodSandboxResponse;
import dev.kindbuild.cri.v1.RuntimeCondition;
import dev.kindbuild.cri.v1.RuntimeServiceGrpc;
import dev.kindbuild.cri.v1.RuntimeStatus;
import dev.kindbuild.cri.v1.StartContainerRequest;
import dev.kindbuild.cri.v1.StartContainerResponse;
import dev.kindbuild.cri.v1.StatusRequest;
import dev.kindbuild.cri.v1.StatusResponse;
import dev.kindbuild.cri.v1.StopContainerRequest;
import dev.kindbuild.cri.v1.StopContainerResponse;
import dev.kindbuild.cri.v1.StopPodSandboxRequest;
import dev.kindbuild.cri.v1.StopPodSandboxResponse;
import dev.kindbuild.cri.v1.VersionRequest;
import dev.kindbuild.cri.v1.VersionResponse;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The pod check's calls and outcomes against an in-process fake runtime that keeps sandboxes and containers. */
class CriPodRunTest {
    private static final String PAUSE = "registry.k8s.io/pause:3.10";
    private static final PodPlan PLAN = new PodPlan(PAUSE, PAUSE, PodPlan.CgroupDriver.SYSTEMD, "1f2e3d4c-0000-4111-8222-933344445555");

    private final FakeRuntime runtime = new FakeRuntime();
    private Server server;
    private ManagedChannel channel;

    private CriPodRun start() throws Exception {
        String name = InProcessServerBuilder.generateName();
        server = InProcessServerBuilder.forName(name).directExecutor().addService(runtime).addService(runtime.images).build().start();
        channel = InProcessChannelBuilder.forName(name).directExecutor().build();
        return new CriPodRun(channel, Duration.ofSeconds(5));
    }

    @AfterEach
    void stop() {
        if (channel != null) {
            channel.shutdownNow();
        }
        if (server != null) {
            server.shutdownNow();
        }
    }

    @Test
    void anImageTheRuntimeDoesNotReportPinnedFailsBeforeAnyPod() throws Exception {
        runtime.images.unpinned = true;
        CriPodRun.Outcome outcome = start().run(PLAN);
        assertFalse(outcome.ok());
        assertTrue(outcome.detail().startsWith("sandbox image " + PAUSE + " is not pinned as the runtime reports it to kubelet"), outcome.detail());
        assertTrue(runtime.lifecycleCalls().isEmpty(), runtime.lifecycleCalls().toString());
    }

    @Test
    void containerdReportsPinnedImagesFrom17() {
        assertTrue(CriPodRun.reportsPinned(new RuntimeVersion("containerd", "2.1.9", "v1")));
        assertTrue(CriPodRun.reportsPinned(new RuntimeVersion("containerd", "1.7.24~ds1", "v1")));
        assertFalse(CriPodRun.reportsPinned(new RuntimeVersion("containerd", "1.6.20~ds1", "v1")));
        assertFalse(CriPodRun.reportsPinned(new RuntimeVersion("cri-o", "1.30.0", "v1")));
    }

    @Test
    void runsAPodThenStopsAndRemovesContainerAndSandbox() throws Exception {
        CriPodRun.Outcome outcome = start().run(PLAN);
        assertTrue(outcome.ok(), outcome.detail());
        assertEquals("pod sandbox (" + PAUSE + ") ready at 10.244.0.7 under kubelet-kubepods-besteffort-pod1f2e3d4c_0000_4111_8222_933344445555.slice"
                + " (systemd cgroup driver), container from " + PAUSE + " running; both removed; both images reported pinned", outcome.detail());
        assertEquals(List.of("Status", "RunPodSandbox", "PodSandboxStatus", "CreateContainer", "StartContainer",
                "StopContainer", "RemoveContainer", "StopPodSandbox", "RemovePodSandbox"), runtime.lifecycleCalls());
        assertTrue(runtime.sandboxes.isEmpty() && runtime.containers.isEmpty());
        assertEquals("kubelet-kubepods-besteffort-pod1f2e3d4c_0000_4111_8222_933344445555.slice", runtime.cgroupParent);
    }

    @Test
    void aContainerThatCannotStartFailsTheCheckAndLeavesNothing() throws Exception {
        runtime.startFails = true;
        CriPodRun.Outcome outcome = start().run(PLAN);
        assertFalse(outcome.ok());
        assertEquals("StartContainer failed: UNKNOWN: failed to create containerd task: OCI runtime create failed", outcome.detail());
        assertTrue(runtime.sandboxes.isEmpty() && runtime.containers.isEmpty(), runtime.sandboxes + " " + runtime.containers);
        assertTrue(runtime.lifecycleCalls().containsAll(List.of("RemoveContainer", "RemovePodSandbox")), runtime.calls.toString());
    }

    @Test
    void aContainerThatExitsFailsTheCheck() throws Exception {
        runtime.containerExits = true;
        CriPodRun.Outcome outcome = start().run(PLAN);
        assertFalse(outcome.ok());
        assertEquals("container is exited (exit code 1): Error", outcome.detail());
        assertTrue(runtime.sandboxes.isEmpty() && runtime.containers.isEmpty());
    }

    @Test
    void aMissingSandboxImageFailsBeforeAnythingIsCreated() throws Exception {
        runtime.images.present.remove(PAUSE);
        CriPodRun.Outcome outcome = start().run(PLAN);
        assertFalse(outcome.ok());
        assertEquals("sandbox image " + PAUSE + " is not in the node's containerd: kubelet's pods would pull it", outcome.detail());
        assertFalse(runtime.calls.contains("RunPodSandbox"));
    }

    @Test
    void whatTheRuntimeKeepsDespiteRemovalIsReported() throws Exception {
        runtime.removeSandboxIgnored = true;
        CriPodRun.Outcome outcome = start().run(PLAN);
        assertFalse(outcome.ok());
        assertTrue(outcome.detail().endsWith("; left behind in the node: pod sandbox sb-1"), outcome.detail());
    }

    @Test
    void reportsTheRuntimeVersions() throws Exception {
        assertEquals(new RuntimeVersion("containerd", "2.1.9", "v1"), start().version());
        assertEquals("containerd 2.1.9 (CRI v1)", new RuntimeVersion("containerd", "2.1.9", "v1").toString());
    }

    /** Keeps sandboxes and containers as containerd's CRI would, with switches for the ways a run fails. */
    static final class FakeRuntime extends RuntimeServiceGrpc.RuntimeServiceImplBase {
        final List<String> calls = Collections.synchronizedList(new ArrayList<>());
        final Map<String, Map<String, String>> sandboxes = new LinkedHashMap<>();
        final Map<String, Container> containers = new LinkedHashMap<>();
        final FakeImages images = new FakeImages();
        boolean startFails;
        boolean containerExits;
        boolean removeSandboxIgnored;
        String cgroupParent;
        private int ids;

        List<String> lifecycleCalls() {
            return calls.stream().filter(c -> !Set.of("Version", "ListContainers", "ListPodSandbox", "ContainerStatus", "ImageStatus").contains(c)).toList();
        }

        private <T> void reply(StreamObserver<T> out, String call, T value) {
            calls.add(call);
            out.onNext(value);
            out.onCompleted();
        }

        @Override
        public void version(VersionRequest r, StreamObserver<VersionResponse> out) {
            reply(out, "Version", VersionResponse.newBuilder().setVersion("0.1.0").setRuntimeName("containerd")
                    .setRuntimeVersion("2.1.9").setRuntimeApiVersion("v1").build());
        }

        @Override
        public void status(StatusRequest r, StreamObserver<StatusResponse> out) {
            reply(out, "Status", StatusResponse.newBuilder().setStatus(RuntimeStatus.newBuilder()
                    .addConditions(RuntimeCondition.newBuilder().setType("NetworkReady").setStatus(true))).build());
        }

        @Override
        public synchronized void runPodSandbox(RunPodSandboxRequest r, StreamObserver<RunPodSandboxResponse> out) {
            String id = "sb-" + ++ids;
            sandboxes.put(id, r.getConfig().getLabelsMap());
            cgroupParent = r.getConfig().getLinux().getCgroupParent();
            reply(out, "RunPodSandbox", RunPodSandboxResponse.newBuilder().setPodSandboxId(id).build());
        }

        @Override
        public void podSandboxStatus(PodSandboxStatusRequest r, StreamObserver<PodSandboxStatusResponse> out) {
            reply(out, "PodSandboxStatus", PodSandboxStatusResponse.newBuilder().setStatus(PodSandboxStatus.newBuilder()
                    .setId(r.getPodSandboxId()).setState(PodSandboxState.SANDBOX_READY)
                    .setNetwork(PodSandboxNetworkStatus.newBuilder().setIp("10.244.0.7"))).build());
        }

        @Override
        public synchronized void createContainer(CreateContainerRequest r, StreamObserver<CreateContainerResponse> out) {
            String id = "c-" + ++ids;
            containers.put(id, Container.newBuilder().setId(id).setPodSandboxId(r.getPodSandboxId())
                    .setState(ContainerState.CONTAINER_CREATED).build());
            reply(out, "CreateContainer", CreateContainerResponse.newBuilder().setContainerId(id).build());
        }

        @Override
        public synchronized void startContainer(StartContainerRequest r, StreamObserver<StartContainerResponse> out) {
            calls.add("StartContainer");
            if (startFails) {
                out.onError(Status.UNKNOWN.withDescription("failed to create containerd task: OCI runtime create failed").asRuntimeException());
                return;
            }
            containers.computeIfPresent(r.getContainerId(), (k, c) -> c.toBuilder().setState(ContainerState.CONTAINER_RUNNING).build());
            out.onNext(StartContainerResponse.getDefaultInstance());
            out.onCompleted();
        }

        @Override
        public synchronized void containerStatus(ContainerStatusRequest r, StreamObserver<ContainerStatusResponse> out) {
            Container c = containers.get(r.getContainerId());
            ContainerStatus.Builder s = ContainerStatus.newBuilder().setId(c.getId()).setState(c.getState());
            if (containerExits) {
                s.setState(ContainerState.CONTAINER_EXITED).setExitCode(1).setReason("Error");
            }
            reply(out, "ContainerStatus", ContainerStatusResponse.newBuilder().setStatus(s).build());
        }

        @Override
        public synchronized void stopContainer(StopContainerRequest r, StreamObserver<StopContainerResponse> out) {
            containers.computeIfPresent(r.getContainerId(), (k, c) -> c.toBuilder().setState(ContainerState.CONTAINER_EXITED).build());
            reply(out, "StopContainer", StopContainerResponse.getDefaultInstance());
        }

        @Override
        public synchronized void removeContainer(RemoveContainerRequest r, StreamObserver<RemoveContainerResponse> out) {
            containers.remove(r.getContainerId());
            reply(out, "RemoveContainer", RemoveContainerResponse.getDefaultInstance());
        }

        @Override
        public void stopPodSandbox(StopPodSandboxRequest r, StreamObserver<StopPodSandboxResponse> out) {
            reply(out, "StopPodSandbox", StopPodSandboxResponse.getDefaultInstance());
        }

        @Override
        public synchronized void removePodSandbox(RemovePodSandboxRequest r, StreamObserver<RemovePodSandboxResponse> out) {
            if (!removeSandboxIgnored) {
                sandboxes.remove(r.getPodSandboxId());
                containers.values().removeIf(c -> c.getPodSandboxId().equals(r.getPodSandboxId()));
            }
            reply(out, "RemovePodSandbox", RemovePodSandboxResponse.getDefaultInstance());
        }

        @Override
        public synchronized void listContainers(ListContainersRequest r, StreamObserver<ListContainersResponse> out) {
            // Every container here is the check's: the fake ignores the label filter, so a wrong filter shows as leftovers.
            reply(out, "ListContainers", ListContainersResponse.newBuilder().addAllContainers(containers.values()).build());
        }

        @Override
        public synchronized void listPodSandbox(ListPodSandboxRequest r, StreamObserver<ListPodSandboxResponse> out) {
            ListPodSandboxResponse.Builder b = ListPodSandboxResponse.newBuilder();
            sandboxes.forEach((id, labels) -> {
                if (labels.entrySet().containsAll(r.getFilter().getLabelSelectorMap().entrySet())) {
                    b.addItems(PodSandbox.newBuilder().setId(id).setState(PodSandboxState.SANDBOX_READY));
                }
            });
            reply(out, "ListPodSandbox", b.build());
        }

        /** Knows the pause image unless a test removes it. */
        final class FakeImages extends ImageServiceGrpc.ImageServiceImplBase {
            final Set<String> present = new java.util.HashSet<>(Set.of(PAUSE));
            boolean unpinned;

            @Override
            public void imageStatus(ImageStatusRequest r, StreamObserver<ImageStatusResponse> out) {
                ImageStatusResponse.Builder b = ImageStatusResponse.newBuilder();
                if (present.contains(r.getImage().getImage())) {
                    b.setImage(Image.newBuilder().setId("sha256:1").addRepoTags(r.getImage().getImage()).setPinned(!unpinned));
                }
                reply(out, "ImageStatus", b.build());
            }
        }
    }
}
