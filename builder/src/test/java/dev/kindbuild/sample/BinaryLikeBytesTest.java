package dev.kindbuild.sample;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;

class BinaryLikeBytesTest {
    private static byte[] bytes(long length, String seed) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BinaryLikeBytes.write(out, length, seed);
        return out.toByteArray();
    }

    @Test
    void gzipsLikeAGoBinary() throws IOException {
        byte[] data = bytes(8 << 20, "ratio");
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (GZIPOutputStream g = new GZIPOutputStream(gz, 1 << 16)) {
            g.write(data);
        }
        double ratio = (double) gz.size() / data.length;
        assertTrue(ratio > 0.33 && ratio < 0.42, "gzip ratio " + ratio + " should be that of a Go binary (35-40%)");
    }

    @Test
    void sameSeedSameBytesOtherSeedOtherBytes() throws IOException {
        assertArrayEquals(bytes(300_001, "a"), bytes(300_001, "a"));
        assertEquals(300_001, bytes(300_001, "a").length);
        assertFalse(Arrays.equals(bytes(300_001, "a"), bytes(300_001, "b")));
    }

    @Test
    void paddedScriptStillStartsWithTheScriptAndHasTheSize() throws IOException {
        PaddedBinary p = PaddedBinary.script("#!/bin/sh\necho hi\n", 100_000, "s");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        p.writeTo(out);
        assertEquals(100_000, out.size());
        assertTrue(out.toString(java.nio.charset.StandardCharsets.ISO_8859_1).startsWith("#!/bin/sh\necho hi\nexit\n"));
    }
}
