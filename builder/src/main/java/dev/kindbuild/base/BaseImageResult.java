package dev.kindbuild.base;

import dev.kindbuild.engine.NodeMode;
import java.util.Optional;

/**
 * What a base-image run produced.
 *
 * @param image       the tag
 * @param imageId     the engine's image ID
 * @param recipeHash  hash of recipe files and build inputs
 * @param reused      true when an image of the same recipe existed and was tagged instead of rebuilt
 * @param from        how the FROM image was obtained (empty when reused)
 * @param bootCheck   the node mode of the boot check, when one ran
 * @param components  the runtime components it has (from its labels when reused)
 */
public record BaseImageResult(
        String image,
        String imageId,
        String recipeHash,
        boolean reused,
        Optional<FromImage> from,
        Optional<NodeMode> bootCheck,
        java.util.List<dev.kindbuild.components.InstalledComponent> components) {}
