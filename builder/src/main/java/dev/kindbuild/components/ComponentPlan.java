package dev.kindbuild.components;

import java.util.Optional;

/**
 * How one component will be obtained, decided before anything is fetched: the upstream download to try (with the
 * digest to check it against, or the checksum file to read it from), else a local file, and the Debian package that
 * stands in when upstream cannot be reached.
 *
 * @param component   the declaration
 * @param request     what was asked
 * @param version     the version the upstream download is ("" when unknown: a URL or file)
 * @param url         the upstream download, if one is to be tried
 * @param sha256      a digest the components file vouches for
 * @param checksumUrl where upstream publishes the digest, used when {@code sha256} is empty
 * @param file        a local file to install (--containerd FILE)
 * @param debian      the Debian stand-in, if any
 */
public record ComponentPlan(Component component, ComponentRequest request, String version, Optional<String> url,
        Optional<String> sha256, Optional<String> checksumUrl, Optional<String> file, Optional<Component.DebianCandidate> debian) {

    public String name() {
        return component.name();
    }

    /** Whether the user pinned this component: then nothing but what was asked will do. */
    public boolean explicit() {
        return request.kind() != ComponentRequest.Kind.DEFAULT;
    }
}
