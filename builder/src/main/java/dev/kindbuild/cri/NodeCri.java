package dev.kindbuild.cri;

import dev.kindbuild.engine.DockerEngine;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** A CRI v1 connection to a running node's runtime socket, through a {@link NodeSocketTunnel}; close it after use. */
public final class NodeCri implements AutoCloseable {
    private final NodeSocketTunnel tunnel;
    private final ManagedChannel channel;
    private final CriPodRun pods;

    private NodeCri(NodeSocketTunnel tunnel, Duration rpcTimeout) {
        this.tunnel = tunnel;
        // Plain HTTP/2: the runtime's socket is local to the node and has no TLS; the tunnel ends on loopback.
        this.channel = ManagedChannelBuilder.forAddress("127.0.0.1", tunnel.port()).usePlaintext().build();
        this.pods = new CriPodRun(channel, rpcTimeout);
    }

    public static NodeCri connect(DockerEngine engine, String containerId, String socketPath, Duration rpcTimeout) {
        return new NodeCri(NodeSocketTunnel.open(engine, containerId, socketPath), rpcTimeout);
    }

    /** The CRI calls: versions, and the pod run. */
    public CriPodRun runtime() {
        return pods;
    }

    /** What socat or the engine said when the socket could not be reached; empty if nothing. */
    public String tunnelError() {
        return tunnel.lastError();
    }

    @Override
    public void close() {
        channel.shutdownNow();
        try {
            channel.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            tunnel.close();
        }
    }
}
