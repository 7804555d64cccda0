package dev.kindbuild.cli;

import dev.kindbuild.UserError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The files one command reads and the files it writes, each with the words that name it to the user (e.g.
 * "--base-image archive"). An output that is one of the inputs — by path, through a symlink, a relative path or a
 * hard link — or another output is refused before any work: writing it would destroy what the build reads, and the
 * command would still end with exit 0.
 */
final class CommandFiles {
    private record Named(String what, Path path) {}

    private final List<Named> inputs = new ArrayList<>();
    private final List<Named> outputs = new ArrayList<>();

    CommandFiles reads(String what, Path path) {
        if (path != null) {
            inputs.add(new Named(what, path));
        }
        return this;
    }

    CommandFiles writes(String what, Path path) {
        if (path != null) {
            outputs.add(new Named(what, path));
        }
        return this;
    }

    /** One line naming both when an output would overwrite an input or another output. */
    void refuseOverwrites() {
        for (int i = 0; i < outputs.size(); i++) {
            Named out = outputs.get(i);
            for (Named in : inputs) {
                if (same(out.path(), in.path())) {
                    throw new UserError(out.what() + " " + out.path() + " is the " + in.what() + " (" + in.path()
                            + "): writing it would destroy what this command reads; write to another file");
                }
            }
            for (Named other : outputs.subList(0, i)) {
                if (same(out.path(), other.path())) {
                    throw new UserError(out.what() + " " + out.path() + " is also the " + other.what()
                            + ": one would overwrite the other; give each its own file");
                }
            }
        }
    }

    /** The same file: by inode when both exist (symlinks followed, hard links caught), else by resolved path. */
    private static boolean same(Path a, Path b) {
        try {
            if (Files.exists(a) && Files.exists(b)) {
                return Files.isSameFile(a, b);
            }
        } catch (IOException e) {
            // unreadable: compare by path below
        }
        return resolved(a).equals(resolved(b));
    }

    /**
     * The absolute path with its deepest existing ancestor's symlinks resolved: a file that does not exist yet is
     * found where it would be written.
     */
    private static Path resolved(Path p) {
        Path abs = p.toAbsolutePath().normalize();
        Path existing = abs;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing == null) {
            return abs;
        }
        try {
            return existing.toRealPath().resolve(existing.relativize(abs)).normalize();
        } catch (IOException e) {
            return abs;
        }
    }
}
