package io.machinepool.ssh;

import io.machinepool.HostKey;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.util.Arrays;
import java.util.Base64;

/** Fresh key pairs, and their public keys in OpenSSH wire format, for tests. */
final class TestKeys {
  private TestKeys() {}

  static KeyPair ed25519() {
    return generate("Ed25519", null, 0);
  }

  /**
   * An ed25519 pair that Apache MINA SSHD can serve as a host key: made by its EdDSA provider (the
   * JDK's own Ed25519 keys it cannot sign with).
   */
  static KeyPair minaEd25519() {
    try {
      return org.apache.sshd.common.config.keys.KeyUtils.generateKeyPair("ssh-ed25519", 256);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  static KeyPair rsa() {
    return generate("RSA", null, 2048);
  }

  static KeyPair ecdsa256() {
    return generate("EC", new ECGenParameterSpec("secp256r1"), 0);
  }

  static KeyPair ecdsa384() {
    return generate("EC", new ECGenParameterSpec("secp384r1"), 0);
  }

  static KeyPair ecdsa521() {
    return generate("EC", new ECGenParameterSpec("secp521r1"), 0);
  }

  /** A DSA key pair: a host key type that SSH servers may still offer and scans do not collect. */
  static KeyPair dsa() {
    return generate("DSA", null, 1024);
  }

  /** The public key as a machinepool {@link HostKey}. */
  static HostKey hostKey(KeyPair pair) {
    return hostKey(pair.getPublic());
  }

  static HostKey hostKey(PublicKey key) {
    byte[] blob = blob(key);
    return new HostKey(
        PoolHostKeyRepository.blobType(blob).orElseThrow(),
        Base64.getEncoder().encodeToString(blob));
  }

  /** The public key blob as SSH puts it on the wire (RFC 4253 6.6, RFC 5656, RFC 8709). */
  static byte[] blob(PublicKey key) {
    try {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      DataOutputStream out = new DataOutputStream(bytes);
      if (key instanceof RSAPublicKey rsa) {
        string(out, "ssh-rsa".getBytes(StandardCharsets.US_ASCII));
        string(out, rsa.getPublicExponent().toByteArray());
        string(out, rsa.getModulus().toByteArray());
      } else if (key instanceof ECPublicKey ec) {
        int bits = ec.getParams().getCurve().getField().getFieldSize();
        int size = (bits + 7) / 8;
        string(out, ("ecdsa-sha2-nistp" + bits).getBytes(StandardCharsets.US_ASCII));
        string(out, ("nistp" + bits).getBytes(StandardCharsets.US_ASCII));
        byte[] point = new byte[1 + 2 * size];
        point[0] = 4;
        fixed(ec.getW().getAffineX(), point, 1, size);
        fixed(ec.getW().getAffineY(), point, 1 + size, size);
        string(out, point);
      } else if (key.getAlgorithm().equals("EdDSA") || key.getAlgorithm().equals("Ed25519")) {
        byte[] x509 = key.getEncoded();
        string(out, "ssh-ed25519".getBytes(StandardCharsets.US_ASCII));
        string(out, Arrays.copyOfRange(x509, x509.length - 32, x509.length));
      } else {
        throw new IllegalArgumentException("no SSH encoding for " + key.getAlgorithm());
      }
      out.flush();
      return bytes.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void string(DataOutputStream out, byte[] value) throws IOException {
    out.writeInt(value.length);
    out.write(value);
  }

  private static void fixed(BigInteger value, byte[] into, int offset, int size) {
    byte[] raw = value.toByteArray();
    int skip = raw.length > size ? raw.length - size : 0;
    System.arraycopy(raw, skip, into, offset + size - (raw.length - skip), raw.length - skip);
  }

  private static KeyPair generate(String algorithm, ECGenParameterSpec spec, int bits) {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance(algorithm);
      if (spec != null) {
        generator.initialize(spec);
      } else if (bits > 0) {
        generator.initialize(bits);
      }
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
