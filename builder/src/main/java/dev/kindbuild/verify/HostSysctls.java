package dev.kindbuild.verify;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The host-wide kernel settings a kubelet writes when it starts (they are not namespaced, so a kubelet in a node
 * changes the host's): read before a node runs one, written back after. Only meaningful when the engine runs on this
 * machine, which is the only case where the node's kubelet can reach these files.
 */
final class HostSysctls {
    /** What kubelet's container manager sets (kernel tunables) and kube-proxy may set (conntrack). */
    static final List<String> KEYS = List.of("vm/overcommit_memory", "vm/panic_on_oom", "kernel/panic",
            "kernel/panic_on_oops", "kernel/keys/root_maxkeys", "kernel/keys/root_maxbytes",
            "net/netfilter/nf_conntrack_max");

    /**
     * What kubelet's container manager writes at start when a value differs (setupKernelTunables; the same since
     * Kubernetes 1.x). kube-proxy's conntrack setting is left alone by the kubeadm config (maxPerCore: 0).
     */
    static final Map<String, String> KUBELET_VALUES = Map.of("vm/overcommit_memory", "1", "vm/panic_on_oom", "0",
            "kernel/panic", "10", "kernel/panic_on_oops", "1", "kernel/keys/root_maxkeys", "1000000",
            "kernel/keys/root_maxbytes", "25000000");

    private final Path procSys;
    private final Map<String, String> saved;

    private HostSysctls(Path procSys, Map<String, String> saved) {
        this.procSys = procSys;
        this.saved = saved;
    }

    static HostSysctls snapshot() {
        return snapshot(Path.of("/proc/sys"));
    }

    static HostSysctls snapshot(Path procSys) {
        Map<String, String> saved = new LinkedHashMap<>();
        for (String key : KEYS) {
            Path p = procSys.resolve(key);
            try {
                if (Files.isReadable(p)) {
                    saved.put(key, read(p));
                }
            } catch (IOException ignored) {
                // not on this kernel
            }
        }
        return new HostSysctls(procSys, saved);
    }

    /**
     * A sysctl's value. In one read: a /proc/sys file says its size is 0, so {@code Files.readString} reads one byte
     * and then asks from offset 1, where the kernel's integer handlers return nothing ("10" would read as "1").
     */
    static String read(Path sysctl) throws IOException {
        try (InputStream in = Files.newInputStream(sysctl)) {
            return new String(in.readNBytes(4096), StandardCharsets.UTF_8).strip();
        }
    }

    /** The values read, by key ({@code vm/overcommit_memory}). */
    Map<String, String> saved() {
        return java.util.Collections.unmodifiableMap(saved);
    }

    /** Writes back every value that changed; returns what was restored ({@code key: now -> before}) and what could not be. */
    Restored restore() {
        List<String> restored = new ArrayList<>();
        List<String> failed = new ArrayList<>();
        for (Map.Entry<String, String> e : saved.entrySet()) {
            Path p = procSys.resolve(e.getKey());
            try {
                String now = read(p);
                if (!now.equals(e.getValue())) {
                    Files.writeString(p, e.getValue() + "\n", StandardCharsets.UTF_8);
                    restored.add(e.getKey().replace('/', '.') + " " + now + "→" + e.getValue());
                }
            } catch (IOException ex) {
                failed.add(e.getKey().replace('/', '.') + " (" + ex.getMessage() + ")");
            }
        }
        return new Restored(restored, failed);
    }

    record Restored(List<String> restored, List<String> failed) {}
}
