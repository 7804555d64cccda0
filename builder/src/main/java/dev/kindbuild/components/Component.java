package dev.kindbuild.components;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One runtime component of the base image as {@code base-image/components.yaml} declares it.
 *
 * @param name     containerd, runc, crictl or cni-plugins (also the option name: --containerd, …)
 * @param version  the default version (kind's pin)
 * @param url      upstream download URL with {@code {version}} and {@code {arch}} placeholders
 * @param checksum URL of the checksum file upstream publishes ({@code {url}} is the download URL), if any
 * @param sha256   verified digests of the default version's download, per arch
 * @param install  where the download's files go in the image
 * @param debian   the Debian package that can stand in for it, if any
 */
public record Component(String name, String version, String url, Optional<String> checksum, Map<String, String> sha256,
        Install install, Optional<DebianPackage> debian) {

    /** The download URL of {@code version} for {@code arch}. */
    public String urlFor(String version, String arch) {
        return url.replace("{version}", version).replace("{arch}", arch);
    }

    /** The published checksum file's URL for a download, if upstream publishes one. */
    public Optional<String> checksumFor(String version, String arch) {
        String download = urlFor(version, arch);
        return checksum.map(c -> c.replace("{url}", download).replace("{version}", version).replace("{arch}", arch));
    }

    /**
     * How a download is installed: a tarball's regular files below {@code from} into the directory {@code to} (only
     * the names in {@code only} when it is not empty), or a single binary file copied to {@code binary}.
     */
    public record Install(String from, String to, List<String> only, Optional<String> binary) {}

    /** A Debian package and the versions suites have, nearest first. */
    public record DebianPackage(String name, List<DebianCandidate> versions) {}

    /** {@code containerd} 2.1.9 in sid. */
    public record DebianCandidate(String suite, String version) {}
}
