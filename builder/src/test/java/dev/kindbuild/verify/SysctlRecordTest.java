package dev.kindbuild.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The rules of putting back what a dead {@code verify --cluster} left changed, on a fake /proc/sys: only runs that no
 * longer run, only values still at kubelet's, nothing while another run goes on, nothing from an earlier boot or
 * another host, never a file a record names outside kubelet's keys.
 */
class SysctlRecordTest {
    @TempDir
    Path procSys;
    @TempDir
    Path runs;

    @BeforeEach
    void host() throws Exception {
        set("kernel/hostname", "testhost");
        set("kernel/random/boot_id", "boot-1");
        set("vm/overcommit_memory", "0");
        set("kernel/panic_on_oops", "0");
        set("kernel/panic", "0");
        set("kernel/keys/root_maxkeys", "1000000");
    }

    void set(String key, String value) throws Exception {
        Files.createDirectories(procSys.resolve(key).getParent());
        Files.writeString(procSys.resolve(key), value + "\n");
    }

    String get(String key) throws Exception {
        return Files.readString(procSys.resolve(key)).strip();
    }

    /** The record a run writes, then renamed as if its process had died. */
    Path deadRecord(String hostname, String bootId) throws Exception {
        Path written = SysctlRecord.write(runs, HostSysctls.snapshot(procSys), procSys);
        long[] dead = deadProcess();
        String json = Files.readString(written).replace("\"testhost\"", "\"" + hostname + "\"").replace("\"boot-1\"", "\"" + bootId + "\"");
        Path file = runs.resolve("sysctls-" + dead[0] + "-" + dead[1] + "-0badc0de.json");
        Files.writeString(file, json);
        Files.delete(written);
        return file;
    }

    static long[] deadProcess() throws Exception {
        Process p = new ProcessBuilder("true").start();
        long start = p.info().startInstant().map(i -> i.toEpochMilli()).orElse(1L);
        p.waitFor();
        return new long[] {p.pid(), start};
    }

    void kubeletStarts() throws Exception {
        HostSysctls.KUBELET_VALUES.forEach((k, v) -> {
            try {
                if (Files.exists(procSys.resolve(k))) {
                    set(k, v);
                }
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
    }

    @Test
    void aRecordHoldsOnlyWhatKubeletWouldChange() throws Exception {
        Path written = SysctlRecord.write(runs, HostSysctls.snapshot(procSys), procSys);
        String json = Files.readString(written);
        assertTrue(json.contains("\"vm/overcommit_memory\""), json);
        assertTrue(json.contains("\"kernel/panic_on_oops\""), json);
        assertFalse(json.contains("root_maxkeys"), "already at kubelet's value: " + json);
        try (Stream<Path> s = Files.list(runs)) {
            assertEquals(List.of(written), s.toList(), "one file, no partial left");
        }
    }

    @Test
    void aDeadRunsChangesArePutBackAndItsRecordRemoved() throws Exception {
        Path record = deadRecord("testhost", "boot-1");
        kubeletStarts();
        set("kernel/panic", "5"); // changed by someone else since: not ours to undo

        SysctlRecord.Outcome o = SysctlRecord.restoreAbandoned(runs, procSys);

        assertEquals(List.of(), o.failed());
        assertEquals(Map.of("vm/overcommit_memory", "0", "kernel/panic_on_oops", "0", "kernel/panic", "5", "kernel/keys/root_maxkeys", "1000000"),
                Map.of("vm/overcommit_memory", get("vm/overcommit_memory"), "kernel/panic_on_oops", get("kernel/panic_on_oops"),
                        "kernel/panic", get("kernel/panic"), "kernel/keys/root_maxkeys", get("kernel/keys/root_maxkeys")));
        assertEquals(List.of("kernel.panic_on_oops 1→0", "vm.overcommit_memory 1→0"), o.restored().stream().sorted().toList());
        assertFalse(Files.exists(record));
    }

    @Test
    void nothingIsRestoredWhileAnotherRunGoesOn() throws Exception {
        Path dead = deadRecord("testhost", "boot-1");
        Path live = SysctlRecord.write(runs, HostSysctls.snapshot(procSys), procSys); // this JVM: alive
        kubeletStarts();

        SysctlRecord.Outcome o = SysctlRecord.restoreAbandoned(runs, procSys);

        assertEquals(List.of(ProcessHandle.current().pid()), o.liveRuns());
        assertEquals(List.of(), o.restored());
        assertEquals("1", get("vm/overcommit_memory"));
        assertTrue(Files.exists(dead), "kept for a cleanup after the live run");
        assertTrue(Files.exists(live));
    }

    @Test
    void aRecordOfAnEarlierBootIsDroppedAndAnotherHostsIsLeftAlone() throws Exception {
        Path earlierBoot = deadRecord("testhost", "boot-0");
        Path otherHost = deadRecord("otherhost", "boot-1");
        kubeletStarts();

        SysctlRecord.Outcome o = SysctlRecord.restoreAbandoned(runs, procSys);

        assertEquals(List.of(), o.restored());
        assertEquals("1", get("vm/overcommit_memory"));
        assertFalse(Files.exists(earlierBoot));
        assertTrue(Files.exists(otherHost));
    }

    @Test
    void aRecordNeverNamesAFileOutsideKubeletsKeys() throws Exception {
        Path record = deadRecord("testhost", "boot-1");
        set("kernel/modprobe", "/sbin/modprobe");
        Files.writeString(record, Files.readString(record).replace("\"sysctls\" : {",
                "\"sysctls\" : { \"kernel/modprobe\" : { \"before\" : \"/tmp/evil\", \"changedTo\" : \"/sbin/modprobe\" },"));
        kubeletStarts();

        SysctlRecord.Outcome o = SysctlRecord.restoreAbandoned(runs, procSys);

        assertEquals("/sbin/modprobe", get("kernel/modprobe"));
        assertFalse(o.restored().stream().anyMatch(r -> r.startsWith("kernel.modprobe")), o.restored().toString());
        assertEquals(3, o.restored().size(), "kubelet's keys are still restored: " + o.restored());
    }
}
