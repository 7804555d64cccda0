package dev.kindbuild.image.layer;

/**
 * A path as an image's top layer sees it (after whiteouts), as {@link ImageContents} reports it.
 *
 * @param path       absolute image path, {@code /etc/containerd/config.toml}; {@code /} for the root
 * @param kind       what it is
 * @param mode       permission bits including setuid/setgid/sticky (no file-type bits)
 * @param uid        owner
 * @param gid        group
 * @param size       content size of a regular file; 0 otherwise (a hard link reports its target's)
 * @param linkTarget symlink target verbatim, or the hard link target's absolute image path; null otherwise
 * @param layer      index of the layer (0 = bottom) the entry comes from; -1 for the implicit root
 */
public record ImageEntry(String path, Kind kind, int mode, long uid, long gid, long size, String linkTarget, int layer) {
    public enum Kind { FILE, DIRECTORY, SYMLINK, HARD_LINK, OTHER }

    public boolean isFile() {
        return kind == Kind.FILE || kind == Kind.HARD_LINK;
    }

    public boolean isDirectory() {
        return kind == Kind.DIRECTORY;
    }

    public boolean isSymlink() {
        return kind == Kind.SYMLINK;
    }
}
