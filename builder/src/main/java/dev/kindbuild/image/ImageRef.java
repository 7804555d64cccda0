package dev.kindbuild.image;

import dev.kindbuild.UserError;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A fully qualified image reference, parsed with Docker's defaults: {@code busybox} is
 * {@code docker.io/library/busybox:latest}; {@code registry.k8s.io/pause:3.10} keeps its registry; a reference may
 * carry a digest ({@code …@sha256:…}) with or without a tag.
 *
 * @param registry   e.g. {@code registry.k8s.io}, {@code docker.io}, {@code 127.0.0.1:5000}
 * @param repository e.g. {@code pause}, {@code library/busybox}, {@code coredns/coredns}
 * @param tag        e.g. {@code 3.10}; null only when a digest was given without a tag
 * @param digest     e.g. {@code sha256:…}, or null
 */
public record ImageRef(String registry, String repository, String tag, String digest) {

    public static final String DOCKER_HUB = "docker.io";

    private static final Pattern REGISTRY = Pattern.compile(
            "(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\\[[0-9A-Fa-f:.]+\\])(?::[0-9]{1,5})?");
    private static final Pattern PATH_COMPONENT = Pattern.compile("[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*");
    private static final Pattern TAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
    private static final Pattern DIGEST = Pattern.compile("[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-fA-F0-9]{32,}");
    private static final Pattern SHA256 = Pattern.compile("sha256:[a-f0-9]{64}");

    public ImageRef {
        if (registry == null || registry.isEmpty() || !REGISTRY.matcher(registry).matches()) {
            throw new IllegalArgumentException("invalid registry: " + registry);
        }
        if (repository == null || repository.isEmpty()) {
            throw new IllegalArgumentException("empty repository");
        }
        for (String part : repository.split("/", -1)) {
            if (!PATH_COMPONENT.matcher(part).matches()) {
                throw new IllegalArgumentException("invalid repository: " + repository);
            }
        }
        if (tag != null && !TAG.matcher(tag).matches()) {
            throw new IllegalArgumentException("invalid tag: " + tag);
        }
        if (digest != null && !DIGEST.matcher(digest).matches()) {
            throw new IllegalArgumentException("invalid digest: " + digest);
        }
        if (digest != null && digest.startsWith("sha256:") && !SHA256.matcher(digest).matches()) {
            throw new IllegalArgumentException("invalid sha256 digest: " + digest);
        }
        if (tag == null && digest == null) {
            tag = "latest";
        }
        registry = normalizeRegistry(registry);
        if (registry.equals(DOCKER_HUB) && !repository.contains("/")) {
            repository = "library/" + repository;
        }
    }

    /**
     * Checks a reference the user gave as {@code what} (e.g. "--base-image") before anything talks to the engine, so
     * a malformed one is one line naming the option, not an engine error.
     */
    public static void check(String reference, String what) {
        try {
            parse(reference);
        } catch (UserError e) {
            throw new UserError(what + ": " + e.getMessage());
        }
    }

    /** Parses a docker-style reference; a malformed one is a one-line {@link UserError}. */
    public static ImageRef parse(String reference) {
        if (reference == null || reference.isBlank()) {
            throw new UserError("empty image reference");
        }
        String ref = reference.strip();
        try {
            String digest = null;
            int at = ref.indexOf('@');
            if (at >= 0) {
                digest = ref.substring(at + 1);
                ref = ref.substring(0, at);
            }
            String tag = null;
            int slash = ref.lastIndexOf('/');
            int colon = ref.lastIndexOf(':');
            if (colon > slash) {
                tag = ref.substring(colon + 1);
                ref = ref.substring(0, colon);
            }
            String registry = DOCKER_HUB;
            String repository = ref;
            int first = ref.indexOf('/');
            if (first > 0) {
                String head = ref.substring(0, first);
                if (head.contains(".") || head.contains(":") || head.equals("localhost") || head.startsWith("[")) {
                    registry = head;
                    repository = ref.substring(first + 1);
                }
            }
            if (!repository.equals(repository.toLowerCase(Locale.ROOT))) {
                throw new IllegalArgumentException("repository names must be lowercase");
            }
            return new ImageRef(registry, repository, tag, digest);
        } catch (IllegalArgumentException e) {
            throw new UserError("invalid image reference \"" + reference + "\": " + e.getMessage()
                    + " (expected [registry/]repository[:tag][@sha256:digest])", e);
        }
    }

    /** docker.io's aliases collapse to docker.io; registry host names are case-insensitive. */
    static String normalizeRegistry(String registry) {
        String r = registry.toLowerCase(Locale.ROOT);
        return switch (r) {
            case "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com" -> DOCKER_HUB;
            default -> r;
        };
    }

    public ImageRef withDigest(String newDigest) {
        return new ImageRef(registry, repository, tag, newDigest);
    }

    public ImageRef withoutDigest() {
        return digest == null ? this : new ImageRef(registry, repository, tag == null ? "latest" : tag, null);
    }

    public ImageRef withTag(String newTag) {
        return new ImageRef(registry, repository, newTag, digest);
    }

    /** The same repository path (and tag/digest) on another registry, under an optional path prefix. */
    public ImageRef onRegistry(String newRegistry, String pathPrefix) {
        String repo = pathPrefix == null || pathPrefix.isEmpty() ? repository : pathPrefix + "/" + repository;
        return new ImageRef(newRegistry, repo, tag, digest);
    }

    /** {@code registry/repository} */
    public String name() {
        return registry + "/" + repository;
    }

    /**
     * {@code registry/repository:tag}: the name a docker-archive carries and containerd/kubelet look up. Fails for a
     * digest-only reference (an archive cannot be tagged with a digest).
     */
    public String nameWithTag() {
        if (tag == null) {
            throw new UserError("image " + this + " has no tag; a docker-archive can only carry name:tag, "
                    + "so give it as name:tag@" + digest);
        }
        return name() + ":" + tag;
    }

    /** The tag, or the digest when there is no tag: what a registry's manifest endpoint is asked for. */
    public String qualifier() {
        return digest != null ? digest : tag;
    }

    public boolean isDockerHub() {
        return registry.equals(DOCKER_HUB);
    }

    /**
     * A file name for this image's tarball, safe on every file system, e.g. {@code registry.k8s.io_pause_3.10.tar}
     * or {@code docker.io_kindest_kindnetd_v20250512.tar}. The digest, if any, is not part of it.
     */
    public String fileName() {
        String base = name().replace('/', '_') + (tag != null ? "_" + tag : "_" + digest.replace(':', '_'));
        String safe = base.replaceAll("[^A-Za-z0-9._-]", "_");
        if (safe.length() > 200) {
            safe = safe.substring(0, 200);
        }
        return safe + ".tar";
    }

    /** Canonical text: {@code registry/repository[:tag][@digest]}. */
    @Override
    public String toString() {
        return name() + (tag != null ? ":" + tag : "") + (digest != null ? "@" + digest : "");
    }
}
