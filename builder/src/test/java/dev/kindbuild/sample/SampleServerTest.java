package dev.kindbuild.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kindbuild.support.Sha256;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SampleServerTest {
    @TempDir
    Path tmp;
    final HttpClient http = HttpClient.newHttpClient();

    @Test
    void servesTheReleaseLayoutAndCountsRequests() throws Exception {
        Path www = tmp.resolve("www");
        SampleRelease.Written w = SampleRelease.writeRelease(www, "v1.33.1", "amd64");
        Files.writeString(tmp.resolve("secret"), "outside");
        try (SampleServer server = SampleServer.start(www)) {
            assertTrue(server.baseUri().toString().matches("http://127\\.0\\.0\\.1:\\d+"), server.baseUri().toString());
            String path = "/v1.33.1/kubernetes-server-linux-amd64.tar.gz";
            HttpResponse<byte[]> tar = get(server.uri(path));
            assertEquals(200, tar.statusCode());
            assertEquals(w.sha256(), Sha256.of(tar.body()));
            assertEquals(w.sha256(), body(server.uri(path + ".sha256")));
            assertEquals(404, get(server.uri("/v1.0.0/nope")).statusCode());
            assertEquals(1, server.requests(path));
            assertEquals(Map.of(path, 1, path + ".sha256", 1, "/v1.0.0/nope", 1), server.requestCounts());

            server.serveWrongChecksums(true);
            String wrong = body(server.uri(path + ".sha256"));
            assertTrue(Sha256.isHex(wrong));
            assertNotEquals(w.sha256(), wrong);
            server.checksumMode(SampleServer.ChecksumMode.MISSING);
            assertEquals(404, get(server.uri(path + ".sha256")).statusCode());

            HttpResponse<Void> head = http.send(HttpRequest.newBuilder(server.uri(path)).method("HEAD", HttpRequest.BodyPublishers.noBody())
                    .build(), HttpResponse.BodyHandlers.discarding());
            assertEquals(200, head.statusCode());
            assertEquals(Files.size(w.tarball()), head.headers().firstValueAsLong("Content-Length").orElse(-1));

            server.resetCounts();
            assertEquals(0, server.requests(path));
        }
    }

    @Test
    void neverServesOutsideItsDirectory() throws Exception {
        Path www = Files.createDirectories(tmp.resolve("www"));
        Files.writeString(tmp.resolve("secret"), "outside");
        try (SampleServer server = SampleServer.start(www)) {
            for (String raw : new String[] {"/../secret", "/%2e%2e/secret", "/x/../../secret"}) {
                try (Socket s = new Socket("127.0.0.1", server.port())) {
                    s.getOutputStream().write(("GET " + raw + " HTTP/1.0\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                    String response = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
                    assertTrue(response.startsWith("HTTP/1.1 404"), raw + " -> " + response);
                    assertTrue(!response.contains("outside"), raw);
                }
            }
        }
    }

    private HttpResponse<byte[]> get(URI uri) throws Exception {
        return http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private String body(URI uri) throws Exception {
        return new String(get(uri).body(), StandardCharsets.UTF_8);
    }
}
