package dev.kindbuild.verify;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kindbuild.CacheLocation;
import dev.kindbuild.UserError;
import dev.kindbuild.lifecycle.DiskFull;
import dev.kindbuild.lifecycle.TempPaths;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The host sysctls a {@code verify --cluster} run's kubelet may change, written down before the run changes anything:
 * one file per run ({@code sysctls-<pid>-<start ms>-<random>.json} in kind-build's state dir, {@code <cache>/runs}),
 * with each value before and the value kubelet writes, the host's name and its boot. A run that ends puts the values
 * back itself and removes its file; a run killed with SIGKILL cannot, so {@code kind-build cleanup} does
 * ({@link #restoreAbandoned}): for a run that no longer runs, a value still at kubelet's is set back to what it was
 * before, and a value someone changed since is left alone.
 */
public final class SysctlRecord {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern NAME = Pattern.compile("sysctls-(\\d+)-(\\d+)-[0-9a-f]+\\.json");
    private static final Pattern VALUE = Pattern.compile("-?\\d{1,19}");

    private SysctlRecord() {}

    /** kind-build's state dir for run records: beside the cache, so every later run finds it whatever TMPDIR says. */
    public static Path defaultDir() {
        return CacheLocation.root().resolve("runs");
    }

    /**
     * Writes this run's record of {@code before} into {@code dir} (complete or not at all) and returns it. Failing
     * to write it fails the run before anything is changed.
     */
    static Path write(Path dir, HostSysctls before, Path procSys) {
        ProcessHandle self = ProcessHandle.current();
        long start = self.info().startInstant().map(i -> i.toEpochMilli()).orElse(0L);
        ObjectNode record = JSON.createObjectNode();
        record.put("pid", self.pid());
        record.put("startMillis", start);
        record.put("hostname", read(procSys.resolve("kernel/hostname")));
        record.put("bootId", read(procSys.resolve("kernel/random/boot_id")));
        ObjectNode sysctls = record.putObject("sysctls");
        before.saved().forEach((key, value) -> {
            String kubelet = HostSysctls.KUBELET_VALUES.get(key);
            if (kubelet != null && !kubelet.equals(value)) {
                sysctls.putObject(key).put("before", value).put("changedTo", kubelet);
            }
        });
        String name = "sysctls-" + self.pid() + "-" + start + "-" + UUID.randomUUID().toString().substring(0, 8);
        Path file = dir.resolve(name + ".json");
        Path partial = dir.resolve(".tmp-" + self.pid() + "-" + name);
        try {
            Files.createDirectories(dir);
            Files.write(partial, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(record));
            Files.move(partial, file, StandardCopyOption.ATOMIC_MOVE);
            return file;
        } catch (IOException e) {
            try {
                Files.deleteIfExists(partial);
            } catch (IOException ignored) {
                // cleanup removes it once this run is gone
            }
            if (DiskFull.is(e)) {
                throw DiskFull.error("recording the host sysctls", e, dir);
            }
            throw new UserError("cannot record the host sysctls in " + dir + " before changing them (" + e.getClass().getSimpleName()
                    + ": " + e.getMessage() + "): make it writable, or set " + CacheLocation.ENV + " to a writable directory", e);
        }
    }

    /** Removes a run's record once the run put its values back itself. */
    static void remove(Path record) {
        try {
            Files.deleteIfExists(record);
        } catch (IOException ignored) {
            // a stale record is harmless: cleanup finds nothing still changed and removes it
        }
    }

    /**
     * What {@link #restoreAbandoned} did.
     *
     * @param restored  {@code key now→before} of each value set back
     * @param failed    values that could not be read or written, with why (their records are kept)
     * @param liveRuns  PIDs of verify runs still going: while one runs, nothing is restored (its kubelet holds the
     *                  values) and the records of dead runs are kept for a later cleanup
     * @param removed   records removed (done with, of an earlier boot, or unreadable)
     */
    public record Outcome(List<String> restored, List<String> failed, List<Long> liveRuns, int removed) {}

    /** As {@link #restoreAbandoned(Path, Path)} on this host's {@code /proc/sys}. */
    public static Outcome restoreAbandoned(Path dir) {
        return restoreAbandoned(dir, Path.of("/proc/sys"));
    }

    /** Puts back the values that runs no longer alive left changed; see the class comment. */
    static Outcome restoreAbandoned(Path dir, Path procSys) {
        List<String> restored = new ArrayList<>();
        List<String> failed = new ArrayList<>();
        List<Long> live = new ArrayList<>();
        List<Path> dead = new ArrayList<>();
        int removed = 0;
        String hostname = read(procSys.resolve("kernel/hostname"));
        String bootId = read(procSys.resolve("kernel/random/boot_id"));
        for (Path file : records(dir)) {
            Matcher m = NAME.matcher(file.getFileName().toString());
            if (!m.matches()) {
                continue;
            }
            JsonNode record;
            try {
                record = JSON.readTree(file.toFile());
            } catch (IOException e) {
                // Records are written whole (renamed into place), so this one is garbage: nothing to restore from it.
                remove(file);
                removed++;
                continue;
            }
            if (!record.path("hostname").asText("").equals(hostname)) {
                continue; // another machine's run sharing this cache: not ours to judge
            }
            long pid = Long.parseLong(m.group(1));
            if (TempPaths.alive(pid, Long.parseLong(m.group(2)))) {
                live.add(pid);
            } else if (!record.path("bootId").asText("").equals(bootId)) {
                // The host restarted since: its kernel values were reset with it.
                remove(file);
                removed++;
            } else {
                dead.add(file);
            }
        }
        if (!live.isEmpty()) {
            return new Outcome(restored, failed, live, removed);
        }
        dead.sort(Comparator.comparing(p -> p.getFileName().toString()));
        for (Path file : dead) {
            boolean complete = true;
            JsonNode sysctls;
            try {
                sysctls = JSON.readTree(file.toFile()).path("sysctls");
            } catch (IOException e) {
                continue; // read above; gone since
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = sysctls.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String key = e.getKey();
                String before = e.getValue().path("before").asText("");
                String changedTo = e.getValue().path("changedTo").asText("");
                // Only the keys kubelet writes, and only numbers: a record never names an arbitrary file to write.
                if (!HostSysctls.KUBELET_VALUES.containsKey(key) || !VALUE.matcher(before).matches()) {
                    continue;
                }
                String shown = key.replace('/', '.');
                Path p = procSys.resolve(key);
                try {
                    String now = HostSysctls.read(p);
                    if (now.equals(changedTo) && !now.equals(before)) {
                        Files.writeString(p, before + "\n", StandardCharsets.UTF_8);
                        restored.add(shown + " " + now + "→" + before);
                    }
                } catch (IOException ex) {
                    complete = false;
                    failed.add(shown + " (" + ex.getClass().getSimpleName() + ": " + ex.getMessage() + ")");
                }
            }
            if (complete) {
                remove(file);
                removed++;
            }
        }
        return new Outcome(restored, failed, live, removed);
    }

    private static List<Path> records(Path dir) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)).toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    private static String read(Path file) {
        try {
            return HostSysctls.read(file);
        } catch (IOException e) {
            return "";
        }
    }
}
