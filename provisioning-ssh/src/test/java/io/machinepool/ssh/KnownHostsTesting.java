package io.machinepool.ssh;

import io.machinepool.HostKey;
import io.machinepool.Machine;
import io.machinepool.testing.TestValues;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Machines and known_hosts lines for the tests of {@link KnownHostsFile}. The hashing here is the
 * tests' own, written from OpenSSH's description, not the code under test.
 */
final class KnownHostsTesting {
  private static final SecureRandom RANDOM = new SecureRandom();

  private KnownHostsTesting() {}

  /** A locked VM slot with an SSH port ({@code null} for 22) and host keys. */
  static Machine machine(String name, Integer port, HostKey... keys) {
    return TestValues.machine(
        name,
        "vps",
        "mira001.front.sepia.ceph.com",
        true,
        true,
        "tester@harness",
        null,
        null,
        "ubuntu",
        "22.04",
        "x86_64",
        null,
        List.of(keys),
        port,
        1);
  }

  /** A known_hosts line without line ending: {@code host type base64}. */
  static String line(String host, HostKey key) {
    return host + " " + key.type() + " " + key.base64();
  }

  /** A hashed host field {@code |1|salt|hash} for a host form, as OpenSSH writes it. */
  static String hashedHost(String host) {
    byte[] salt = new byte[20];
    RANDOM.nextBytes(salt);
    Base64.Encoder base64 = Base64.getEncoder();
    return "|1|" + base64.encodeToString(salt) + "|" + base64.encodeToString(hmac(salt, host));
  }

  /** Whether a hashed host field {@code |1|salt|hash} is the hash of a host form. */
  static boolean isHashOf(String field, String host) {
    String[] parts = field.split("\\|");
    if (parts.length != 4 || !parts[0].isEmpty() || !parts[1].equals("1")) {
      return false;
    }
    byte[] salt = Base64.getDecoder().decode(parts[2]);
    return Arrays.equals(hmac(salt, host), Base64.getDecoder().decode(parts[3]));
  }

  private static byte[] hmac(byte[] salt, String host) {
    try {
      Mac mac = Mac.getInstance("HmacSHA1");
      mac.init(new SecretKeySpec(salt, "HmacSHA1"));
      return mac.doFinal(host.getBytes(StandardCharsets.US_ASCII));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
