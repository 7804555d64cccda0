package dev.kindbuild.sample;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * A stand-in program grown to a real binary's size: the program's bytes, then {@link BinaryLikeBytes} filler. For a
 * script the filler follows an {@code exit}, so the shell never reads it; for an ELF it lies outside every loaded
 * segment. So the stand-in still answers as before.
 *
 * @param program the stand-in (a script or an ELF)
 * @param size    total size; at least the program's
 * @param seed    filler seed, so that different binaries do not share bytes (and so no layer or blob deduplicates)
 */
record PaddedBinary(byte[] program, long size, String seed) implements Tars.Body {
    /** A script ending in {@code exit}, then a comment line, then filler. */
    static PaddedBinary script(String script, long size, String seed) {
        String head = script + (script.endsWith("\n") ? "" : "\n")
                + "exit\n# kind-build real-size sample: the bytes below only make this stand-in as big as the real binary\n";
        return new PaddedBinary(head.getBytes(StandardCharsets.UTF_8), size, seed);
    }

    PaddedBinary {
        if (size < program.length) {
            throw new IllegalArgumentException("padded size " + size + " is smaller than the program (" + program.length + ")");
        }
    }

    @Override
    public void writeTo(OutputStream out) throws IOException {
        out.write(program);
        BinaryLikeBytes.write(out, size - program.length, seed);
    }
}
