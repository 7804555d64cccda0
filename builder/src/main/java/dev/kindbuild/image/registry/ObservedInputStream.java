package dev.kindbuild.image.registry;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.function.IntConsumer;

/** A stream that tells {@code onRead} what each read gave: a byte count, or -1 at the end. */
final class ObservedInputStream extends FilterInputStream {
    private final IntConsumer onRead;

    ObservedInputStream(InputStream in, IntConsumer onRead) {
        super(in);
        this.onRead = onRead;
    }

    @Override
    public int read() throws IOException {
        int b = super.read();
        onRead.accept(b < 0 ? -1 : 1);
        return b;
    }

    @Override
    public int read(byte[] buf, int off, int len) throws IOException {
        int n = super.read(buf, off, len);
        onRead.accept(n);
        return n;
    }
}
