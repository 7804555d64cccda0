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
    /** What follows the {@code @} of a digest: a known algorithm, never a host (so a password's {@code @} is not one). */
    private static final Pattern DIGEST_AFTER_AT = Pattern.compile("(?i)sha(?:256|384|512):[^/@]*$");

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

    /**
     * Parses a docker-style reference; a malformed one is a one-line {@link UserError}. A reference carrying
     * credentials ({@code user:password@host/repo}) is refused without echoing them: they belong in the Docker config.
     */
    public static ImageRef parse(String reference) {
        if (reference == null || reference.isBlank()) {
            throw new UserError("empty image reference");
        }
        refuseCredentials(reference, "invalid image reference \"" + redact(reference) + "\"");
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
            throw new UserError("invalid image reference \"" + redact(reference) + "\": " + e.getMessage()
                    + " (expected [registry/]repository[:tag][@sha256:digest])", e);
        }
    }

    /**
     * {@code text} (a reference, registry or mirror as the user wrote it) with any user info — everything before the
     * {@code @} that ends a {@code user:password} part — replaced by {@code ***}. The {@code @} of a digest
     * ({@code …@sha256:…}) is kept. Every message that quotes a reference the user gave goes through here first.
     */
    public static String redact(String text) {
        if (text == null) {
            return null;
        }
        int end = userInfoEnd(text);
        if (end < 0) {
            return text;
        }
        int scheme = text.indexOf("://");
        int start = scheme >= 0 && scheme < end ? scheme + 3 : 0;
        return text.substring(0, start) + "***" + text.substring(end);
    }

    /**
     * Fails with {@code what} and how to give credentials instead when {@code text} (a reference, registry host or
     * {@code HOST=MIRROR}) carries user info; {@code what} must already be redacted.
     */
    public static void refuseCredentials(String text, String what) {
        if (text != null && userInfoEnd(text) >= 0) {
            String rest = text.substring(userInfoEnd(text) + 1).strip();
            String host = rest.substring(rest.lastIndexOf('=') + 1).replaceFirst("/.*", "");
            boolean registry = host.contains(".") || host.contains(":") || host.equals("localhost");
            throw new UserError(what + ": credentials (user:password@) do not belong in a reference (they would be shown "
                    + "and logged); log in with `docker login" + (registry ? " " + host : "")
                    + "` instead (kind-build reads ~/.docker/config.json and its credential helpers)");
        }
    }

    /** The index of the {@code @} that ends a user-info part, or -1: the last {@code @} not followed by a digest. */
    private static int userInfoEnd(String text) {
        for (int at = text.lastIndexOf('@'); at >= 0; at = text.lastIndexOf('@', at - 1)) {
            if (!DIGEST_AFTER_AT.matcher(text).region(at + 1, text.length()).lookingAt()) {
                return at;
            }
        }
        return -1;
    }

    /** docker.io's aliases collapse to docker.io; registry host names are case-insensitive. */
    public static String normalizeRegistry(String registry) {
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
