package dev.kindbuild.image.archive;

/** The two image tarball formats kind-build writes: docker-archive (`docker load`) and an OCI image layout. */
public enum ArchiveFormat { DOCKER, OCI }
