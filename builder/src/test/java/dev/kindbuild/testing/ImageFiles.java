package dev.kindbuild.testing;

import dev.kindbuild.engine.ContainerSpec;
import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.engine.Labels;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * Reads files out of an image without running it: a container is created (never started) and files are copied out
 * of it. {@link #close} removes the container.
 */
public final class ImageFiles implements AutoCloseable {
    private final DockerEngine engine;
    private final String id;

    public ImageFiles(DockerEngine engine, String image) {
        this.engine = engine;
        String name = "kind-build-test-files-" + Integer.toHexString(ThreadLocalRandom.current().nextInt(1 << 24));
        this.id = engine.create(ContainerSpec.builder(name, image).labels(Labels.forContainer("test-read"))
                .networkMode("none").build());
    }

    public String containerId() {
        return id;
    }

    /** The text of the regular file at {@code path}. */
    public String read(String path) {
        Map<String, byte[]> files = copyOut(path, true);
        if (files.size() != 1) {
            throw new IllegalStateException(path + " is not a single file: " + files.keySet());
        }
        return new String(files.values().iterator().next(), StandardCharsets.UTF_8);
    }

    /** The SHA-256 (hex) of the regular file at {@code path}, streamed: for binaries, which {@link #read} would mangle. */
    public String sha256(String path) {
        try (InputStream in = engine.copyOut(id, path); TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
            for (TarArchiveEntry e; (e = tar.getNextEntry()) != null; ) {
                if (e.isFile()) {
                    java.security.MessageDigest md = dev.kindbuild.support.Sha256.newDigest();
                    byte[] buf = new byte[1 << 16];
                    for (int n; (n = tar.read(buf)) > 0; ) {
                        md.update(buf, 0, n);
                    }
                    return dev.kindbuild.support.Sha256.hex(md);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        throw new IllegalStateException(path + " is not a regular file in the image");
    }

    /** Regular files under directory {@code path}: name relative to it → size. */
    /** Whether {@code path} exists in the image. */
    public boolean exists(String path) {
        try (InputStream in = engine.copyOut(id, path)) {
            return true;
        } catch (com.github.dockerjava.api.exception.NotFoundException e) {
            return false;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Map<String, Long> list(String path) {
        Map<String, Long> sizes = new TreeMap<>();
        try (InputStream in = engine.copyOut(id, path); TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
            for (TarArchiveEntry e; (e = tar.getNextEntry()) != null; ) {
                if (e.isFile()) {
                    String name = e.getName();
                    sizes.put(name.substring(name.indexOf('/') + 1), e.getSize());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return sizes;
    }

    private Map<String, byte[]> copyOut(String path, boolean content) {
        Map<String, byte[]> files = new TreeMap<>();
        try (InputStream in = engine.copyOut(id, path); TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
            for (TarArchiveEntry e; (e = tar.getNextEntry()) != null; ) {
                if (e.isFile()) {
                    files.put(e.getName(), content ? tar.readAllBytes() : new byte[0]);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return files;
    }

    @Override
    public void close() {
        engine.remove(id);
    }
}
