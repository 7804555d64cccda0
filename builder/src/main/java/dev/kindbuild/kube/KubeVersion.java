package dev.kindbuild.kube;

import dev.kindbuild.UserError;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Kubernetes version: semver 2.0 with an optional leading {@code v}, always printed as {@code vX.Y.Z[-pre][+build]}.
 * Ordering follows semver precedence (build metadata ignored), so {@code v1.24.0-rc.1 < v1.24.0}.
 */
public record KubeVersion(int major, int minor, int patch, String preRelease, String build)
        implements Comparable<KubeVersion> {

    private static final String NUM = "(0|[1-9]\\d{0,8})";
    private static final String IDENT = "[0-9A-Za-z-]+";
    private static final Pattern SEMVER = Pattern.compile(
            "v?" + NUM + "\\." + NUM + "\\." + NUM
                    + "(?:-(" + IDENT + "(?:\\." + IDENT + ")*))?"
                    + "(?:\\+(" + IDENT + "(?:\\." + IDENT + ")*))?");

    public KubeVersion {
        preRelease = preRelease == null ? "" : preRelease;
        build = build == null ? "" : build;
    }

    /** Parses {@code 1.31.2}, {@code v1.31.2}, {@code v1.32.0-rc.1}, {@code v1.32.0-alpha.1.5+abc}; empty when it is not semver. */
    public static Optional<KubeVersion> tryParse(String text) {
        if (text == null) {
            return Optional.empty();
        }
        Matcher m = SEMVER.matcher(text.trim());
        if (!m.matches()) {
            return Optional.empty();
        }
        // Semver forbids leading zeros in numeric pre-release identifiers.
        String pre = m.group(4);
        if (pre != null) {
            for (String id : pre.split("\\.")) {
                if (id.length() > 1 && id.startsWith("0") && id.chars().allMatch(Character::isDigit)) {
                    return Optional.empty();
                }
            }
        }
        return Optional.of(new KubeVersion(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)),
                Integer.parseInt(m.group(3)), pre, m.group(5)));
    }

    /** As {@link #tryParse} but a one-line {@link UserError} naming {@code where} the text came from when it is not a version. */
    public static KubeVersion parse(String text, String where) {
        return tryParse(text).orElseThrow(() -> new UserError(
                where + ": \"" + (text == null ? "" : text.trim()) + "\" is not a Kubernetes version (expected vX.Y.Z[-pre], e.g. v1.31.2)"));
    }

    /** {@code 1.31.2} or {@code v1.31.2} → {@code v1.31.2}; empty when it is not semver. */
    public static Optional<String> normalize(String text) {
        return tryParse(text).map(KubeVersion::toString);
    }

    public boolean isPreRelease() {
        return !preRelease.isEmpty();
    }

    /** True when this version sorts strictly before {@code other} (e.g. {@code isBefore(v1.24.0)}). */
    public boolean isBefore(KubeVersion other) {
        return compareTo(other) < 0;
    }

    /** {@code v1.31}: the release line, as used for tables keyed by minor. */
    public String minorLine() {
        return "v" + major + "." + minor;
    }

    @Override
    public String toString() {
        return "v" + major + "." + minor + "." + patch
                + (preRelease.isEmpty() ? "" : "-" + preRelease)
                + (build.isEmpty() ? "" : "+" + build);
    }

    @Override
    public int compareTo(KubeVersion o) {
        int c = Integer.compare(major, o.major);
        if (c == 0) c = Integer.compare(minor, o.minor);
        if (c == 0) c = Integer.compare(patch, o.patch);
        if (c != 0) return c;
        if (preRelease.isEmpty() || o.preRelease.isEmpty()) {
            return Boolean.compare(preRelease.isEmpty(), o.preRelease.isEmpty());
        }
        String[] a = preRelease.split("\\.");
        String[] b = o.preRelease.split("\\.");
        for (int i = 0; i < Math.min(a.length, b.length); i++) {
            boolean an = a[i].chars().allMatch(Character::isDigit);
            boolean bn = b[i].chars().allMatch(Character::isDigit);
            if (an && bn) {
                c = a[i].length() != b[i].length() ? Integer.compare(a[i].length(), b[i].length()) : a[i].compareTo(b[i]);
            } else if (an != bn) {
                c = an ? -1 : 1;
            } else {
                c = a[i].compareTo(b[i]);
            }
            if (c != 0) return c;
        }
        return Integer.compare(a.length, b.length);
    }
}
