package dev.kindbuild.registry;

import dev.kindbuild.lifecycle.TempPaths;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.cloud.tools.jib.api.Containerizer;
import com.google.cloud.tools.jib.api.InsecureRegistryException;
import com.google.cloud.tools.jib.api.Jib;
import com.google.cloud.tools.jib.api.JibContainer;
import com.google.cloud.tools.jib.api.LogEvent;
import com.google.cloud.tools.jib.api.RegistryAuthenticationFailedException;
import com.google.cloud.tools.jib.api.RegistryUnauthorizedException;
import com.google.cloud.tools.jib.api.TarImage;
import com.google.cloud.tools.jib.api.buildplan.Platform;
import com.google.cloud.tools.jib.event.events.ProgressEvent;
import com.google.cloud.tools.jib.event.progress.Allocation;
import dev.kindbuild.UserError;
import dev.kindbuild.image.ImageRef;
import dev.kindbuild.image.RegistryAccess;
import dev.kindbuild.progress.Progress;
import java.io.IOException;
import java.net.ConnectException;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Comparator;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import javax.net.ssl.SSLException;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * Pushes a docker-archive tarball (from {@code docker save} / {@code DockerEngine.save}, or jib) to a registry with
 * jib, under the same TLS and credentials policy as pulls ({@link RegistryAccess}). The image's platform and creation
 * time are carried over from its config, so the pushed config matches the archive's as closely as jib allows.
 */
public final class RegistryPusher {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final RegistryAccess access;
    private final Progress progress;

    public RegistryPusher(RegistryAccess access, Progress progress) {
        this.access = access;
        this.progress = progress;
    }

    /** Pushes {@code dockerArchive} as {@code target}; returns the pushed manifest digest ({@code sha256:…}). */
    public String push(Path dockerArchive, ImageRef target) {
        if (target.tag() == null) {
            throw new UserError("cannot push to " + target + ": give a tag to push to");
        }
        return progress.step("Pushing " + target.withoutDigest(), () -> doPush(dockerArchive, target.withoutDigest()),
                d -> d.substring(0, 19));
    }

    private String doPush(Path archive, ImageRef target) throws Exception {
        if (!Files.isRegularFile(archive)) {
            throw new UserError("image archive " + archive + " does not exist");
        }
        JsonNode config = readConfig(archive);
        String arch = config.path("architecture").asText("amd64");
        String os = config.path("os").asText("linux");
        Instant created = Instant.EPOCH;
        try {
            if (config.hasNonNull("created")) {
                created = Instant.parse(config.path("created").asText());
            }
        } catch (DateTimeParseException e) {
            progress.detail("unparseable created time in " + archive + "; pushing with the epoch");
        }
        Path work = Files.createTempDirectory("kind-build-push");
        AtomicLong sent = new AtomicLong();
        Map<Allocation, Long> totals = new ConcurrentHashMap<>();
        try {
            Containerizer containerizer = Containerizer.to(access.registryImage(target, this::log))
                    .setAllowInsecureRegistries(access.allowsPlainHttp(target.registry()))
                    .setBaseImageLayersCache(work.resolve("base"))
                    .setApplicationLayersCache(work.resolve("app"))
                    .setToolName("kind-build")
                    .addEventHandler(LogEvent.class, this::log)
                    .addEventHandler(ProgressEvent.class, e -> {
                        Allocation a = e.getAllocation();
                        String d = String.valueOf(a.getDescription()).toLowerCase(Locale.ROOT);
                        if (d.contains("push") && (d.contains("layer") || d.contains("blob"))) {
                            totals.putIfAbsent(a, a.getAllocationUnits());
                            progress.bytes("push " + target, sent.addAndGet(e.getUnits()),
                                    totals.values().stream().mapToLong(Long::longValue).sum());
                        }
                    });
            JibContainer result = Jib.from(TarImage.at(archive))
                    .setPlatforms(Set.of(new Platform(arch, os)))
                    .setCreationTime(created)
                    .containerize(containerizer);
            return result.getDigest().toString();
        } catch (ExecutionException e) {
            throw failure(target, e.getCause() == null ? e : e.getCause());
        } catch (IOException e) {
            throw failure(target, e);
        } finally {
            TempPaths.deleteTree(work);
        }
    }

    private static UserError failure(ImageRef target, Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof InsecureRegistryException) {
                return new UserError("cannot push to " + target + ": " + target.registry() + " does not offer verified TLS; "
                        + "if you trust it, allow plain HTTP with --insecure-registry " + target.registry(), e);
            }
            if (t instanceof UnknownHostException || t instanceof ConnectException || t instanceof SSLException) {
                return new UserError("cannot push to " + target + ": " + target.registry() + " is unreachable ("
                        + t.getClass().getSimpleName() + ": " + t.getMessage() + ")", e);
            }
            if (t instanceof RegistryUnauthorizedException || t instanceof RegistryAuthenticationFailedException) {
                return new UserError("cannot push to " + target + ": access denied; log in with docker login "
                        + target.registry(), e);
            }
        }
        String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().strip().split("\n")[0];
        return new UserError("cannot push to " + target + ": " + msg, e);
    }

    /** The image config JSON of the archive's single image (streamed; only small JSON entries are read). */
    static JsonNode readConfig(Path archive) throws IOException {
        JsonNode manifest = null;
        Map<String, byte[]> jsons = new java.util.HashMap<>();
        try (TarArchiveInputStream in = new TarArchiveInputStream(
                new java.io.BufferedInputStream(Files.newInputStream(archive), 1 << 16))) {
            TarArchiveEntry e;
            while ((e = in.getNextEntry()) != null) {
                String name = e.getName().startsWith("./") ? e.getName().substring(2) : e.getName();
                if (e.isFile() && name.endsWith(".json") && e.getSize() < (8 << 20)) {
                    byte[] bytes = in.readAllBytes();
                    if (name.equals("manifest.json")) {
                        manifest = JSON.readTree(bytes);
                    } else {
                        jsons.put(name, bytes);
                    }
                }
            }
        }
        if (manifest == null || !manifest.isArray() || manifest.size() != 1) {
            throw new UserError(archive + " is not a docker-archive with exactly one image (manifest.json)");
        }
        byte[] config = jsons.get(manifest.get(0).path("Config").asText());
        if (config == null) {
            throw new UserError(archive + " names a config it does not contain");
        }
        return JSON.readTree(config);
    }

    private void log(LogEvent e) {
        if (e.getLevel() == LogEvent.Level.ERROR || e.getLevel() == LogEvent.Level.WARN) {
            progress.detail("jib: " + e.getMessage());
        }
    }
}
