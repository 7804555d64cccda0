package dev.kindbuild.testing;

import dev.kindbuild.engine.DockerEngine;
import dev.kindbuild.lifecycle.TempPaths;
import dev.kindbuild.sample.SampleEnvironment;
import java.nio.file.Path;
import java.util.Collection;

/** The end of an integration test class: its engine images, sample environment, private cache and temp dir, each gone even when another fails to go. */
public final class ItTeardown {
    private ItTeardown() {}

    /** Any argument may be null (set-up failed before making it). */
    public static void run(DockerEngine engine, Collection<String> engineTags, SampleEnvironment env, TestCache cache, Path tmp) {
        try {
            if (engine != null) {
                engineTags.forEach(engine::removeImage);
                engine.close();
            }
        } finally {
            try {
                if (env != null) {
                    env.close();
                }
            } finally {
                try {
                    if (cache != null) {
                        cache.close();
                    }
                } finally {
                    if (tmp != null) {
                        TempPaths.deleteTree(tmp);
                    }
                }
            }
        }
    }
}
