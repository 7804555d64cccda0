package dev.kindbuild.testing;

import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.image.store.ImageStore;
import dev.kindbuild.node.NodeImageRequest;
import dev.kindbuild.node.NodeImageResult;
import dev.kindbuild.node.pipeline.NodeBuild;
import dev.kindbuild.progress.Progress;

/** A `--builder docker` build, as the CLI runs it (the default image store, the result tagged in the engine). */
public final class DockerBuilds {
    private DockerBuilds() {}

    public static NodeImageResult run(DockerEngine engine, Progress progress, NodeImageRequest request) {
        return new NodeBuild(ImageStore.defaultLocation(), progress).run(request, NodeBuild.Options.docker(engine)).node();
    }
}
