package dev.kindbuild.kube;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.URI;
import org.junit.jupiter.api.Test;

class DownloaderTest {
    @Test
    void checksumUrlKeepsQuery() {
        assertEquals(URI.create("https://h/v1/k.tar.gz.sha256"), Downloader.checksumUrl(URI.create("https://h/v1/k.tar.gz")));
        assertEquals(URI.create("https://h/k.tar.gz.sha256?sig=1"), Downloader.checksumUrl(URI.create("https://h/k.tar.gz?sig=1")));
        assertEquals("k.tar.gz", Downloader.fileName(URI.create("https://h/a/k.tar.gz?x")));
        assertEquals("download", Downloader.fileName(URI.create("https://h/")));
    }
}
