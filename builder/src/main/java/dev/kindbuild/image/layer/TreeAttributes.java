package dev.kindbuild.image.layer;

/**
 * Owner and modes given to everything added from a host directory tree: the host's own owners and modes depend on
 * who ran the build and its umask, so they must not reach the image. Only the executable bit of host files is kept
 * (as the choice between {@code fileMode} and {@code executableMode}).
 *
 * @param uid            owner of every entry
 * @param gid            group of every entry
 * @param dirMode        mode of directories, e.g. 0755
 * @param fileMode       mode of files the host has not marked executable, e.g. 0644
 * @param executableMode mode of files the host has marked executable (by its owner), e.g. 0755
 */
public record TreeAttributes(long uid, long gid, int dirMode, int fileMode, int executableMode) {
    public TreeAttributes {
        for (int m : new int[] {dirMode, fileMode, executableMode}) {
            if ((m & ~07777) != 0) {
                throw new IllegalArgumentException("mode " + Integer.toOctalString(m) + " has bits beyond 07777");
            }
        }
    }

    /** root:root, directories 0755, files 0644, executables 0755. */
    public static TreeAttributes rootOwned() {
        return new TreeAttributes(0, 0, 0755, 0644, 0755);
    }
}
