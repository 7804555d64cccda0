package dev.kindbuild.components;

import dev.kindbuild.UserError;
import dev.kindbuild.recipe.RecipeTree.RecipeFile;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;

/**
 * What the chosen components add to the base build: the downloaded files laid out under {@code components/} of the
 * build context (the Dockerfile copies that tree over /), and the Debian packages with the suites to take them from.
 */
public final class ComponentFiles {
    /** The folder of the build context the recipe copies over the image's root. */
    public static final String CONTEXT_DIR = "components/";

    private ComponentFiles() {}

    /** The build context entries for upstream and file components, e.g. components/usr/local/bin/containerd. */
    public static List<RecipeFile> contextFiles(List<ComponentChoice> choices) {
        List<RecipeFile> out = new ArrayList<>();
        for (ComponentChoice c : choices) {
            if (c.blob().isEmpty()) {
                continue;
            }
            Map<String, byte[]> files = installed(c);
            files.forEach((path, bytes) -> out.add(new RecipeFile(CONTEXT_DIR + path.substring(1), bytes)));
        }
        return out;
    }

    /** Absolute path in the image → content, for one downloaded component. */
    static Map<String, byte[]> installed(ComponentChoice c) {
        Component.Install install = c.plan().component().install();
        Path blob = c.blob().orElseThrow();
        Map<String, byte[]> out = new TreeMap<>();
        try {
            if (install.binary().isPresent()) {
                out.put(install.binary().get(), Files.readAllBytes(blob));
                return out;
            }
            try (InputStream raw = new BufferedInputStream(Files.newInputStream(blob));
                    TarArchiveInputStream tar = new TarArchiveInputStream(new GzipCompressorInputStream(raw))) {
                for (TarArchiveEntry e; (e = tar.getNextTarEntry()) != null; ) {
                    String name = e.getName().startsWith("./") ? e.getName().substring(2) : e.getName();
                    if (!e.isFile() || !name.startsWith(install.from())) {
                        continue;
                    }
                    String rest = name.substring(install.from().length());
                    if (rest.isEmpty() || rest.contains("/") || rest.equals("..") || !install.only().isEmpty() && !install.only().contains(rest)) {
                        continue;
                    }
                    out.put(install.to() + rest, tar.readAllBytes());
                }
            }
        } catch (IOException e) {
            throw new UserError(c.name() + " from " + c.origin() + " is not a gzip tarball as expected (" + e.getMessage() + ")");
        }
        Set<String> missing = new LinkedHashSet<>(install.only());
        out.keySet().forEach(p -> missing.remove(p.substring(p.lastIndexOf('/') + 1)));
        if (out.isEmpty() || !missing.isEmpty()) {
            throw new UserError(c.name() + " from " + c.origin() + " lacks " + (out.isEmpty() ? "any file under '" + install.from() + "'"
                    : String.join(", ", missing)) + ": is it the " + c.name() + " release tarball?");
        }
        return out;
    }

    /** The apt names to install ({@code containerd/sid} for another suite than the base's). */
    public static List<String> aptPackages(List<ComponentChoice> choices, String baseSuite) {
        return choices.stream().flatMap(c -> c.aptName(baseSuite).stream()).toList();
    }

    /** The suites other than the base's own that packages come from. */
    public static List<String> extraSuites(List<ComponentChoice> choices, String baseSuite) {
        return choices.stream().filter(c -> c.source() == ComponentChoice.Source.DEBIAN && !c.origin().equals(baseSuite))
                .map(ComponentChoice::origin).distinct().toList();
    }
}
