package dev.kindbuild.sample;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kindbuild.UserError;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SampleImagesTest {

    @Test
    void programsAreDeterministicElfFiles() {
        for (String arch : new String[] {"amd64", "arm64"}) {
            byte[] a = SampleImages.program(arch, "hello");
            assertArrayEquals(a, SampleImages.program(arch, "hello"));
            ByteBuffer b = ByteBuffer.wrap(a).order(ByteOrder.LITTLE_ENDIAN);
            assertEquals(0x464c457f, b.getInt(0));
            assertEquals(arch.equals("amd64") ? 62 : 183, b.getShort(18));
            assertEquals(a.length, (int) b.getLong(64 + 32), "PT_LOAD covers the file");
            assertTrue(new String(a, StandardCharsets.UTF_8).contains("hello\n"));
            assertTrue(a.length < 400, "tiny: " + a.length);
        }
        assertThrows(UserError.class, () -> SampleImages.program("s390x", "x"));
    }

    @Test
    void amd64ProgramPrintsAndExitsZeroOnSigterm(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(System.getProperty("os.arch").matches("amd64|x86_64"), "needs an x86-64 host");
        Path p = dir.resolve("pause");
        Files.write(p, SampleImages.program("amd64", "sample says hi"));
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        for (int round = 0; round < 2; round++) {
            Process proc = new ProcessBuilder(p.toString()).redirectErrorStream(true).start();
            BufferedReader r = new BufferedReader(new InputStreamReader(proc.getInputStream(), StandardCharsets.UTF_8));
            assertEquals("sample says hi", r.readLine());
            Thread.sleep(200);
            assertTrue(proc.isAlive(), "waits for a signal");
            if (round == 0) {
                proc.destroy(); // SIGTERM
            } else {
                new ProcessBuilder("kill", "-INT", Long.toString(proc.pid())).start().waitFor();
            }
            assertTrue(proc.waitFor(5, TimeUnit.SECONDS));
            assertEquals(0, proc.exitValue());
        }
    }
}
