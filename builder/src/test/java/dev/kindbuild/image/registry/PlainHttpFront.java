package dev.kindbuild.image.registry;

import dev.kindbuild.testing.ByteRelay;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A TCP front for a test's plain-HTTP server that answers a TLS ClientHello the way Go's net/http (and so the
 * distribution registry) does: {@code 400 Bad Request} at once, instead of the JDK server's silence, which would make
 * every HTTPS attempt wait for the connect timeout. Everything else is piped to the backend unchanged.
 */
final class PlainHttpFront implements AutoCloseable {
    private final ServerSocket socket;
    private final int backendPort;
    private final InetAddress backend;

    PlainHttpFront(InetAddress address, InetAddress backend, int backendPort) throws IOException {
        this.socket = new ServerSocket();
        this.socket.bind(new InetSocketAddress(address, 0));
        this.backend = backend;
        this.backendPort = backendPort;
        Thread t = new Thread(this::acceptLoop, "plain-http-front");
        t.setDaemon(true);
        t.start();
    }

    String hostPort() {
        return socket.getInetAddress().getHostAddress() + ":" + socket.getLocalPort();
    }

    int port() {
        return socket.getLocalPort();
    }

    private void acceptLoop() {
        while (!socket.isClosed()) {
            try {
                Socket client = socket.accept();
                Thread t = new Thread(() -> serve(client), "plain-http-front-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket client) {
        try (client) {
            InputStream in = client.getInputStream();
            int first = in.read();
            if (first < 0) {
                return;
            }
            if (first == 0x16) { // TLS handshake record
                client.getOutputStream().write("HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n"
                        .getBytes(StandardCharsets.US_ASCII));
                return;
            }
            try (Socket up = new Socket(backend, backendPort)) {
                up.getOutputStream().write(first);
                Thread down = new Thread(() -> ByteRelay.relay(up, client), "plain-http-front-down");
                down.setDaemon(true);
                down.start();
                ByteRelay.relay(client, up);
                down.join();
            }
        } catch (IOException | InterruptedException e) {
            // the test sees the effect
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
