package dev.kindbuild.image.archive;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kindbuild.UserError;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class DockerArchiveTest {
    static final String CONFIG = "{\"architecture\":\"arm64\",\"os\":\"linux\",\"config\":{}}";
    static final String CONFIG_HEX = DockerArchive.sha256(CONFIG.getBytes(StandardCharsets.UTF_8));

    @TempDir
    Path tmp;

    /** An archive laid out like Docker 20.10's docker save. */
    Path dockerSave(String repoTag) throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("0123abcd/", null);
        entries.put("0123abcd/VERSION", "1.0".getBytes());
        entries.put("0123abcd/json", "{\"id\":\"0123abcd\"}".getBytes());
        byte[] layer = new byte[200_000];
        for (int i = 0; i < layer.length; i++) {
            layer[i] = (byte) (i * 31);
        }
        entries.put("0123abcd/layer.tar", layer);
        entries.put(CONFIG_HEX + ".json", CONFIG.getBytes());
        entries.put("manifest.json", ("[{\"Config\":\"" + CONFIG_HEX + ".json\",\"RepoTags\":[\"" + repoTag
                + "\"],\"Layers\":[\"0123abcd/layer.tar\"]}]").getBytes());
        int colon = repoTag.lastIndexOf(':');
        entries.put("repositories", ("{\"" + repoTag.substring(0, colon) + "\":{\"" + repoTag.substring(colon + 1)
                + "\":\"0123abcd\"}}\n").getBytes());
        return write(tmp.resolve("save.tar"), entries);
    }

    static Path write(Path file, Map<String, byte[]> entries) throws IOException {
        try (OutputStream o = Files.newOutputStream(file); TarArchiveOutputStream t = new TarArchiveOutputStream(o)) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                TarArchiveEntry te = e.getValue() == null
                        ? new TarArchiveEntry(e.getKey(), org.apache.commons.compress.archivers.tar.TarConstants.LF_DIR)
                        : new TarArchiveEntry(e.getKey());
                te.setModTime(FileTime.fromMillis(1_600_000_000_000L));
                te.setMode(e.getValue() == null ? 040755 : 0100644);
                if (e.getValue() != null) {
                    te.setSize(e.getValue().length);
                }
                t.putArchiveEntry(te);
                if (e.getValue() != null) {
                    t.write(e.getValue());
                }
                t.closeArchiveEntry();
            }
        }
        return file;
    }

    static Map<String, String> entryDigests(Path tar) throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        try (TarArchiveInputStream in = new TarArchiveInputStream(Files.newInputStream(tar))) {
            TarArchiveEntry e;
            while ((e = in.getNextEntry()) != null) {
                out.put(e.getName(), e.isDirectory() ? "dir" : DockerArchive.sha256(in.readAllBytes()) + " " + e.getMode()
                        + " " + e.getModTime().getTime());
            }
        }
        return out;
    }

    @Test
    void readsTags() throws IOException {
        Path tar = dockerSave("registry.k8s.io/kube-apiserver-arm64:v1.31.2");
        assertEquals(List.of("registry.k8s.io/kube-apiserver-arm64:v1.31.2"), DockerArchive.repoTags(tar));
    }

    @Test
    void legacyArchiveWithOnlyRepositories() throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("abc/layer.tar", new byte[10]);
        entries.put("repositories", "{\"busybox\":{\"latest\":\"abc\"}}".getBytes());
        Path tar = write(tmp.resolve("legacy.tar"), entries);
        assertEquals(List.of("busybox:latest"), DockerArchive.repoTags(tar));
    }

    @Test
    void refusesNonArchives() throws IOException {
        Path junk = write(tmp.resolve("junk.tar"), Map.of("hello.txt", "hi".getBytes()));
        assertThrows(UserError.class, () -> DockerArchive.repoTags(junk));
    }

    @ParameterizedTest
    @CsvSource({
        "registry.k8s.io/kube-apiserver-amd64:v1.31.2, amd64, registry.k8s.io/kube-apiserver:v1.31.2",
        "registry.k8s.io/kube-proxy-arm64:v1.31.2, arm64, registry.k8s.io/kube-proxy:v1.31.2",
        "registry.k8s.io/kube-proxy-arm64:v1.31.2, amd64, registry.k8s.io/kube-proxy-arm64:v1.31.2",
        "registry.k8s.io/kube-apiserver:v1.31.2, amd64, registry.k8s.io/kube-apiserver:v1.31.2",
        "127.0.0.1:5000/kube-scheduler-amd64, amd64, 127.0.0.1:5000/kube-scheduler",
        "registry.k8s.io/amd64-x/kube-amd64:v1, amd64, registry.k8s.io/amd64-x/kube:v1",
        "registry.k8s.io/x/-amd64:v1, amd64, registry.k8s.io/x/-amd64:v1",
    })
    void dropsArchSuffix(String in, String arch, String expected) {
        assertEquals(expected, DockerArchive.withoutArchSuffix(in, arch));
    }

    @Test
    void dropsAnyKnownArchSuffix() {
        assertEquals("registry.k8s.io/kube-controller-manager:v1.31.2",
                DockerArchive.withoutArchSuffix("registry.k8s.io/kube-controller-manager-s390x:v1.31.2"));
        assertEquals("registry.k8s.io/kube-controller-manager:v1.31.2",
                DockerArchive.withoutArchSuffix("registry.k8s.io/kube-controller-manager:v1.31.2"));
        String d = "@sha256:" + "c".repeat(64);
        assertEquals("r.io/kube-proxy:v1" + d, DockerArchive.withoutArchSuffix("r.io/kube-proxy-amd64:v1" + d, "amd64"));
    }
}
