package dev.kindbuild.recipe;

import com.google.common.hash.Hasher;
import com.google.common.hash.Hashing;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystem;
import java.nio.file.FileSystemNotFoundException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import dev.kindbuild.support.TarWriter;

/**
 * A folder of recipe files bundled into kind-build (base-image/, node-image/, manifests/ of the checkout are copied
 * into the jar under recipes/). Files are small, so they are read into memory; order and output are deterministic.
 */
public final class RecipeTree {

    /** One file: its path relative to the tree root (forward slashes) and content. */
    public record RecipeFile(String path, byte[] content) {
        /** Executables: anything in a bin/ or sbin/ folder, and shell scripts. */
        public int mode() {
            boolean executable = path.contains("bin/") || path.endsWith(".sh");
            return executable ? 0755 : 0644;
        }

        public String text() {
            return new String(content, StandardCharsets.UTF_8);
        }
    }

    private final String name;
    private final List<RecipeFile> files;

    private RecipeTree(String name, List<RecipeFile> files) {
        this.name = name;
        this.files = List.copyOf(files);
    }

    /** Loads recipes/{@code name} from the classpath (a folder in development, the jar when installed). */
    public static RecipeTree load(String name) {
        String root = "recipes/" + name;
        URL url = RecipeTree.class.getClassLoader().getResource(root);
        if (url == null) {
            throw new IllegalStateException("kind-build was built without " + root + "; rebuild it with scripts/kind-build");
        }
        try {
            URI uri = url.toURI();
            if ("jar".equals(uri.getScheme())) {
                FileSystem fs;
                try {
                    fs = FileSystems.getFileSystem(uri);
                } catch (FileSystemNotFoundException e) {
                    fs = FileSystems.newFileSystem(uri, Map.of());
                }
                return read(name, fs.getPath(root));
            }
            return read(name, Path.of(uri));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static RecipeTree read(String name, Path root) throws IOException {
        List<RecipeFile> files = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.filter(Files::isRegularFile).sorted().toList()) {
                String rel = root.relativize(p).toString().replace('\\', '/');
                files.add(new RecipeFile(rel, Files.readAllBytes(p)));
            }
        }
        files.sort((a, b) -> a.path().compareTo(b.path()));
        return new RecipeTree(name, files);
    }

    public String name() {
        return name;
    }

    public List<RecipeFile> files() {
        return files;
    }

    /** This tree plus {@code extra} files (kept sorted, so the tar stays deterministic). */
    public RecipeTree with(List<RecipeFile> extra) {
        List<RecipeFile> all = new ArrayList<>(files);
        all.addAll(extra);
        all.sort((a, b) -> a.path().compareTo(b.path()));
        return new RecipeTree(name, all);
    }

    /** The files below {@code prefix} (e.g. "files/"), with the prefix removed from their paths. */
    public RecipeTree subtree(String prefix) {
        List<RecipeFile> sub = files.stream().filter(f -> f.path().startsWith(prefix))
                .map(f -> new RecipeFile(f.path().substring(prefix.length()), f.content())).toList();
        return new RecipeTree(name + "/" + prefix, sub);
    }

    public RecipeFile file(String path) {
        return files.stream().filter(f -> f.path().equals(path)).findFirst()
                .orElseThrow(() -> new IllegalStateException("recipe " + name + " has no " + path));
    }

    /** SHA-256 over paths, modes and contents, plus {@code extra} inputs (build args) — the recipe's identity. */
    public String sha256(List<String> extra) {
        Hasher h = Hashing.sha256().newHasher();
        for (RecipeFile f : files) {
            h.putString(f.path(), StandardCharsets.UTF_8).putInt(f.mode()).putInt(f.content().length).putBytes(f.content());
        }
        for (String e : extra) {
            h.putString(e, StandardCharsets.UTF_8).putByte((byte) 0);
        }
        return h.hash().toString();
    }

    /**
     * Writes the tree as an uncompressed tar below {@code prefix} (e.g. "" or "etc/"), with parent directories,
     * root ownership and a fixed mtime so the same tree always gives the same bytes.
     */
    public void writeTar(OutputStream out, String prefix) throws IOException {
        TarWriter tar = new TarWriter(out);
        java.util.Set<String> dirs = new java.util.TreeSet<>();
        for (RecipeFile f : files) {
            String full = prefix + f.path();
            for (int i = full.indexOf('/'); i > 0; i = full.indexOf('/', i + 1)) {
                String dir = full.substring(0, i + 1);
                if (dirs.add(dir)) {
                    tar.directory(dir, 0755);
                }
            }
            tar.file(full, f.mode(), f.content());
        }
        tar.finish();
    }

    /** The tree as a tar stream, produced on a background thread so the engine can read while it is written. */
    public InputStream tarStream(String prefix) {
        try {
            java.io.PipedInputStream in = new java.io.PipedInputStream(1 << 16);
            java.io.PipedOutputStream pipe = new java.io.PipedOutputStream(in);
            Thread writer = new Thread(() -> {
                try (pipe) {
                    writeTar(pipe, prefix);
                } catch (IOException e) {
                    // the reader sees a truncated stream and the engine reports it
                }
            }, "recipe-tar");
            writer.setDaemon(true);
            writer.start();
            return in;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
