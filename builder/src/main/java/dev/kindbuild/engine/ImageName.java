package dev.kindbuild.engine;

/**
 * An image reference split into repository and tag (or digest), e.g. {@code kindest/base:v1} or
 * {@code 127.0.0.1:5000/pause@sha256:…}. Only splits; registry defaults are the image package's concern.
 */
public record ImageName(String repository, String tag) {

    public static ImageName parse(String ref) {
        int at = ref.indexOf('@');
        if (at >= 0) {
            return new ImageName(ref.substring(0, at), ref.substring(at + 1));
        }
        int slash = ref.lastIndexOf('/');
        int colon = ref.lastIndexOf(':');
        if (colon > slash) {
            return new ImageName(ref.substring(0, colon), ref.substring(colon + 1));
        }
        return new ImageName(ref, "latest");
    }

    @Override
    public String toString() {
        return repository + (tag.startsWith("sha256:") ? "@" : ":") + tag;
    }
}
