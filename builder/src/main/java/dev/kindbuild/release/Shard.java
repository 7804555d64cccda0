package dev.kindbuild.release;

import dev.kindbuild.UserError;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One share of a release's (version, arch) images, for `release FILE --shard I/N`: image k of the plan (in the file's
 * order, versions outer, arches inner) belongs to shard (k mod N) + 1. The split depends on the file alone, so any
 * shard can be run again, anywhere, and build the same images.
 *
 * @param index 1-based
 * @param count how many shards there are
 */
public record Shard(int index, int count) {
    private static final Pattern FORM = Pattern.compile("([0-9]{1,4})/([0-9]{1,4})");

    /** The whole release on one machine. */
    public static final Shard ALL = new Shard(1, 1);

    public Shard {
        if (count < 1 || index < 1 || index > count) {
            throw new UserError("--shard " + index + "/" + count + ": give I/N with 1 ≤ I ≤ N, e.g. --shard 1/4");
        }
    }

    /** {@code I/N}, as --shard takes it; anything else is one line saying the form. */
    public static Shard parse(String text) {
        Matcher m = FORM.matcher(text == null ? "" : text.strip());
        if (!m.matches()) {
            throw new UserError("--shard " + text + ": give I/N (this shard's number and how many there are), e.g. --shard 1/4");
        }
        return new Shard(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)));
    }

    /** A number of shards, as --shards takes it; below one is one line. */
    public static int count(int shards) {
        if (shards < 1) {
            throw new UserError("--shards " + shards + ": give how many shards to split the release over, 1 or more");
        }
        return shards;
    }

    /** This shard's targets, in plan order; empty when there are more shards than images. */
    public List<ReleaseBuild.Target> select(List<ReleaseBuild.Target> targets) {
        List<ReleaseBuild.Target> mine = new ArrayList<>();
        for (int k = 0; k < targets.size(); k++) {
            if (k % count == index - 1) {
                mine.add(targets.get(k));
            }
        }
        return List.copyOf(mine);
    }

    @Override
    public String toString() {
        return index + "/" + count;
    }
}
