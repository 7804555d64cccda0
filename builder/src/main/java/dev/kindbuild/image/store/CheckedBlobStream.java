package dev.kindbuild.image.store;

import dev.kindbuild.support.Sha256;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;

/**
 * A store blob's bytes, hashed as they pass. The read that reaches the blob's size compares the digest with the
 * blob's name and, on a mismatch, throws instead of returning its bytes: whoever forwards what it reads (a push, an
 * archive, a layer) never gets all of a blob that lies. A blob that ends early or goes on past its size fails the
 * same way. The error comes from {@link ImageStore#damaged}, which removes the blob.
 */
final class CheckedBlobStream extends FilterInputStream {
    private final ImageStore store;
    private final String digest;
    private final long size;
    private final MessageDigest hash = Sha256.newDigest();
    private long read;
    private boolean checked;

    CheckedBlobStream(InputStream in, ImageStore store, String digest, long size) {
        super(in);
        this.store = store;
        this.digest = digest;
        this.size = size;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n = in.read(b, off, len);
        if (n < 0) {
            if (read < size) {
                throw store.damaged(digest, "it ended after " + read + " of its " + size + " bytes");
            }
            check();
            return n;
        }
        hash.update(b, off, n);
        read += n;
        if (read > size) {
            throw store.damaged(digest, "it grew past its " + size + " bytes while being read");
        }
        if (read == size) {
            check();
        }
        return n;
    }

    /** Skipped bytes are read and hashed too: a skip is no excuse for an unchecked blob. */
    @Override
    public long skip(long n) throws IOException {
        byte[] buf = new byte[(int) Math.min(Math.max(n, 0), 1 << 16)];
        long skipped = 0;
        while (skipped < n) {
            int r = read(buf, 0, (int) Math.min(buf.length, n - skipped));
            if (r < 0) {
                break;
            }
            skipped += r;
        }
        return skipped;
    }

    @Override
    public boolean markSupported() {
        return false;
    }

    @Override
    public synchronized void mark(int readlimit) {
        // not supported: a reset would hash bytes twice
    }

    @Override
    public synchronized void reset() throws IOException {
        throw new IOException("mark/reset not supported");
    }

    private void check() {
        if (checked) {
            return;
        }
        checked = true;
        String got = "sha256:" + Sha256.hex(hash);
        if (!got.equals(digest)) {
            throw store.damaged(digest, "its bytes hash to " + got.substring(0, 19) + "…, not to its name");
        }
    }
}
