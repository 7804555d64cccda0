package dev.kindbuild.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A Docker engine endpoint (tcp://127.0.0.1:PORT) that relays to the real engine's socket and stops relaying — the
 * connection stays open, nothing answers — at the first request whose line starts with {@code method} and contains
 * {@code pathPart}: a build is reliably caught inside one engine call (e.g. copying files into its builder).
 */
public final class StallingEngineProxy implements AutoCloseable {
    private final ServerSocket server;
    private final Path engineSocket;
    private final String method;
    private final String pathPart;
    private final List<AutoCloseable> open = new CopyOnWriteArrayList<>();
    private volatile boolean stalled;

    public StallingEngineProxy(Path engineSocket, String method, String pathPart) throws IOException {
        this.engineSocket = engineSocket;
        this.method = method;
        this.pathPart = pathPart;
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread accept = new Thread(this::serve, "stalling-engine-proxy");
        accept.setDaemon(true);
        accept.start();
    }

    /** What DOCKER_HOST should say. */
    public String dockerHost() {
        return "tcp://127.0.0.1:" + server.getLocalPort();
    }

    /** Whether a request was held. */
    public boolean stalled() {
        return stalled;
    }

    private void serve() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                SocketChannel engine = SocketChannel.open(StandardProtocolFamily.UNIX);
                engine.connect(UnixDomainSocketAddress.of(engineSocket));
                open.add(client);
                open.add(engine);
                // The channel is read and written directly: Channels' streams share one lock, and a blocked read would
                // hold up every write.
                start(() -> toEngine(client.getInputStream(), engine));
                start(() -> fromEngine(engine, client.getOutputStream()));
            } catch (IOException e) {
                // closed
            }
        }
    }

    private interface Relay {
        void run() throws IOException;
    }

    private static void start(Relay relay) {
        Thread t = new Thread(() -> {
            try {
                relay.run();
            } catch (IOException e) {
                // connection closed
            }
        }, "stalling-engine-relay");
        t.setDaemon(true);
        t.start();
    }

    /** Client to engine, watching request lines; from the matching one on, nothing more is passed. */
    private void toEngine(InputStream in, SocketChannel out) throws IOException {
        byte[] buf = new byte[16384];
        String tail = "";
        for (int n; (n = in.read(buf)) > 0; ) {
            String seen = tail + new String(buf, 0, n, StandardCharsets.ISO_8859_1);
            for (String line : seen.split("\r\n")) {
                if (line.startsWith(method + " ") && line.contains(pathPart)) {
                    stalled = true;
                    in.transferTo(OutputStream.nullOutputStream());
                    return;
                }
            }
            tail = seen.substring(Math.max(0, seen.length() - 512));
            ByteBuffer b = ByteBuffer.wrap(buf, 0, n);
            while (b.hasRemaining()) {
                out.write(b);
            }
        }
        out.shutdownOutput();
    }

    private static void fromEngine(SocketChannel in, OutputStream out) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(16384);
        while (in.read(buf) > 0) {
            out.write(buf.array(), 0, buf.position());
            out.flush();
            buf.clear();
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (AutoCloseable c : open) {
            try {
                c.close();
            } catch (Exception e) {
                // already closed
            }
        }
    }
}
