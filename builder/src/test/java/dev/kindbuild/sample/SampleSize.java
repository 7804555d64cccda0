package dev.kindbuild.sample;

/** How big the sample release and images are. */
public enum SampleSize {
    /** Kilobyte stand-ins: fast tests and demos. */
    STAND_IN,
    /**
     * The sizes of a real v1.31.2 linux/amd64 release and of the images a cluster pulls (see {@link RealSizes}), padded
     * with {@link BinaryLikeBytes} so they compress like real binaries: for benchmarks. Cached across runs.
     */
    REAL
}
