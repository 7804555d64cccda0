package dev.kindbuild.engine;

import dev.kindbuild.UserError;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Starts a container from a base or node image the way kind starts a node (systemd as PID 1 on a tty, tmpfs /run and
 * /tmp, /var on a volume), first privileged and, when the engine refuses that, in {@link NodeMode#FALLBACK}.
 */
public final class NodeLauncher {
    private static final Pattern BOOTED = Pattern.compile("Reached target .*Multi-User System|Startup finished in");

    private final DockerEngine engine;

    public NodeLauncher(DockerEngine engine) {
        this.engine = engine;
    }

    /** A started node container. */
    public record Node(String id, String name, NodeMode mode) {}

    /**
     * Creates and starts a node container. {@code network=false} gives it no network at all (to prove an image
     * works offline). The caller removes it with {@link DockerEngine#remove(String)}.
     */
    public Node start(String image, String name, String purpose, boolean network) {
        return start(image, name, purpose, network ? null : "none");
    }

    /**
     * As {@link #start(String, String, String, boolean)} on a given network: {@code null} for the engine's default
     * bridge, {@code "none"} for none, or a network's name (e.g. an internal one: an address, but no route out).
     */
    public Node start(String image, String name, String purpose, String networkMode) {
        try {
            String id = createAndStart(image, name, purpose, networkMode, NodeMode.PRIVILEGED);
            return new Node(id, name, NodeMode.PRIVILEGED);
        } catch (RuntimeException e) {
            String message = DockerEngine.rootMessage(e);
            if (!refusedPrivileges(message)) {
                throw new UserError("cannot start node container from " + image + ": " + message, e);
            }
        }
        String id = createAndStart(image, name, purpose, networkMode, NodeMode.FALLBACK);
        return new Node(id, name, NodeMode.FALLBACK);
    }

    /** Engines in restricted sandboxes fail --privileged at start with this kind of message. */
    static boolean refusedPrivileges(String message) {
        String m = message.toLowerCase(java.util.Locale.ROOT);
        return m.contains("unable to apply caps") || (m.contains("operation not permitted") && m.contains("cap"));
    }

    private String createAndStart(String image, String name, String purpose, String networkMode, NodeMode mode) {
        List<String> binds = new ArrayList<>();
        if (Files.isDirectory(Path.of("/lib/modules"))) {
            binds.add("/lib/modules:/lib/modules:ro");
        }
        String cgroupns = "private";
        ContainerSpec.Builder spec = ContainerSpec.builder(name, image)
                .hostname(name)
                .tty(true)
                .labels(Labels.forContainer(purpose))
                .securityOpts("seccomp=unconfined", "apparmor=unconfined")
                .volumes("/var")
                .tmpfs(Map.of("/tmp", "rw", "/run", "rw"))
                .networkMode(networkMode);
        if (mode == NodeMode.PRIVILEGED) {
            spec.privileged(true);
        } else {
            spec.capAdd("ALL").capDrop("SYS_RESOURCE");
            // --privileged would bring every device; kubelet cannot start without the kernel log.
            if (Files.exists(Path.of("/dev/kmsg"))) {
                spec.devices("/dev/kmsg");
            }
            // --privileged also lifts the device cgroup whitelist; without that, privileged pods (kube-proxy)
            // fail to write "a *:* rwm" to their devices.allow.
            spec.deviceCgroupRules("a *:* rwm");
            if (engine.facts().cgroupVersion() == 1) {
                binds.add("/sys/fs/cgroup:/sys/fs/cgroup:rw");
                cgroupns = "host";
            }
        }
        spec.binds(binds.toArray(String[]::new)).cgroupns(cgroupns);
        String id = engine.create(spec.build());
        try {
            engine.start(id);
            return id;
        } catch (RuntimeException e) {
            engine.remove(id);
            throw e;
        }
    }

    /**
     * Waits until systemd in the node reports it reached multi-user.target. Fails with the tail of the node's log
     * when the container exits or the time runs out.
     */
    public void awaitBoot(Node node, Duration timeout) {
        awaitBoot(node, timeout, Optional.empty());
    }

    /**
     * The same, but also done once systemd starts {@code unit}: multi-user.target waits for a oneshot unit it wants,
     * so a long unit (a node's image loader, slow under load or emulation) would count against the boot's time,
     * although the caller waits for that unit with a time of its own.
     */
    public void awaitBoot(Node node, Duration timeout, Optional<String> unit) {
        Optional<Pattern> started = unit.map(u -> Pattern.compile("Starting (\u001B\\[[;\\d]*m)*" + Pattern.quote(u)));
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            String log = engine.logs(node.id());
            if (BOOTED.matcher(log).find() || started.map(p -> p.matcher(log).find()).orElse(false)) {
                return;
            }
            if (!engine.isRunning(node.id())) {
                throw new UserError("node " + node.name() + " exited with code " + engine.exitCode(node.id())
                        + " before systemd booted; last log line: " + lastLine(log));
            }
            sleep(Duration.ofMillis(250));
        }
        throw new UserError("node " + node.name() + " did not reach multi-user.target within " + timeout.toSeconds()
                + "s; last log line: " + lastLine(engine.logs(node.id())));
    }

    /** Waits until {@code systemctl is-active unit} answers active (or fails/times out with the unit's state). */
    public void awaitUnitActive(Node node, String unit, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        String state = "";
        while (System.nanoTime() < deadline) {
            ExecResult r = engine.exec(node.id(), List.of("systemctl", "is-active", unit));
            state = r.stdout().strip();
            if (r.ok()) {
                return;
            }
            if (state.equals("failed")) {
                break;
            }
            sleep(Duration.ofMillis(250));
        }
        throw new UserError(unit + " in node " + node.name() + " is " + (state.isEmpty() ? "not active" : state)
                + "; see `journalctl -u " + unit + "` in the node (run with -v to keep it)");
    }

    static String lastLine(String log) {
        String[] lines = log.strip().split("\r?\n");
        return lines.length == 0 ? "" : lines[lines.length - 1].replaceAll("\u001B\\[[;\\d]*[A-Za-z]", "").strip();
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UserError("interrupted");
        }
    }
}
