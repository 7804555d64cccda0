package dev.kindbuild.base;

import dev.kindbuild.recipe.RecipeTree;
import java.io.InputStream;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;

/** The base-image recipe (Dockerfile and the files it adds) and its identity for a given set of build inputs. */
public final class BaseRecipe {
    public static final String DEFAULT_REPOSITORY = "kindest/base";

    /**
     * Part of the identity: what kind-build labels a base image with. Bumped when that changes, so an image carrying
     * labels of an earlier scheme (e.g. the container-ownership label that its containers would inherit) is rebuilt
     * rather than reused.
     */
    static final String LABEL_SCHEME = "labels=2";

    private final RecipeTree tree;
    private final String hash;

    private BaseRecipe(RecipeTree tree, String hash) {
        this.tree = tree;
        this.hash = hash;
    }

    /** The bundled recipe, identified together with the FROM reference and the architecture. */
    public static BaseRecipe bundled(String fromImage, String arch) {
        return bundled(fromImage, arch, "");
    }

    /**
     * The bundled recipe for these component requests ({@link BaseImageRequest#componentsKey()}; "" for the defaults):
     * a containerd 1.7 base and a containerd 2.x base are two recipes, reused side by side.
     */
    public static BaseRecipe bundled(String fromImage, String arch, String componentsKey) {
        RecipeTree tree = RecipeTree.load("base-image");
        List<String> inputs = new java.util.ArrayList<>(List.of("from=" + fromImage, "arch=" + arch, LABEL_SCHEME));
        if (!componentsKey.isEmpty()) {
            inputs.add("components=" + componentsKey);
        }
        return new BaseRecipe(tree, tree.sha256(inputs));
    }

    static BaseRecipe of(RecipeTree tree, String fromImage, String arch) {
        return new BaseRecipe(tree, tree.sha256(List.of("from=" + fromImage, "arch=" + arch, LABEL_SCHEME)));
    }

    /** Full SHA-256 of recipe files plus inputs. */
    public String hash() {
        return hash;
    }

    /** kind's tag scheme, v&lt;YYYYMMDD&gt;-&lt;short hash&gt;, with the hash of the recipe instead of a git commit. */
    public String defaultTag(LocalDate day) {
        return DEFAULT_REPOSITORY + ":v" + day.format(DateTimeFormatter.BASIC_ISO_DATE) + "-" + hash.substring(0, 8);
    }

    public static LocalDate today() {
        return LocalDate.now(ZoneOffset.UTC);
    }

    /** The build context: the recipe folder as a tar stream. */
    public InputStream context() {
        return tree.tarStream("");
    }

    /** The build context with more files (the downloaded runtime components under components/). */
    public InputStream context(List<RecipeTree.RecipeFile> extra) {
        return tree.with(extra).tarStream("");
    }

    public RecipeTree tree() {
        return tree;
    }
}
