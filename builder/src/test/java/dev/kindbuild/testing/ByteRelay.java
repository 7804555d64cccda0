package dev.kindbuild.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;

/** One direction of a test proxy's connection: bytes from one socket to the other, as they come, until EOF. */
public final class ByteRelay {
    private ByteRelay() {}

    /** Copies {@code from} to {@code to} until {@code from} ends, then ends {@code to}'s output; a closed socket ends it. */
    public static void relay(Socket from, Socket to) {
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            byte[] buf = new byte[16384];
            for (int n; (n = in.read(buf)) > 0; ) {
                out.write(buf, 0, n);
                out.flush();
            }
            to.shutdownOutput();
        } catch (IOException e) {
            // connection closed
        }
    }
}
