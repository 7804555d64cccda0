package dev.kindbuild.selfimage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.Collections;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class JavaTrustStoreTest {
    static byte[] resource(String name) throws Exception {
        try (var in = JavaTrustStoreTest.class.getResourceAsStream("/selfimage/" + name)) {
            return in.readAllBytes();
        }
    }

    static SortedMap<String, byte[]> twoCertificates() throws Exception {
        SortedMap<String, byte[]> pems = new TreeMap<>();
        pems.put("isrg_root_x1", resource("ISRG_Root_X1.crt"));
        pems.put("digicert_global_root_g2", resource("DigiCert_Global_Root_G2.crt"));
        return pems;
    }

    @Test
    void theJreReadsItWithNoPasswordAndTrustsEachCertificate() throws Exception {
        byte[] store = JavaTrustStore.of(twoCertificates());
        // As the JRE loads its default trust store: the default type, no password.
        KeyStore loaded = KeyStore.getInstance(KeyStore.getDefaultType());
        loaded.load(new ByteArrayInputStream(store), null);
        List<String> aliases = Collections.list(loaded.aliases());
        assertEquals(List.of("digicert_global_root_g2", "isrg_root_x1"), aliases.stream().sorted().toList());
        for (String alias : aliases) {
            assertTrue(loaded.isCertificateEntry(alias), alias);
        }
        assertTrue(((X509Certificate) loaded.getCertificate("isrg_root_x1")).getSubjectX500Principal().getName().contains("ISRG Root X1"));
    }

    @Test
    void theSameCertificatesGiveTheSameBytes() throws Exception {
        assertArrayEquals(JavaTrustStore.of(twoCertificates()), JavaTrustStore.of(twoCertificates()));
        assertEquals(null, System.getProperty("keystore.pkcs12.macAlgorithm"), "the write's settings are put back");
    }

    @Test
    void aFileThatIsNoCertificateIsNamed() {
        SortedMap<String, byte[]> pems = new TreeMap<>();
        pems.put("broken", "not a certificate".getBytes());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> JavaTrustStore.of(pems));
        assertTrue(e.getMessage().startsWith("broken is no PEM certificate"), e.getMessage());
    }
}
