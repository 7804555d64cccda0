package dev.kindbuild.sample;

import dev.kindbuild.kube.KubeVersion;
import dev.kindbuild.kube.KubernetesResolver;
import dev.kindbuild.support.Sha256;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes a small, fake but well-formed {@code kubernetes-server-linux-<arch>.tar.gz} — for tests and for the demo,
 * where dl.k8s.io is not reachable. Same inputs → same bytes.
 *
 * <p>Layout (as the real one, minus everything a node image does not need):
 * <pre>
 * kubernetes/version
 * kubernetes/server/bin/{kubeadm,kubelet,kubectl}                 bash scripts answering version queries
 * kubernetes/server/bin/kube-{apiserver,controller-manager,scheduler,proxy}.tar   docker-archive images
 * kubernetes/server/bin/kube-apiserver.docker_tag
 * </pre>
 * The sample {@code kubeadm} answers {@code version [-o short|json]} and
 * {@code config images list [--kubernetes-version V] [--image-repository R]} like the real one of that minor
 * (see {@link #kubeadmImages}); the sample {@code kubelet} answers {@code --version}; the sample {@code kubectl}
 * answers {@code version --client [-o json]}. They cannot run a cluster.
 */
public final class SampleRelease {
    private SampleRelease() {}

    /**
     * What {@link #write} produced.
     *
     * @param tarball    {@code <outDir>/kubernetes-server-linux-<arch>.tar.gz}
     * @param sha256File {@code <tarball>.sha256} (hex digest only, as on dl.k8s.io)
     * @param sha256     lower-case hex digest of the tarball
     */
    public record Written(Path tarball, Path sha256File, String sha256, String version, String arch) {}

    /**
     * Versions kubeadm of a minor pins for its add-on images (patch releases may differ slightly; close enough for a
     * sample). Minors outside the table use the nearest entry.
     */
    record MinorDefaults(int minor, String coredns, String pause, String etcd, String kustomize, String go) {}

    static final List<MinorDefaults> TABLE = List.of(
            new MinorDefaults(29, "v1.11.1", "3.9", "3.5.10-0", "v5.0.4-0.20230601165947-6ce0bf390ce3", "go1.21.13"),
            new MinorDefaults(30, "v1.11.1", "3.9", "3.5.12-0", "v5.0.4-0.20230601165947-6ce0bf390ce3", "go1.22.8"),
            new MinorDefaults(31, "v1.11.3", "3.10", "3.5.15-0", "v5.4.2", "go1.22.8"),
            new MinorDefaults(32, "v1.11.3", "3.10", "3.5.16-0", "v5.5.0", "go1.23.4"),
            new MinorDefaults(33, "v1.12.0", "3.10", "3.5.21-0", "v5.6.0", "go1.24.2"),
            new MinorDefaults(34, "v1.12.1", "3.10.1", "3.6.4-0", "v5.7.1", "go1.24.6"));

    static MinorDefaults defaultsFor(int minor) {
        MinorDefaults best = TABLE.get(0);
        for (MinorDefaults d : TABLE) {
            if (d.minor() <= minor) {
                best = d;
            }
        }
        return best;
    }

    /**
     * What the sample {@code kubeadm config images list --kubernetes-version <version>} prints (and what a real
     * kubeadm of that minor prints): the four control-plane images at {@code version}, then coredns, pause, etcd.
     */
    public static List<String> kubeadmImages(String version) {
        KubeVersion v = KubeVersion.parse(version, "sample kubeadm version");
        MinorDefaults d = defaultsFor(v.minor());
        String tag = v.toString().replace('+', '_');
        return List.of(
                "registry.k8s.io/kube-apiserver:" + tag,
                "registry.k8s.io/kube-controller-manager:" + tag,
                "registry.k8s.io/kube-scheduler:" + tag,
                "registry.k8s.io/kube-proxy:" + tag,
                "registry.k8s.io/coredns/coredns:" + d.coredns(),
                "registry.k8s.io/pause:" + d.pause(),
                "registry.k8s.io/etcd:" + d.etcd());
    }

    /** The repo tag of a built control-plane image as in release tarballs: {@code registry.k8s.io/<name>-<arch>:<v>}. */
    public static String builtImageTag(String name, String version, String arch) {
        return "registry.k8s.io/" + name + "-" + arch + ":" + version.replace('+', '_');
    }

    /** The sample control-plane image {@code name} ({@code kube-apiserver}, ...). */
    public static SampleImage controlPlaneImage(String name, String version, String arch) {
        return SampleImage.of(arch, builtImageTag(name, version, arch))
                .withFile("usr/local/bin/" + name, "#!/bin/sh\necho '" + name + " " + version
                        + " (kind-build sample: not a real binary)'\n", 0755)
                .withEntrypoint("/usr/local/bin/" + name)
                .withLabel("dev.kindbuild.sample", "true");
    }

    /** Writes the tarball and its {@code .sha256} into {@code outDir} (created if needed). */
    public static Written write(Path outDir, String version, String arch) throws IOException {
        return write(outDir, version, arch, SampleSize.STAND_IN);
    }

    /** As {@link #write(Path, String, String)}, at {@code size}; a {@link SampleSize#REAL} one is streamed to disk. */
    public static Written write(Path outDir, String version, String arch, SampleSize size) throws IOException {
        String v = KubeVersion.parse(version, "sample release version").toString();
        if (size == SampleSize.REAL) {
            return RealSizeRelease.write(outDir, v, arch);
        }
        Files.createDirectories(outDir);
        Map<String, Tars.Entry> entries = new TreeMap<>();
        String bin = "kubernetes/server/bin/";
        entries.put("kubernetes/version", Tars.Entry.text(v + "\n", 0644));
        entries.put(bin + "kubeadm", Tars.Entry.text(kubeadmScript(v, arch), 0755));
        entries.put(bin + "kubelet", Tars.Entry.text(kubeletScript(v, arch), 0755));
        entries.put(bin + "kubectl", Tars.Entry.text(kubectlScript(v, arch), 0755));
        for (String name : List.of("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy")) {
            entries.put(bin + name + ".tar", new Tars.Entry(controlPlaneImage(name, v, arch).dockerArchive(), 0644));
        }
        entries.put(bin + "kube-apiserver.docker_tag", Tars.Entry.text(v.replace('+', '_') + "\n", 0644));
        byte[] tarGz = Tars.gzip(Tars.tar(entries));

        String fileName = KubernetesResolver.serverTarballName(arch);
        Path tarball = outDir.resolve(fileName);
        Path sumFile = outDir.resolve(fileName + ".sha256");
        String sha = Sha256.of(tarGz);
        writeAtomically(tarball, tarGz);
        writeAtomically(sumFile, sha.getBytes(StandardCharsets.UTF_8));
        return new Written(tarball, sumFile, sha, v, arch);
    }

    /** As {@link #write} into {@code <root>/<version>/}, the dl.k8s.io layout {@link SampleServer} serves. */
    public static Written writeRelease(Path root, String version, String arch) throws IOException {
        return writeRelease(root, version, arch, SampleSize.STAND_IN);
    }

    /** As {@link #writeRelease(Path, String, String)} at {@code size}; a real-size one comes from the cache when there. */
    public static Written writeRelease(Path root, String version, String arch, SampleSize size) throws IOException {
        String v = KubeVersion.parse(version, "sample release version").toString();
        return size == SampleSize.REAL ? RealSizeRelease.writeCached(root.resolve(v), v, arch) : write(root.resolve(v), v, arch);
    }

    private static void writeAtomically(Path target, byte[] data) throws IOException {
        Path tmp = Files.createTempFile(target.getParent(), "." + target.getFileName(), ".tmp");
        try {
            try (OutputStream o = Files.newOutputStream(tmp)) {
                o.write(data);
            }
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    // ---- the scripts -------------------------------------------------------------------------------------------

    private static String header(String tool, String v) {
        return "#!/usr/bin/env bash\n"
                + "# Sample " + tool + " " + v + " written by kind-build (dev.kindbuild.sample.SampleRelease).\n"
                + "# It answers the version queries a node-image build makes; it cannot run a cluster.\n"
                + "set -euo pipefail\n";
    }

    private static String versionVars(String v, String arch) {
        KubeVersion kv = KubeVersion.parse(v, "version");
        MinorDefaults d = defaultsFor(kv.minor());
        String commit = Sha256.of(("kind-build sample " + v).getBytes(StandardCharsets.UTF_8)).substring(0, 40);
        return "MAJOR='" + kv.major() + "'\n"
                + "MINOR='" + kv.minor() + "'\n"
                + "VERSION='" + v + "'\n"
                + "COMMIT='" + commit + "'\n"
                + "BUILD_DATE='" + SampleImage.CREATED + "'\n"
                + "GO_VERSION='" + d.go() + "'\n"
                + "PLATFORM='linux/" + arch + "'\n"
                + "KUSTOMIZE='" + d.kustomize() + "'\n"
                + "info_go() {\n"
                + "  printf '&version.Info{Major:\"%s\", Minor:\"%s\", GitVersion:\"%s\", GitCommit:\"%s\", "
                + "GitTreeState:\"clean\", BuildDate:\"%s\", GoVersion:\"%s\", Compiler:\"gc\", Platform:\"%s\"}' \\\n"
                + "    \"$MAJOR\" \"$MINOR\" \"$VERSION\" \"$COMMIT\" \"$BUILD_DATE\" \"$GO_VERSION\" \"$PLATFORM\"\n"
                + "}\n"
                + "info_json() {\n"
                + "  local indent=\"$1\"\n"
                + "  printf '{\\n%s  \"major\": \"%s\",\\n%s  \"minor\": \"%s\",\\n%s  \"gitVersion\": \"%s\",\\n"
                + "%s  \"gitCommit\": \"%s\",\\n%s  \"gitTreeState\": \"clean\",\\n%s  \"buildDate\": \"%s\",\\n"
                + "%s  \"goVersion\": \"%s\",\\n%s  \"compiler\": \"gc\",\\n%s  \"platform\": \"%s\"\\n%s}' \\\n"
                + "    \"$indent\" \"$MAJOR\" \"$indent\" \"$MINOR\" \"$indent\" \"$VERSION\" \"$indent\" \"$COMMIT\" "
                + "\"$indent\" \"$indent\" \"$BUILD_DATE\" \"$indent\" \"$GO_VERSION\" \"$indent\" \"$indent\" "
                + "\"$PLATFORM\" \"$indent\"\n"
                + "}\n";
    }

    static String kubeadmScript(String v, String arch) {
        MinorDefaults own = defaultsFor(KubeVersion.parse(v, "version").minor());
        StringBuilder etcdCases = new StringBuilder();
        for (MinorDefaults d : TABLE) {
            etcdCases.append("    ").append(d.minor()).append(") echo '").append(d.etcd()).append("' ;;\n");
        }
        int first = TABLE.get(0).minor();
        int last = TABLE.get(TABLE.size() - 1).minor();
        return header("kubeadm", v) + versionVars(v, arch)
                + "COREDNS='" + own.coredns() + "'\n"
                + "PAUSE='" + own.pause() + "'\n"
                + "etcd_for_minor() {\n"
                + "  local m=\"$1\"\n"
                + "  if (( m < " + first + " )); then m=" + first + "; fi\n"
                + "  if (( m > " + last + " )); then m=" + last + "; fi\n"
                + "  case \"$m\" in\n" + etcdCases + "  esac\n"
                + "}\n"
                + "usage() { echo \"sample kubeadm $VERSION: supports 'version [-o short|json]' and "
                + "'config images list [--kubernetes-version V] [--image-repository R]'\" >&2; exit 1; }\n"
                + "output=''\n"
                + "args=()\n"
                + "kversion=\"$VERSION\"\n"
                + "repo='registry.k8s.io'\n"
                + "while (( $# )); do\n"
                + "  case \"$1\" in\n"
                + "    -o|--output) output=\"${2:-}\"; shift 2 || shift ;;\n"
                + "    -o=*|--output=*) output=\"${1#*=}\"; shift ;;\n"
                + "    --kubernetes-version) kversion=\"${2:-}\"; shift 2 || shift ;;\n"
                + "    --kubernetes-version=*) kversion=\"${1#*=}\"; shift ;;\n"
                + "    --image-repository) repo=\"${2:-}\"; shift 2 || shift ;;\n"
                + "    --image-repository=*) repo=\"${1#*=}\"; shift ;;\n"
                + "    --config|--config=*|-v|--v|--v=*|--kubeconfig|--kubeconfig=*) "
                + "[[ \"$1\" == *=* || \"$1\" == -v || \"$1\" == --v ]] || shift; shift ;;\n"
                + "    *) args+=(\"$1\"); shift ;;\n"
                + "  esac\n"
                + "done\n"
                + "case \"${args[*]:-}\" in\n"
                + "  version)\n"
                + "    case \"$output\" in\n"
                + "      short) echo \"$VERSION\" ;;\n"
                + "      json) printf '{\\n  \"clientVersion\": '; info_json '  '; printf '\\n}\\n' ;;\n"
                + "      '') printf 'kubeadm version: '; info_go; echo ;;\n"
                + "      *) echo \"error: invalid output format: $output\" >&2; exit 1 ;;\n"
                + "    esac ;;\n"
                + "  'config images list')\n"
                + "    if [[ ! \"$kversion\" =~ ^v?([0-9]+)\\.([0-9]+)\\.([0-9]+)([-+].*)?$ ]]; then\n"
                + "      echo \"this version string is not a semantic version: \\\"$kversion\\\" (the sample kubeadm "
                + "cannot resolve labels like stable)\" >&2; exit 1\n"
                + "    fi\n"
                + "    kminor=\"${BASH_REMATCH[2]}\"\n"
                + "    [[ \"$kversion\" == v* ]] || kversion=\"v$kversion\"\n"
                + "    tag=\"${kversion//+/_}\"\n"
                + "    for c in kube-apiserver kube-controller-manager kube-scheduler kube-proxy; do\n"
                + "      echo \"$repo/$c:$tag\"\n"
                + "    done\n"
                + "    if [[ \"$repo\" == registry.k8s.io ]]; then echo \"$repo/coredns/coredns:$COREDNS\"; "
                + "else echo \"$repo/coredns:$COREDNS\"; fi\n"
                + "    echo \"$repo/pause:$PAUSE\"\n"
                + "    echo \"$repo/etcd:$(etcd_for_minor \"$kminor\")\" ;;\n"
                + "  *) usage ;;\n"
                + "esac\n";
    }

    static String kubeletScript(String v, String arch) {
        return header("kubelet", v) + versionVars(v, arch)
                + "case \"${1:-}\" in\n"
                + "  --version|--version=true) echo \"Kubernetes $VERSION\" ;;\n"
                + "  --version=raw) info_go; echo ;;\n"
                + "  *) echo \"sample kubelet $VERSION (kind-build): not a real kubelet; only --version works\" >&2; "
                + "exit 1 ;;\n"
                + "esac\n";
    }

    static String kubectlScript(String v, String arch) {
        return header("kubectl", v) + versionVars(v, arch)
                + "output=''\n"
                + "client=false\n"
                + "args=()\n"
                + "while (( $# )); do\n"
                + "  case \"$1\" in\n"
                + "    --client|--client=true) client=true; shift ;;\n"
                + "    -o|--output) output=\"${2:-}\"; shift 2 || shift ;;\n"
                + "    -o=*|--output=*) output=\"${1#*=}\"; shift ;;\n"
                + "    *) args+=(\"$1\"); shift ;;\n"
                + "  esac\n"
                + "done\n"
                + "if [[ \"${args[*]:-}\" != version ]]; then\n"
                + "  echo \"sample kubectl $VERSION (kind-build): only 'version --client' works\" >&2; exit 1\n"
                + "fi\n"
                + "case \"$output\" in\n"
                + "  json) printf '{\\n  \"clientVersion\": '; info_json '  '; "
                + "printf ',\\n  \"kustomizeVersion\": \"%s\"\\n}\\n' \"$KUSTOMIZE\" ;;\n"
                + "  '') echo \"Client Version: $VERSION\"; echo \"Kustomize Version: $KUSTOMIZE\"\n"
                + "      if [[ $client != true ]]; then\n"
                + "        echo 'The connection to the server localhost:8080 was refused - did you specify the right host or port?' >&2\n"
                + "        exit 1\n"
                + "      fi ;;\n"
                + "  *) echo \"error: --output $output is not available in the sample kubectl\" >&2; exit 1 ;;\n"
                + "esac\n";
    }
}
