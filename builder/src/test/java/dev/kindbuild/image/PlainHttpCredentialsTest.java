package dev.kindbuild.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kindbuild.UserError;
import dev.kindbuild.progress.Progress;
import java.io.BufferedInputStream;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A plain-HTTP registry on loopback that demands credentials: the user's credentials are never sent to it (neither
 * by the tag look-up nor by the pull), and the failure is one line saying why, not an internal error.
 */
class PlainHttpCredentialsTest {

    @TempDir
    Path tmp;

    @Test
    void credentialsAreNotSentOverPlainHttpAndTheUserIsToldWhy() throws Exception {
        List<String> authorizations = new CopyOnWriteArrayList<>();
        // Like a real plain-HTTP registry: a TLS hello is refused at once (so clients fall back to HTTP), every HTTP
        // request gets 401 with a Basic challenge.
        ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread serving = new Thread(() -> {
            while (!server.isClosed()) {
                try (Socket s = server.accept()) {
                    s.setSoTimeout(5000);
                    BufferedInputStream in = new BufferedInputStream(s.getInputStream());
                    in.mark(1);
                    if (in.read() == 0x16) {
                        continue;
                    }
                    in.reset();
                    BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.ISO_8859_1));
                    for (String line = reader.readLine(); line != null && !line.isEmpty(); line = reader.readLine()) {
                        if (line.toLowerCase(java.util.Locale.ROOT).startsWith("authorization:")) {
                            authorizations.add(line);
                        }
                    }
                    byte[] body = "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"authentication required\"}]}"
                            .getBytes(StandardCharsets.UTF_8);
                    String head = "HTTP/1.1 401 Unauthorized\r\nDocker-Distribution-API-Version: registry/2.0\r\n"
                            + "WWW-Authenticate: Basic realm=\"test\"\r\nContent-Type: application/json\r\nContent-Length: "
                            + body.length + "\r\nConnection: close\r\n\r\n";
                    s.getOutputStream().write(head.getBytes(StandardCharsets.ISO_8859_1));
                    s.getOutputStream().write(body);
                    s.getOutputStream().flush();
                } catch (IOException closed) {
                    // next connection, or the server is closed
                }
            }
        });
        serving.setDaemon(true);
        serving.start();
        try {
            String host = "127.0.0.1:" + server.getLocalPort();
            Path config = tmp.resolve("config.json");
            String secret = Base64.getEncoder().encodeToString("alice:s3cret".getBytes(StandardCharsets.UTF_8));
            Files.writeString(config, "{\"auths\":{\"" + host + "\":{\"auth\":\"" + secret + "\"}}}");
            RegistryAccess access = RegistryAccess.defaults().withDockerConfig(config);
            ImagePuller puller = new ImagePuller(access, RegistryMirrors.parse(List.of()), ImageCache.at(tmp.resolve("cache")),
                    false, Progress.SILENT);

            UserError e = assertThrows(UserError.class, () -> puller.pull(ImageRef.parse(host + "/private/app:1"), "amd64", tmp));

            assertTrue(e.getMessage().contains("asks for credentials, which kind-build never sends over plain HTTP"), e.getMessage());
            assertTrue(e.getMessage().contains(host), e.getMessage());
            assertEquals(List.of(), authorizations, "credentials went over plain HTTP");
        } finally {
            server.close();
        }
    }
}
