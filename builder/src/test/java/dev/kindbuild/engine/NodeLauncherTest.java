package dev.kindbuild.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class NodeLauncherTest {

    @Test
    void recognisesEnginesThatRefusePrivileged() {
        assertTrue(NodeLauncher.refusedPrivileges(
                "Status 500: {\"message\":\"OCI runtime create failed: runc create failed: unable to start container process: unable to apply caps: operation not permitted: unknown\"}"));
        assertFalse(NodeLauncher.refusedPrivileges("No such image: kindest/base:v1"));
    }

    @Test
    void lastLogLineDropsTerminalEscapes() {
        assertEquals("[  OK  ] Reached target Multi-User System.",
                NodeLauncher.lastLine("a\r\n\u001B[0;32m[  OK  ]\u001B[0m Reached target Multi-User System.\r\n"));
    }

    @Test
    void imageNamesSplitAtTheLastColonAfterTheRegistry() {
        assertEquals(new ImageName("127.0.0.1:5000/kindest/base", "v1"), ImageName.parse("127.0.0.1:5000/kindest/base:v1"));
        assertEquals(new ImageName("127.0.0.1:5000/kindest/base", "latest"), ImageName.parse("127.0.0.1:5000/kindest/base"));
        assertEquals("a/b@sha256:00", ImageName.parse("a/b@sha256:00").toString());
    }
}
