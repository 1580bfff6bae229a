package io.machinepool.examples.quickstart;

import io.machinepool.HostKey;
import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPairGenerator;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

/**
 * Host keys for the quickstart's machines, as an SSH server would present them: freshly generated
 * ed25519 and ECDSA (nistp256) public keys, encoded in the OpenSSH wire format that {@code
 * known_hosts} and teuthology's {@code targets:} carry after the key type.
 */
final class DemoHostKeys {
  private DemoHostKeys() {}

  /**
   * An ed25519 and an ECDSA host key, as a real machine offers both.
   *
   * @return the keys, ed25519 first
   */
  static List<HostKey> generate() {
    return List.of(ed25519(), ecdsaNistp256());
  }

  /**
   * A new {@code ssh-ed25519} key: the type string, then the 32-byte public key.
   *
   * @return the key
   */
  static HostKey ed25519() {
    try {
      byte[] x509 =
          KeyPairGenerator.getInstance("Ed25519").generateKeyPair().getPublic().getEncoded();
      // The X.509 SubjectPublicKeyInfo of an Ed25519 key ends with the raw 32-byte key.
      byte[] raw = Arrays.copyOfRange(x509, x509.length - 32, x509.length);
      return key("ssh-ed25519", wire(text("ssh-ed25519"), raw));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("this JVM cannot generate Ed25519 keys", e);
    }
  }

  /**
   * A new {@code ecdsa-sha2-nistp256} key: the type, the curve name, then the uncompressed point.
   *
   * @return the key
   */
  static HostKey ecdsaNistp256() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"));
      ECPublicKey key = (ECPublicKey) generator.generateKeyPair().getPublic();
      ByteArrayOutputStream point = new ByteArrayOutputStream();
      point.write(4); // uncompressed: 0x04 || X || Y
      point.writeBytes(unsigned(key.getW().getAffineX(), 32));
      point.writeBytes(unsigned(key.getW().getAffineY(), 32));
      String type = "ecdsa-sha2-nistp256";
      return key(type, wire(text(type), text("nistp256"), point.toByteArray()));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("this JVM cannot generate ECDSA keys", e);
    }
  }

  private static HostKey key(String type, byte[] blob) {
    return new HostKey(type, Base64.getEncoder().encodeToString(blob));
  }

  private static byte[] text(String value) {
    return value.getBytes(StandardCharsets.US_ASCII);
  }

  /** Concatenates SSH {@code string}s: each a 4-byte big-endian length, then its bytes. */
  private static byte[] wire(byte[]... fields) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] field : fields) {
      out.write(field.length >>> 24);
      out.write(field.length >>> 16);
      out.write(field.length >>> 8);
      out.write(field.length);
      out.writeBytes(field);
    }
    return out.toByteArray();
  }

  private static byte[] unsigned(BigInteger value, int length) {
    byte[] bytes = value.toByteArray(); // may carry a leading sign byte, or be shorter
    byte[] fixed = new byte[length];
    int copy = Math.min(bytes.length, length);
    System.arraycopy(bytes, bytes.length - copy, fixed, length - copy, copy);
    return fixed;
  }
}
