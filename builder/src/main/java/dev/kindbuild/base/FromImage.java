package dev.kindbuild.base;

/**
 * The image the base recipe starts from, as the engine has it.
 *
 * @param ref the reference passed as BASE_IMAGE to the recipe
 * @param how one of "present", "pulled", "bootstrapped"
 * @param why for "bootstrapped": why the pull did not work
 */
public record FromImage(String ref, String how, String why) {
    public String note() {
        return switch (how) {
            case "bootstrapped" -> why + "; bootstrapped " + ref + " with mmdebstrap from Debian's mirror";
            case "pulled" -> "pulled " + ref;
            default -> ref + " already present";
        };
    }
}
