package dev.kindbuild.components;

import java.nio.file.Path;
import java.util.Optional;

/**
 * How one component was obtained.
 *
 * @param name    the component
 * @param version its version as known before the build ("" when only the built image can tell: a URL or file)
 * @param source  where it came from
 * @param origin  the URL, the Debian suite or the file
 * @param blob    the verified download or the file, for upstream and file sources
 * @param sha256  the blob's digest
 * @param plan    the plan it came from
 */
public record ComponentChoice(String name, String version, Source source, String origin, Optional<Path> blob,
        Optional<String> sha256, ComponentPlan plan) {

    public enum Source { UPSTREAM, DEBIAN, FILE, ABSENT }

    /** {@code upstream https://…}, {@code debian sid}, {@code file /x}, {@code absent}: the label's and --json's words. */
    public String sourceText() {
        return source == Source.ABSENT ? "absent" : source.name().toLowerCase() + " " + origin;
    }

    /** The Debian package to install, {@code containerd/sid} when the suite is not the base's own. */
    public Optional<String> aptName(String baseSuite) {
        if (source != Source.DEBIAN) {
            return Optional.empty();
        }
        String pkg = plan.component().debian().orElseThrow().name();
        return Optional.of(origin.equals(baseSuite) ? pkg : pkg + "/" + origin);
    }
}
