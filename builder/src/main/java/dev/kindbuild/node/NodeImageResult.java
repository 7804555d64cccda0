package dev.kindbuild.node;

import java.util.List;
import java.util.Map;

/**
 * What a node-image build produced.
 *
 * @param image       the tag
 * @param imageId     the engine's image ID
 * @param version     the Kubernetes version inside
 * @param baseImage   the base image it was built on
 * @param images      the images baked into /kind/images
 * @param stepSeconds how long each step took
 */
public record NodeImageResult(String image, String imageId, String version, String baseImage, List<ImageRecord> images,
        Map<String, Double> stepSeconds) {}
