package dev.kindbuild.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;

/**
 * A Kubernetes source tree in miniature for tests of the source build: go.mod, kube-cross's Go version, a vendored
 * reflect2 line, and a Makefile that does what {@code make WHAT=...} does — put the named binaries under
 * {@code _output/local/bin/linux/ARCH} — by copying given files, and records how it was called. Plus a fake GOROOT
 * whose {@code bin/go version} prints a chosen version.
 */
public final class FakeKubernetesTree {
    public static final List<String> ALL_BINARIES = List.of("kubeadm", "kubelet", "kubectl", "kube-apiserver",
            "kube-controller-manager", "kube-scheduler", "kube-proxy");

    private FakeKubernetesTree() {}

    /**
     * Writes the tree. {@code binaries} maps a binary name to the file the Makefile copies in for it; names not given
     * get a tiny shell script. {@code reflect2} is the vendored reflect2 version (null: none vendored).
     */
    public static Path write(Path root, String crossVersion, String reflect2, Map<String, Path> binaries) throws IOException {
        Files.createDirectories(root.resolve("build/build-image/cross"));
        Files.createDirectories(root.resolve("vendor"));
        Files.createDirectories(root.resolve("fake-bin"));
        Files.writeString(root.resolve("go.mod"), "module k8s.io/kubernetes\n\ngo 1.15\n");
        Files.writeString(root.resolve("build/build-image/cross/VERSION"), crossVersion + "\n");
        Files.writeString(root.resolve("vendor/modules.txt"), reflect2 == null ? "# github.com/foo/bar v1.0.0\n"
                : "# github.com/modern-go/reflect2 " + reflect2 + " => github.com/modern-go/reflect2 " + reflect2 + "\n");
        for (String b : ALL_BINARIES) {
            Path target = root.resolve("fake-bin").resolve(b);
            if (binaries.containsKey(b)) {
                Files.copy(binaries.get(b), target);
            } else if (b.equals("kubeadm")) {
                Files.writeString(target, "#!/bin/sh\necho fake.registry/kube-apiserver:$4\necho fake.registry/pause:3.2\n");
            } else {
                Files.writeString(target, "#!/bin/sh\necho " + b + "\n");
            }
            Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        Files.writeString(root.resolve("Makefile"), "ARCH = $(lastword $(subst /, ,$(KUBE_BUILD_PLATFORMS)))\n"
                + "all:\n"
                + "\t@echo building $(WHAT) for $(KUBE_BUILD_PLATFORMS)\n"
                + "\t@mkdir -p _output/local/bin/linux/$(ARCH)\n"
                + "\t@printf '%s|%s|%s|%s|%s|%s\\n' \"$(WHAT)\" $(KUBE_BUILD_PLATFORMS) $$CGO_ENABLED $$GOROOT \"$$(cat $$KUBE_GIT_VERSION_FILE | head -n1)\" \"$$KUBE_STATIC_OVERRIDES\" >> _output/make-calls\n"
                + "\t@for w in $(WHAT); do cp fake-bin/$${w#cmd/} _output/local/bin/linux/$(ARCH)/; done\n");
        return root;
    }

    /** A tree whose make fails with a compiler-ish message. */
    public static Path writeFailing(Path root) throws IOException {
        write(root, "v1.15.5-1", "v1.0.1", Map.of());
        Files.writeString(root.resolve("Makefile"), "all:\n\t@echo compiler exploded >&2; exit 1\n");
        return root;
    }

    /** A GOROOT whose {@code bin/go version} says {@code go<version> linux/amd64}. */
    public static Path fakeGoRoot(Path dir, String version) throws IOException {
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Path go = bin.resolve("go");
        Files.writeString(go, "#!/bin/sh\necho go version go" + version + " linux/amd64\n");
        Files.setPosixFilePermissions(go, PosixFilePermissions.fromString("rwxr-xr-x"));
        return dir;
    }

    /** How many times make ran, and with what (one line each: WHAT|platforms|CGO_ENABLED|GOROOT|version line|KUBE_STATIC_OVERRIDES). */
    public static List<String> makeCalls(Path root) throws IOException {
        Path f = root.resolve("_output/make-calls");
        return Files.isRegularFile(f) ? Files.readAllLines(f) : List.of();
    }
}
