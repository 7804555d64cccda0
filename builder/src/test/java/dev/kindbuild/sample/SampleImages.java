package dev.kindbuild.sample;

import dev.kindbuild.lifecycle.TempPaths;
import com.google.cloud.tools.jib.api.Containerizer;
import com.google.cloud.tools.jib.api.ImageReference;
import com.google.cloud.tools.jib.api.RegistryImage;
import com.google.cloud.tools.jib.api.Jib;
import com.google.cloud.tools.jib.api.JibContainer;
import com.google.cloud.tools.jib.api.LogEvent;
import com.google.cloud.tools.jib.api.buildplan.AbsoluteUnixPath;
import com.google.cloud.tools.jib.api.buildplan.FileEntriesLayer;
import com.google.cloud.tools.jib.api.buildplan.FilePermissions;
import com.google.cloud.tools.jib.api.buildplan.Platform;
import dev.kindbuild.UserError;
import dev.kindbuild.image.ImageRef;
import dev.kindbuild.image.registry.RegistryAccess;
import dev.kindbuild.progress.Progress;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Small runnable stand-ins for the images a cluster needs (pause, etcd, coredns, kindnetd…), pushed to a registry
 * for tests and offline demos. Each is FROM scratch, one platform (linux/amd64 or linux/arm64), and holds one static
 * program, hand-assembled here (no libc), that prints one line and then waits in pause() until SIGTERM or SIGINT,
 * exiting 0 — like the real pause image. Same inputs give the same digest.
 */
public final class SampleImages {

    /** Where the program sits in the image; it is the entrypoint. */
    public static final String PROGRAM_PATH = "/kind-sample";

    /** One pushed image: the name it was pushed as and its manifest digest. */
    public record Pushed(ImageRef ref, String digest) {}

    private final RegistryAccess access;
    private final Progress progress;
    private final SampleSize size;

    public SampleImages(RegistryAccess access, Progress progress) {
        this(access, progress, SampleSize.STAND_IN);
    }

    /**
     * At {@link SampleSize#REAL} each image gets the layers of {@link RealSizes#pulledImageLayers} (base first, the
     * program padded to the last layer's size), generated once into
     * {@code $KIND_BUILD_CACHE/sample-real-size/images/} together with Jib's cache of their compressed layers, so a
     * second run only pushes.
     */
    public SampleImages(RegistryAccess access, Progress progress, SampleSize size) {
        this.access = access;
        this.progress = progress;
        this.size = size;
    }

    /** Pushes one sample image per target for linux/{@code arch}; returns their digests in order. */
    public List<Pushed> pushAll(List<ImageRef> targets, String arch) {
        List<Pushed> out = new ArrayList<>();
        for (ImageRef target : targets) {
            out.add(push(target, arch));
        }
        return out;
    }

    /**
     * Pushes one image per architecture as {@code target}'s tag suffixed {@code -ARCH}, then an OCI index over them as
     * {@code target} itself: a multi-arch image whose every platform runs its own program. With one architecture
     * this is {@link #push}.
     */
    public Pushed pushMultiArch(ImageRef target, List<String> arches) {
        if (arches.size() == 1) {
            return push(target, arches.get(0));
        }
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        com.fasterxml.jackson.databind.node.ObjectNode index = json.createObjectNode();
        index.put("schemaVersion", 2);
        index.put("mediaType", dev.kindbuild.image.store.MediaTypes.OCI_INDEX);
        com.fasterxml.jackson.databind.node.ArrayNode entries = index.putArray("manifests");
        dev.kindbuild.image.registry.RegistryClient client = dev.kindbuild.image.registry.RegistryClient.connect(target.registry(), access,
                dev.kindbuild.image.registry.RegistryTrust.jvmDefault(), progress);
        for (String arch : arches) {
            Pushed one = push(target.withTag(target.tag() + "-" + arch), arch);
            dev.kindbuild.image.registry.RegistryManifest m = client.manifest(target.repository(), one.digest());
            com.fasterxml.jackson.databind.node.ObjectNode e = entries.addObject();
            e.put("mediaType", m.mediaType());
            e.put("digest", m.digest());
            e.put("size", m.bytes().length);
            e.putObject("platform").put("architecture", arch).put("os", "linux");
        }
        try {
            String digest = client.putManifest(target.repository(), target.tag(), json.writeValueAsBytes(index),
                    dev.kindbuild.image.store.MediaTypes.OCI_INDEX);
            return new Pushed(target, digest);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Pushes a sample image as {@code target} for linux/{@code arch}; the program prints a line naming the target. */
    public Pushed push(ImageRef target, String arch) {
        return progress.step("Pushing sample image " + target, () -> {
            byte[] program = program(arch, "kind-build sample image " + target.withoutDigest().nameWithTag()
                    + " (linux/" + arch + "): waiting for SIGTERM");
            Path work = Files.createTempDirectory("kind-build-sample");
            try {
                List<FileEntriesLayer> layers = size == SampleSize.REAL
                        ? realSizeLayers(target, arch, program)
                        : List.of(programLayer(work.resolve("program"), program));
                Path layerCache = size == SampleSize.REAL ? realSizeDir().resolve("jib-layers") : work.resolve("app-cache");
                Containerizer containerizer = Containerizer.to(RegistryImage.named(ImageReference.of(target.registry(), target.repository(), target.tag(), target.digest())))
                        .setAllowInsecureRegistries(access.allowsPlainHttp(target.registry()))
                        .setBaseImageLayersCache(work.resolve("base-cache"))
                        .setApplicationLayersCache(layerCache)
                        .setToolName("kind-build")
                        .addEventHandler(LogEvent.class, this::log);
                JibContainer result = Jib.fromScratch()
                        .setPlatforms(Set.of(new Platform(arch, "linux")))
                        .setFileEntriesLayers(layers)
                        .setEntrypoint(PROGRAM_PATH)
                        .setUser("65535:65535")
                        .setLabels(Map.of("dev.kindbuild.sample", "true"))
                        .setCreationTime(Instant.EPOCH)
                        .containerize(containerizer);
                return new Pushed(target, result.getDigest().toString());
            } finally {
                TempPaths.deleteTree(work);
            }
        }, p -> p.digest().substring(0, 19));
    }

    private static FileEntriesLayer programLayer(Path file, byte[] program) throws IOException {
        Files.write(file, program);
        return FileEntriesLayer.builder()
                .setName("program")
                .addEntry(file, AbsoluteUnixPath.get(PROGRAM_PATH), FilePermissions.fromOctalString("755"),
                        FileEntriesLayer.DEFAULT_MODIFICATION_TIME)
                .build();
    }

    private static Path realSizeDir() {
        return dev.kindbuild.CacheLocation.root().resolve("sample-real-size").resolve("images");
    }

    /**
     * The real-size layers of {@code target}: filler files, then the program padded to the last layer's size. The files
     * stay in the cache (their mtimes too), so Jib finds its compressed layers in its cache on the next run.
     */
    private static List<FileEntriesLayer> realSizeLayers(ImageRef target, String arch, byte[] program) throws IOException {
        List<Long> sizes = RealSizes.pulledImageLayers(target.repository());
        // not keyed by registry: the same image pushed to a registry on another port reuses the files
        String key = (target.repository() + "_" + target.tag() + "-" + arch).replaceAll("[^A-Za-z0-9._-]", "_");
        Path dir = realSizeDir().resolve(key);
        Path marker = dir.resolve("complete");
        if (!Files.isRegularFile(marker) || !Files.readString(marker).equals(RealSizeRelease.REVISION)) {
            TempPaths.deleteTree(dir);
            Files.createDirectories(dir);
            for (int i = 0; i < sizes.size(); i++) {
                boolean last = i == sizes.size() - 1;
                PaddedBinary file = new PaddedBinary(last ? program : new byte[0], Math.max(sizes.get(i), last ? program.length : 0),
                        "kind-build real-size image " + key + " layer " + i);
                try (java.io.OutputStream o = new java.io.BufferedOutputStream(Files.newOutputStream(dir.resolve("layer-" + i)), 1 << 16)) {
                    file.writeTo(o);
                }
            }
            Files.writeString(marker, RealSizeRelease.REVISION);
        }
        List<FileEntriesLayer> layers = new ArrayList<>();
        for (int i = 0; i < sizes.size(); i++) {
            boolean last = i == sizes.size() - 1;
            layers.add(FileEntriesLayer.builder()
                    .setName("layer-" + i)
                    .addEntry(dir.resolve("layer-" + i),
                            AbsoluteUnixPath.get(last ? PROGRAM_PATH : "/usr/lib/kind-sample/layer-" + i + ".bin"),
                            FilePermissions.fromOctalString(last ? "755" : "644"), FileEntriesLayer.DEFAULT_MODIFICATION_TIME)
                    .build());
        }
        return layers;
    }

    private void log(LogEvent e) {
        if (e.getLevel() == LogEvent.Level.ERROR || e.getLevel() == LogEvent.Level.WARN) {
            progress.detail("jib: " + e.getMessage());
        }
    }

    /** The program for linux/{@code arch} (amd64 or arm64) that prints {@code line} and waits for a signal. */
    public static byte[] program(String arch, String line) {
        byte[] msg = (line + "\n").getBytes(StandardCharsets.UTF_8);
        return switch (arch) {
            case "amd64", "x86_64" -> amd64(msg);
            case "arm64", "aarch64" -> arm64(msg);
            default -> throw new UserError("sample images exist for amd64 and arm64 only, not " + arch);
        };
    }

    // ---- ELF ----

    private static final long BASE = 0x400000L;
    private static final int HEADERS = 64 + 56;

    private static byte[] elf(int machine, byte[] code) {
        ByteBuffer b = ByteBuffer.allocate(HEADERS + code.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0});
        b.putShort((short) 2);                 // ET_EXEC
        b.putShort((short) machine);
        b.putInt(1);                           // EV_CURRENT
        b.putLong(BASE + HEADERS);             // entry: the first code byte
        b.putLong(64);                         // program headers right after this header
        b.putLong(0);                          // no section headers
        b.putInt(0);                           // flags
        b.putShort((short) 64);                // ehsize
        b.putShort((short) 56);                // phentsize
        b.putShort((short) 1);                 // phnum
        b.putShort((short) 64);                // shentsize
        b.putShort((short) 0);                 // shnum
        b.putShort((short) 0);                 // shstrndx
        // PT_LOAD: the whole file, read+execute, at BASE
        b.putInt(1);
        b.putInt(5);
        b.putLong(0);
        b.putLong(BASE);
        b.putLong(BASE);
        b.putLong(HEADERS + code.length);
        b.putLong(HEADERS + code.length);
        b.putLong(0x1000);
        b.put(code);
        return b.array();
    }

    /**
     * x86-64: write(1,msg,len); rt_sigaction(SIGTERM/SIGINT, {handler, SA_RESTORER}); loop { pause() };
     * handler: exit_group(0). (x86-64 signal delivery needs SA_RESTORER; the handler never returns.)
     */
    static byte[] amd64(byte[] msg) {
        final int handler = 87;
        final int act = 96;
        final int msgAt = 128;
        ByteBuffer c = ByteBuffer.allocate(msgAt + msg.length).order(ByteOrder.LITTLE_ENDIAN);
        // write(1, msg, len)
        c.put(hex("b8 01 00 00 00 bf 01 00 00 00 48 8d 35")).putInt(msgAt - 17);
        c.put((byte) 0xba).putInt(msg.length).put(hex("0f 05"));
        // rt_sigaction(15, &act, NULL, 8)
        c.put(hex("b8 0d 00 00 00 bf 0f 00 00 00 48 8d 35")).putInt(act - 41);
        c.put(hex("31 d2 41 ba 08 00 00 00 0f 05"));
        // rt_sigaction(2, &act, NULL, 8)
        c.put(hex("b8 0d 00 00 00 bf 02 00 00 00 48 8d 35")).putInt(act - 68);
        c.put(hex("31 d2 41 ba 08 00 00 00 0f 05"));
        // loop: pause(); jmp loop
        check(c.position() == 78, "amd64 loop offset");
        c.put(hex("b8 22 00 00 00 0f 05 eb f7"));
        // handler: exit_group(0)
        check(c.position() == handler, "amd64 handler offset");
        c.put(hex("b8 e7 00 00 00 31 ff 0f 05"));
        c.position(act);
        long handlerAddr = BASE + HEADERS + handler;
        c.putLong(handlerAddr).putLong(0x04000000L).putLong(handlerAddr).putLong(0);
        check(c.position() == msgAt, "amd64 message offset");
        c.put(msg);
        return elf(62, c.array());
    }

    /**
     * aarch64: write(1,msg,len); rt_sigaction(SIGTERM/SIGINT, {handler}); loop { ppoll(NULL,0,NULL,NULL,0) } (glibc's
     * pause() on arm64); handler: exit_group(0).
     */
    static byte[] arm64(byte[] msg) {
        final int act = 112;
        final int msgAt = 144;
        final int handler = 100;
        ByteBuffer c = ByteBuffer.allocate(msgAt + msg.length).order(ByteOrder.LITTLE_ENDIAN);
        c.putInt(movz(0, 1)).putInt(adr(1, msgAt - 4)).putInt(movz(2, msg.length)).putInt(movz(8, 64)).putInt(SVC0);
        for (int sig : new int[] {15, 2}) {
            int here = c.position();
            c.putInt(movz(0, sig)).putInt(adr(1, act - (here + 4))).putInt(movz(2, 0)).putInt(movz(3, 8))
                    .putInt(movz(8, 134)).putInt(SVC0);
        }
        int loop = c.position();
        check(loop == 68, "arm64 loop offset");
        c.putInt(movz(0, 0)).putInt(movz(1, 0)).putInt(movz(2, 0)).putInt(movz(3, 0)).putInt(movz(4, 0))
                .putInt(movz(8, 73)).putInt(SVC0);
        c.putInt(0x14000000 | (((loop - c.position()) / 4) & 0x3FFFFFF));
        check(c.position() == handler, "arm64 handler offset");
        c.putInt(movz(0, 0)).putInt(movz(8, 94)).putInt(SVC0);
        c.position(act);
        c.putLong(BASE + HEADERS + handler).putLong(0).putLong(0).putLong(0);
        check(c.position() == msgAt, "arm64 message offset");
        c.put(msg);
        return elf(183, c.array());
    }

    private static final int SVC0 = 0xD4000001;

    private static int movz(int reg, int imm16) {
        if (imm16 < 0 || imm16 > 0xFFFF) {
            throw new IllegalArgumentException("immediate too large: " + imm16);
        }
        return 0xD2800000 | (imm16 << 5) | reg;
    }

    private static int adr(int reg, int offset) {
        return 0x10000000 | ((offset & 3) << 29) | (((offset >> 2) & 0x7FFFF) << 5) | reg;
    }

    private static byte[] hex(String s) {
        String[] parts = s.split(" ");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String p : parts) {
            out.write(Integer.parseInt(p, 16));
        }
        return out.toByteArray();
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new IllegalStateException("sample program layout broken: " + what);
        }
    }
}
