package dev.kindbuild.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a kubelet changed on the host is written back, and only that. */
class HostSysctlsTest {
    @TempDir
    Path procSys;

    @Test
    void restoresChangedValuesOnly() throws Exception {
        Files.createDirectories(procSys.resolve("kernel"));
        Files.createDirectories(procSys.resolve("vm"));
        Files.writeString(procSys.resolve("kernel/panic"), "0\n");
        Files.writeString(procSys.resolve("vm/overcommit_memory"), "0\n");
        HostSysctls saved = HostSysctls.snapshot(procSys);

        Files.writeString(procSys.resolve("kernel/panic"), "10\n");
        HostSysctls.Restored r = saved.restore();

        assertEquals(List.of("kernel.panic 10→0"), r.restored());
        assertEquals(List.of(), r.failed());
        assertEquals("0\n", Files.readString(procSys.resolve("kernel/panic")));
    }

    /** /proc/sys files claim size 0 and answer only a read from offset 0: a value of several digits is read whole. */
    @Test
    void readsAMultiDigitValueOfTheRealProcSysWhole() throws Exception {
        Path pidMax = Path.of("/proc/sys/kernel/pid_max");
        Process cat = new ProcessBuilder("cat", pidMax.toString()).start();
        String expected = new String(cat.getInputStream().readAllBytes()).strip();
        assertEquals(0, cat.waitFor());
        assertTrue(expected.length() > 1, expected);

        assertEquals(expected, HostSysctls.read(pidMax));
    }
}
