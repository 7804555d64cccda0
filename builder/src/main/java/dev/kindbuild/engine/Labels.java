package dev.kindbuild.engine;

import java.util.Map;

/** Labels kind-build puts on everything it creates, so leaks can be found with `docker ps -a --filter label=…`. */
public final class Labels {
    private Labels() {}

    /** Every container and image kind-build creates carries this label with the value {@link #OWNER_VALUE}. */
    public static final String OWNER = "dev.kind-build.owner";
    public static final String OWNER_VALUE = "kind-build";
    /** What the container is for: base-build, builder, boot-check, verify. */
    public static final String PURPOSE = "dev.kind-build.purpose";
    /** Hash of the base-image recipe an image was built from. */
    public static final String RECIPE_HASH = "dev.kind-build.recipe-hash";
    /** The PID of the kind-build process that created a container, to tell live work from leaks. */
    public static final String PID = "dev.kind-build.pid";

    /** The labels for a container created for {@code purpose} by this process. */
    public static Map<String, String> forContainer(String purpose) {
        return Map.of(OWNER, OWNER_VALUE, PURPOSE, purpose, PID, Long.toString(ProcessHandle.current().pid()));
    }

    /** The filter expression matching everything kind-build made. */
    public static String ownerFilter() {
        return OWNER + "=" + OWNER_VALUE;
    }
}
