package dev.kindbuild.cri;

import dev.kindbuild.engine.DockerEngine;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;

/**
 * A loopback TCP port on the host whose every connection is piped into a Unix socket inside a running node container,
 * through {@code socat - UNIX-CONNECT:<socket>} started with the engine's exec API. A running node has no network
 * (verify --offline) and no socket bind mount, and the engine may be remote, so exec is the one way in.
 */
public final class NodeSocketTunnel implements AutoCloseable {
    private final DockerEngine engine;
    private final String containerId;
    private final String socketPath;
    private final ServerSocket server;
    private final List<Socket> sockets = new ArrayList<>();
    private final List<DockerEngine.Pipe> pipes = new ArrayList<>();
    private volatile String lastError = "";

    private NodeSocketTunnel(DockerEngine engine, String containerId, String socketPath, ServerSocket server) {
        this.engine = engine;
        this.containerId = containerId;
        this.socketPath = socketPath;
        this.server = server;
    }

    /** Listens on 127.0.0.1 (a free port) and pipes each connection to {@code socketPath} in {@code containerId}. */
    public static NodeSocketTunnel open(DockerEngine engine, String containerId, String socketPath) {
        try {
            ServerSocket server = new ServerSocket(0, 4, InetAddress.getLoopbackAddress());
            NodeSocketTunnel tunnel = new NodeSocketTunnel(engine, containerId, socketPath, server);
            Thread accept = new Thread(tunnel::acceptLoop, "cri-tunnel-" + server.getLocalPort());
            accept.setDaemon(true);
            accept.start();
            return tunnel;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on a loopback port for the node's " + socketPath, e);
        }
    }

    public int port() {
        return server.getLocalPort();
    }

    /** What socat (or the engine) last said on stderr, e.g. that the socket is missing; empty when nothing was said. */
    public String lastError() {
        return lastError.strip();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            Socket socket;
            try {
                socket = server.accept();
            } catch (IOException e) {
                return; // closed
            }
            try {
                socket.setTcpNoDelay(true);
                DockerEngine.Pipe pipe = engine.execPipe(containerId, List.of("socat", "-", "UNIX-CONNECT:" + socketPath),
                        endOnError(socket.getInputStream()), socket.getOutputStream(), err -> lastError = err);
                synchronized (this) {
                    sockets.add(socket);
                    pipes.add(pipe);
                }
                // When socat ends (the runtime closed the connection), the client must see its connection end too.
                Thread watch = new Thread(() -> {
                    try {
                        pipe.awaitEnd();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    closeQuietly(socket);
                }, "cri-tunnel-watch");
                watch.setDaemon(true);
                watch.start();
            } catch (RuntimeException | IOException e) {
                lastError = "exec socat in the node failed: " + e.getMessage();
                closeQuietly(socket);
            }
        }
    }

    @Override
    public void close() {
        closeQuietly(server);
        List<AutoCloseable> toClose = new ArrayList<>();
        synchronized (this) {
            // Connections first: the engine's stdin copy then reads an end, not a write into a closed attachment.
            toClose.addAll(sockets);
            toClose.addAll(pipes);
            sockets.clear();
            pipes.clear();
        }
        toClose.forEach(NodeSocketTunnel::closeQuietly);
    }

    /** docker-java's stdin copy thread dies with a stack trace on stderr at a read error; a closed connection is an end. */
    private static InputStream endOnError(InputStream in) {
        return new FilterInputStream(in) {
            @Override
            public int read() {
                try {
                    return super.read();
                } catch (IOException e) {
                    return -1;
                }
            }

            @Override
            public int read(byte[] b, int off, int len) {
                try {
                    return super.read(b, off, len);
                } catch (IOException e) {
                    return -1;
                }
            }
        };
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            // closing a pipe whose other end is gone: nothing to release
        }
    }
}
