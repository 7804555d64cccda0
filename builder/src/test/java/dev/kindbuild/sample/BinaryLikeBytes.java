package dev.kindbuild.sample;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Deterministic filler that gzips like a Go binary (to about 35-40%): pseudo-random runs (machine code and data that
 * deflate cannot shrink) interleaved with runs of symbol-table-like text and short zero runs (alignment), which it
 * shrinks a lot. All zeros would compress to nothing and all random not at all; either would make a real-size
 * fixture's download, gunzip and layer-compression times unrealistic. Same seed and length → same bytes.
 */
final class BinaryLikeBytes {
    private BinaryLikeBytes() {}

    /** Go-ish symbol and path fragments; text runs are drawn from these, as in a binary's pclntab and rodata. */
    private static final String[] WORDS = {
        "runtime.", "k8s.io/apimachinery/pkg/apis/meta/v1.", "k8s.io/client-go/tools/cache.", "(*Reader).Read",
        "sync.(*Mutex).Lock", "encoding/json.", "github.com/spf13/cobra.", "go.etcd.io/etcd/client/v3.",
        "google.golang.org/grpc.", "net/http.(*Transport).", "k8s.io/api/core/v1.", "Unmarshal", "Marshal", "String",
        "DeepCopyInto", "reflect.", "errors.New", "fmt.Sprintf", "context.WithTimeout", ".func1", ".func2", "type..eq.",
        "/usr/local/go/src/", "gopkg.in/yaml.v2.", "k8s.io/kubernetes/pkg/kubelet/", "ProtoMessage", "Reset", "Size",
        "XXX_Unmarshal", "github.com/prometheus/client_golang/prometheus.", "Descriptor", "\u0000", "\u0000\u0000\u0000",
    };
    private static final byte[][] WORD_BYTES = new byte[WORDS.length][];

    static {
        for (int i = 0; i < WORDS.length; i++) {
            WORD_BYTES[i] = WORDS[i].getBytes(StandardCharsets.UTF_8);
        }
    }

    /** Out of 256: how often a run is pseudo-random. Tuned so that gzip -6 gives about 37%. */
    private static final int RANDOM_RUNS = 74;
    /** Out of 256: how often a run is zeros; the rest is text. */
    private static final int ZERO_RUNS = 20;

    /** Writes {@code length} filler bytes for {@code seed} to {@code out}. */
    static void write(OutputStream out, long length, String seed) throws IOException {
        SplitMix random = new SplitMix(seed);
        byte[] buffer = new byte[1 << 16];
        long left = length;
        while (left > 0) {
            int n = (int) Math.min(buffer.length, left);
            fill(buffer, n, random);
            out.write(buffer, 0, n);
            left -= n;
        }
    }

    private static void fill(byte[] buffer, int n, SplitMix random) {
        int at = 0;
        while (at < n) {
            long choice = random.next();
            int kind = (int) (choice & 0xFF);
            int run = Math.min(n - at, 64 + (int) ((choice >>> 8) & 0x3FF)); // 64..1087 bytes, like functions
            if (kind < RANDOM_RUNS) {
                for (int end = at + run; at < end; ) {
                    long r = random.next();
                    for (int k = 0; k < 8 && at < end; k++, r >>>= 8) {
                        buffer[at++] = (byte) r;
                    }
                }
            } else if (kind < RANDOM_RUNS + ZERO_RUNS) {
                java.util.Arrays.fill(buffer, at, at + run, (byte) 0);
                at += run;
            } else {
                for (int end = at + run; at < end; ) {
                    byte[] word = WORD_BYTES[(int) Long.remainderUnsigned(random.next(), WORD_BYTES.length)];
                    int m = Math.min(word.length, end - at);
                    System.arraycopy(word, 0, buffer, at, m);
                    at += m;
                }
            }
        }
    }

    /** SplitMix64: fast, and its sequence is fixed by the seed (java.util.Random's would do, but slower). */
    private static final class SplitMix {
        private long state;

        SplitMix(String seed) {
            long h = 0x9E3779B97F4A7C15L;
            for (byte b : seed.getBytes(StandardCharsets.UTF_8)) {
                h = (h ^ b) * 0x100000001B3L;
            }
            state = h;
        }

        long next() {
            long z = (state += 0x9E3779B97F4A7C15L);
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            return z ^ (z >>> 31);
        }
    }
}
