package io.machinepool.ssh;

import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The host key types a scan collects, in the order it offers them and returns their keys: each with
 * the key type name of its keys and the host key algorithms JSch negotiates for it.
 */
enum ScannedKeyType {
  ED25519("ssh-ed25519", List.of("ssh-ed25519")),
  ECDSA_256("ecdsa-sha2-nistp256", List.of("ecdsa-sha2-nistp256")),
  ECDSA_384("ecdsa-sha2-nistp384", List.of("ecdsa-sha2-nistp384")),
  ECDSA_521("ecdsa-sha2-nistp521", List.of("ecdsa-sha2-nistp521")),
  /** One key, three signature algorithms: the SHA-2 ones first, then the SHA-1 one. */
  RSA("ssh-rsa", List.of("rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"));

  private final String keyType;
  private final List<String> algorithms;

  ScannedKeyType(String keyType, List<String> algorithms) {
    this.keyType = keyType;
    this.algorithms = algorithms;
  }

  /** The key type name, as in {@code known_hosts}: {@code ssh-rsa} for every RSA algorithm. */
  String keyType() {
    return keyType;
  }

  /** The type of keys of that type name, if a scan collects them. */
  static Optional<ScannedKeyType> of(String keyType) {
    for (ScannedKeyType type : values()) {
      if (type.keyType.equals(keyType)) {
        return Optional.of(type);
      }
    }
    return Optional.empty();
  }

  /**
   * The value of JSch's {@code server_host_key} that offers these types, in this enum's order.
   *
   * @param types the types to offer, at least one
   */
  static String proposal(Collection<ScannedKeyType> types) {
    return List.of(values()).stream()
        .filter(types::contains)
        .flatMap(type -> type.algorithms.stream())
        .collect(Collectors.joining(","));
  }

  /** Every key type name a scan collects, for messages. */
  static String names() {
    return List.of(values()).stream().map(t -> t.keyType).collect(Collectors.joining(", "));
  }
}
