package dev.kindbuild.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A loopback TCP proxy in front of a real registry that breaks blob uploads the way networks and registries do. It
 * pipes bytes unchanged and watches the client's requests; once a blob upload ({@code PUT …/blobs/uploads/…}) has
 * sent {@code afterBytes} bytes, it either drops the connection (with a reset, once: later uploads pass) or stops
 * reading from the client and never answers (every upload from then on).
 */
public final class UploadFaultProxy implements AutoCloseable {
    /** What happens to a blob upload past the threshold. */
    public enum Fault { DROP_ONCE, STOP_READING }

    private static final Pattern REQUEST_LINE = Pattern.compile("(GET|HEAD|POST|PUT|PATCH|DELETE) (/v2/[^ \r\n]*) HTTP/1\\.1\r\n");

    private final ServerSocket socket;
    private final String upstreamHost;
    private final int upstreamPort;
    private final Fault fault;
    private final long afterBytes;
    private final AtomicBoolean dropped = new AtomicBoolean();
    private final AtomicInteger stalled = new AtomicInteger();
    private final List<String> requests = new CopyOnWriteArrayList<>();
    private final List<Socket> open = new CopyOnWriteArrayList<>();

    /** A proxy for {@code upstream} ({@code host:port}). */
    public UploadFaultProxy(String upstream, Fault fault, long afterBytes) throws IOException {
        this.upstreamHost = upstream.substring(0, upstream.lastIndexOf(':'));
        this.upstreamPort = Integer.parseInt(upstream.substring(upstream.lastIndexOf(':') + 1));
        this.fault = fault;
        this.afterBytes = afterBytes;
        this.socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::acceptLoop, "upload-fault-proxy");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** {@code 127.0.0.1:PORT}, to name as the registry. */
    public String host() {
        return "127.0.0.1:" + socket.getLocalPort();
    }

    /** Whether a connection was dropped mid-upload. */
    public boolean dropped() {
        return dropped.get();
    }

    /** How many uploads were left hanging. */
    public int stalled() {
        return stalled.get();
    }

    /** Every request line seen ({@code PUT /v2/…}), in order. */
    public List<String> requests() {
        return List.copyOf(requests);
    }

    private void acceptLoop() {
        while (!socket.isClosed()) {
            try {
                Socket client = socket.accept();
                open.add(client);
                Thread t = new Thread(() -> serve(client), "upload-fault-proxy-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException closed) {
                return;
            }
        }
    }

    private void serve(Socket client) {
        try (client; Socket up = new Socket(upstreamHost, upstreamPort)) {
            open.add(up);
            Thread down = new Thread(() -> ByteRelay.relay(up, client), "upload-fault-proxy-down");
            down.setDaemon(true);
            down.start();
            forwardWatching(client, up);
            down.join();
        } catch (IOException | InterruptedException e) {
            // the test sees the effect
        }
    }

    /** Client to registry, counting the bytes of the current request and breaking an upload past the threshold. */
    private void forwardWatching(Socket client, Socket up) throws IOException, InterruptedException {
        InputStream in = client.getInputStream();
        OutputStream out = up.getOutputStream();
        byte[] buf = new byte[16384];
        String tail = "";
        boolean inUpload = false;
        long sinceRequest = 0;
        for (int n; (n = in.read(buf)) > 0; ) {
            String text = tail + new String(buf, 0, n, StandardCharsets.ISO_8859_1);
            Matcher m = REQUEST_LINE.matcher(text);
            int lastStart = -1;
            while (m.find()) {
                if (m.end() <= tail.length()) {
                    continue; // seen with the previous chunk
                }
                lastStart = m.start();
                requests.add(m.group(1) + " " + m.group(2));
                inUpload = m.group(1).equals("PUT") && m.group(2).contains("/blobs/uploads/");
            }
            sinceRequest = lastStart >= 0 ? text.length() - lastStart : sinceRequest + n;
            tail = text.substring(Math.max(0, text.length() - 200));
            out.write(buf, 0, n);
            out.flush();
            if (inUpload && sinceRequest >= afterBytes) {
                if (fault == Fault.DROP_ONCE && dropped.compareAndSet(false, true)) {
                    client.setSoLinger(true, 0); // a reset, as a broken network gives
                    client.close();
                    up.close();
                    return;
                }
                if (fault == Fault.STOP_READING) {
                    stalled.incrementAndGet();
                    while (!socket.isClosed()) {
                        Thread.sleep(200);
                    }
                    return;
                }
            }
        }
        up.shutdownOutput();
    }

    @Override
    public void close() throws IOException {
        socket.close();
        for (Socket s : open) {
            s.close();
        }
    }
}
