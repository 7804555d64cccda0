package dev.kindbuild.kube;

import java.util.Comparator;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A containerd version as its packages and binaries spell it ({@code 1.6.20~ds1}, {@code v2.3.1},
 * {@code 1.7.24~ds1-1}): compared by major, minor and patch; {@code text} keeps the spelling for messages.
 */
public record ContainerdVersion(int major, int minor, int patch, String text) implements Comparable<ContainerdVersion> {
    private static final Pattern LEADING = Pattern.compile("v?(\\d{1,4})\\.(\\d{1,4})(?:\\.(\\d{1,6}))?.*");

    /** {@code 1.6.20~ds1-1+b1} → 1.6.20; empty when the text does not start with a version. */
    public static Optional<ContainerdVersion> parse(String text) {
        if (text == null) {
            return Optional.empty();
        }
        Matcher m = LEADING.matcher(text.strip());
        if (!m.matches()) {
            return Optional.empty();
        }
        return Optional.of(new ContainerdVersion(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)),
                m.group(3) == null ? 0 : Integer.parseInt(m.group(3)), text.strip()));
    }

    /**
     * The version in a {@code containerd --version} line: {@code containerd github.com/containerd/containerd 1.6.20~ds1
     * 1.6.20~ds1-1+b1} (Debian), {@code containerd github.com/containerd/containerd/v2 v2.3.1 <commit>} (upstream),
     * {@code containerd containerd.io 1.7.27 <commit>} (Docker's package). The third word is the version.
     */
    public static Optional<ContainerdVersion> fromVersionOutput(String output) {
        if (output == null) {
            return Optional.empty();
        }
        for (String line : output.split("\n")) {
            String[] words = line.strip().split("\\s+");
            if (words.length >= 3 && words[0].equals("containerd")) {
                return parse(words[2]);
            }
        }
        return Optional.empty();
    }

    /** A bare version for the table's bounds. */
    static ContainerdVersion of(int major, int minor) {
        return new ContainerdVersion(major, minor, 0, major + "." + minor);
    }

    /** {@code 1.6}: the release line. */
    public String line() {
        return major + "." + minor;
    }

    /** Packaging suffixes ({@code ~ds1}, {@code -1+b1}) do not count. */
    private static final Comparator<ContainerdVersion> ORDER = Comparator.comparingInt(ContainerdVersion::major)
            .thenComparingInt(ContainerdVersion::minor).thenComparingInt(ContainerdVersion::patch);

    @Override
    public int compareTo(ContainerdVersion o) {
        return ORDER.compare(this, o);
    }

    @Override
    public String toString() {
        return text;
    }
}
