package dev.kindbuild.engine;

import java.util.List;
import java.util.Map;

/**
 * How to create one container. Immutable; made with {@link #builder(String, String)}.
 *
 * @param name          container name
 * @param image         image reference or ID
 * @param entrypoint    replaces the image's entrypoint when non-empty
 * @param cmd           command (arguments to the entrypoint)
 * @param labels        labels; kind-build's owner label is always added by the engine
 * @param env           KEY=VALUE entries
 * @param tty           allocate a terminal (systemd as PID 1 needs one)
 * @param privileged    run with --privileged
 * @param capAdd        capabilities to add ("ALL" allowed)
 * @param capDrop       capabilities to drop
 * @param securityOpts  e.g. seccomp=unconfined
 * @param tmpfs         tmpfs mounts, path to options
 * @param volumes       anonymous volumes (paths)
 * @param binds         host:container[:mode] binds
 * @param cgroupns      "private", "host" or null for the engine default
 * @param networkMode   null for the default bridge, "none" for no network
 * @param hostname      hostname, or null
 * @param devices       host devices to pass in (host path, same path inside)
 * @param deviceCgroupRules device cgroup rules added to the engine's default whitelist, e.g. {@code a *:* rwm}
 */
public record ContainerSpec(
        String name,
        String image,
        List<String> entrypoint,
        List<String> cmd,
        Map<String, String> labels,
        List<String> env,
        boolean tty,
        boolean privileged,
        List<String> capAdd,
        List<String> capDrop,
        List<String> securityOpts,
        Map<String, String> tmpfs,
        List<String> volumes,
        List<String> binds,
        String cgroupns,
        String networkMode,
        String hostname,
        List<String> devices,
        List<String> deviceCgroupRules) {

    public ContainerSpec {
        entrypoint = List.copyOf(entrypoint);
        cmd = List.copyOf(cmd);
        labels = Map.copyOf(labels);
        env = List.copyOf(env);
        capAdd = List.copyOf(capAdd);
        capDrop = List.copyOf(capDrop);
        securityOpts = List.copyOf(securityOpts);
        tmpfs = Map.copyOf(tmpfs);
        volumes = List.copyOf(volumes);
        binds = List.copyOf(binds);
        devices = List.copyOf(devices);
        deviceCgroupRules = List.copyOf(deviceCgroupRules);
    }

    public static Builder builder(String name, String image) {
        return new Builder(name, image);
    }

    /** Collects the settings of a {@link ContainerSpec}; defaults are the engine's. */
    public static final class Builder {
        private final String name;
        private final String image;
        private List<String> entrypoint = List.of();
        private List<String> cmd = List.of();
        private Map<String, String> labels = Map.of();
        private List<String> env = List.of();
        private boolean tty;
        private boolean privileged;
        private List<String> capAdd = List.of();
        private List<String> capDrop = List.of();
        private List<String> securityOpts = List.of();
        private Map<String, String> tmpfs = Map.of();
        private List<String> volumes = List.of();
        private List<String> binds = List.of();
        private String cgroupns;
        private String networkMode;
        private String hostname;
        private List<String> devices = List.of();
        private List<String> deviceCgroupRules = List.of();

        private Builder(String name, String image) {
            this.name = name;
            this.image = image;
        }

        public Builder entrypoint(String... value) { entrypoint = List.of(value); return this; }
        public Builder cmd(String... value) { cmd = List.of(value); return this; }
        public Builder labels(Map<String, String> value) { labels = value; return this; }
        public Builder env(List<String> value) { env = value; return this; }
        public Builder tty(boolean value) { tty = value; return this; }
        public Builder privileged(boolean value) { privileged = value; return this; }
        public Builder capAdd(String... value) { capAdd = List.of(value); return this; }
        public Builder capDrop(String... value) { capDrop = List.of(value); return this; }
        public Builder securityOpts(String... value) { securityOpts = List.of(value); return this; }
        public Builder tmpfs(Map<String, String> value) { tmpfs = value; return this; }
        public Builder volumes(String... value) { volumes = List.of(value); return this; }
        public Builder binds(String... value) { binds = List.of(value); return this; }
        public Builder cgroupns(String value) { cgroupns = value; return this; }
        public Builder networkMode(String value) { networkMode = value; return this; }
        public Builder hostname(String value) { hostname = value; return this; }
        public Builder devices(String... value) { devices = List.of(value); return this; }
        public Builder deviceCgroupRules(String... value) { deviceCgroupRules = List.of(value); return this; }

        public ContainerSpec build() {
            return new ContainerSpec(name, image, entrypoint, cmd, labels, env, tty, privileged, capAdd, capDrop,
                    securityOpts, tmpfs, volumes, binds, cgroupns, networkMode, hostname, devices, deviceCgroupRules);
        }
    }
}
