package dev.kindbuild.verify;

import dev.kindbuild.UserError;
import dev.kindbuild.engine.EmulationCheck;
import dev.kindbuild.engine.ImageInfo;

/**
 * The architecture a node image is verified on. A node of another architecture than the engine's boots under binfmt
 * emulation (qemu-user) when it is registered: systemd, containerd and the image loader run, but no container can
 * start inside — qemu-user refuses the shim's prctl(PR_SET_CHILD_SUBREAPER) (7.2) or runc's re-exec from a memfd
 * (10.0) — so an emulated verify checks everything but a container run, and a cluster needs the native arch.
 *
 * @param image  the node image's architecture
 * @param engine the engine's architecture
 */
record NodeArch(String image, String engine) {
    static final String NO_CONTAINERS = "containers cannot start inside a node run under qemu-user emulation";

    static NodeArch of(ImageInfo info, String engineArch) {
        return new NodeArch(info.architecture() == null || info.architecture().isEmpty() ? "amd64" : info.architecture(), engineArch);
    }

    boolean emulated() {
        return !image.equals(engine);
    }

    /** Refuses before anything boots when the node cannot run here at all. */
    NodeArch requireBootable(String ref) {
        if (emulated() && !EmulationCheck.canRun(image)) {
            throw new UserError("cannot boot " + ref + " (" + image + ") on this " + engine + " engine: no " + image
                    + " emulation is registered (binfmt_misc); run scripts/enable-emulation, or verify on an " + image + " machine");
        }
        return this;
    }

    /** Refuses a cluster on a node that would run emulated: its kubelet could start no pod. */
    NodeArch requireNative(String ref) {
        if (emulated()) {
            throw new UserError("verify --cluster needs a node of the engine's architecture (" + engine + "), " + ref + " is "
                    + image + " and " + NO_CONTAINERS + ": run it on an " + image + " machine, or use verify --offline here");
        }
        return this;
    }

    /**
     * What it means that systemd could not even spawn a unit's process (Result=resources). Under qemu-user that is the
     * emulation: systemd 257 (Debian trixie) fails every spawn there ("Failed to spawn executor: Invalid argument").
     */
    String unspawnable() {
        return emulated()
                ? "systemd could not spawn it under qemu-user emulation, as systemd 257 (Debian trixie) cannot here: check this "
                        + image + " node on an " + image + " machine, or boot-check under emulation a node on a bookworm base "
                        + "(base-image --debian-suite bookworm --containerd 1.6)"
                : "systemd could not spawn it (a limit, a missing directory or a cgroup it could not create): see the node's "
                        + "`journalctl -b`";
    }

    String notice() {
        return "the node is " + image + ", the engine " + engine + ": it runs under binfmt emulation (qemu); " + NO_CONTAINERS
                + ", so no image is run";
    }
}
