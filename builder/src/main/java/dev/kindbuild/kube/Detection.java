package dev.kindbuild.kube;

import dev.kindbuild.UserError;
import dev.kindbuild.kube.KubernetesSource.Directory;
import dev.kindbuild.kube.KubernetesSource.File;
import dev.kindbuild.kube.KubernetesSource.Release;
import dev.kindbuild.kube.KubernetesSource.SourceTree;
import dev.kindbuild.kube.KubernetesSource.Url;
import dev.kindbuild.support.Urls;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/** Detection helpers behind {@link KubernetesSource#detect}. */
final class Detection {
    private Detection() {}

    static final String ACCEPTED = "expected a release version (e.g. v1.31.2), a CI marker (e.g. ci/latest), an http(s) URL of a "
            + "kubernetes-server-linux-<arch>.tar.gz, a path to such a tarball, a directory holding kubeadm, kubelet "
            + "and kubectl, or a Kubernetes source tree";

    private static final Pattern MODULE_LINE =
            Pattern.compile("(?m)^\\s*module\\s+\"?k8s\\.io/kubernetes\"?\\s*(//.*)?$");
    private static final Pattern VERSIONISH = Pattern.compile("v?\\d+(\\.\\d+)*(-.*)?");

    static KubernetesSource forced(String arg, String type, URI releaseBase) {
        switch (type) {
            case "release": {
                Optional<KubeVersion> v = KubeVersion.tryParse(arg);
                if (v.isEmpty()) {
                    throw new UserError("--type release: \"" + Urls.redact(arg)
                            + "\" is not a Kubernetes version (expected vX.Y.Z[-pre], e.g. v1.31.2)");
                }
                return new Release(v.get().toString(), releaseBase);
            }
            case "ci":
                return new KubernetesSource.Ci(arg, releaseBase);
            case "url": {
                if (!Urls.isHttpUrl(arg)) {
                    throw new UserError("--type url: \"" + Urls.redact(arg) + "\" is not an http(s) URL");
                }
                return new Url(Urls.parseHttpUrl(arg));
            }
            case "file": {
                Path p = toPath(arg);
                if (p == null || !Files.exists(p)) {
                    throw new UserError("--type file: " + arg + " does not exist");
                }
                if (!Files.isRegularFile(p)) {
                    throw new UserError("--type file: " + arg + " is not a regular file");
                }
                return new File(p);
            }
            case "dir": {
                Path p = toPath(arg);
                if (p == null || !Files.isDirectory(p)) {
                    throw new UserError("--type dir: " + arg + " is not a directory");
                }
                List<String> missing = missingBinaries(p);
                if (!missing.isEmpty()) {
                    throw new UserError("--type dir: " + p + " lacks " + String.join(", ", missing)
                            + " (it must hold kubeadm, kubelet and kubectl)");
                }
                return new Directory(p);
            }
            case "source": {
                Path p = toPath(arg);
                if (p == null || !Files.isDirectory(p)) {
                    throw new UserError("--type source: " + arg + " is not a directory");
                }
                if (!isKubernetesSourceTree(p)) {
                    throw new UserError("--type source: " + p
                            + " is not a Kubernetes source tree (its go.mod must declare module k8s.io/kubernetes)");
                }
                return new SourceTree(p);
            }
            default:
                throw new UserError("unknown --type \"" + type + "\": expected one of " + String.join(", ", KubernetesSource.TYPES));
        }
    }

    static Path toPath(String arg) {
        try {
            return Path.of(arg);
        } catch (RuntimeException invalid) {
            return null;
        }
    }

    static List<String> missingBinaries(Path dir) {
        List<String> missing = new ArrayList<>();
        for (String b : KubernetesSource.BINARIES) {
            if (!Files.isRegularFile(dir.resolve(b))) {
                missing.add(b);
            }
        }
        return missing;
    }

    static boolean isKubernetesSourceTree(Path dir) {
        Path goMod = dir.resolve("go.mod");
        if (!Files.isRegularFile(goMod)) {
            return false;
        }
        try (InputStream in = Files.newInputStream(goMod)) {
            String head = new String(in.readNBytes(256 * 1024), StandardCharsets.UTF_8);
            return MODULE_LINE.matcher(head).find();
        } catch (IOException e) {
            return false;
        }
    }

    static String notASource(String arg) {
        String shown = Urls.redact(arg);
        String hint = "";
        if (arg.contains("://")) {
            hint = " (only http:// and https:// URLs are supported)";
        } else if (arg.contains("/") || arg.endsWith(".tar.gz") || arg.endsWith(".tgz")) {
            hint = " (no such file or directory)";
        } else if (VERSIONISH.matcher(arg).matches()) {
            hint = " (a release version needs all three parts, e.g. v1.31.2)";
        }
        return "\"" + shown + "\" is not a Kubernetes source" + hint + ": " + ACCEPTED;
    }
}
