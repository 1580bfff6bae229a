package io.machinepool;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * A machine of the inventory as the database holds it now: the teuthology/paddles fields, its
 * current SSH host keys, and the fencing generation of its latest lock.
 *
 * @param name the fully qualified host name
 * @param machineType its pool, e.g. {@code smithi} or {@code vps}
 * @param vpsHost for a VM slot the physical machine it lives on, {@code null} for a physical
 *     machine
 * @param up whether it may be handed out
 * @param locked whether someone holds it
 * @param lockedBy the owner of the lock, {@code null} when free
 * @param lockedSince when it was locked (database clock), {@code null} when free
 * @param description the lock's description, or the reason it was marked down; may be {@code null}
 * @param osType the installed OS, e.g. {@code ubuntu}, or {@code null}
 * @param osVersion the installed OS version, e.g. {@code 22.04}, or {@code null}
 * @param arch the architecture, or {@code null}
 * @param macAddress a VM slot's MAC address, or {@code null}
 * @param hostKeys its current SSH host keys, one per key type, possibly empty
 * @param sshPort the SSH port when it is not 22, or {@code null}
 * @param generation the fencing generation: incremented by every lock
 */
public record Machine(
    String name,
    String machineType,
    String vpsHost,
    boolean up,
    boolean locked,
    String lockedBy,
    Instant lockedSince,
    String description,
    String osType,
    String osVersion,
    String arch,
    String macAddress,
    List<HostKey> hostKeys,
    Integer sshPort,
    long generation) {

  /** Copies the host keys so that the record is immutable. */
  public Machine {
    hostKeys = hostKeys == null ? List.of() : List.copyOf(hostKeys);
  }

  /**
   * Whether this is a VM slot that gets re-imaged on lock.
   *
   * @return {@code true} when {@link #vpsHost()} is set
   */
  public boolean isVirtual() {
    return vpsHost != null;
  }

  /**
   * The key teuthology would put in {@code targets:}: ed25519 before ECDSA before RSA before
   * others.
   *
   * @return the preferred host key, or empty when none is known
   */
  public Optional<HostKey> preferredHostKey() {
    return hostKeys.stream()
        .min(java.util.Comparator.comparingInt(key -> HostKeyPreference.rank(key.type())));
  }

  /**
   * Returns this machine with other host keys.
   *
   * @param keys the keys
   * @return a new record
   */
  public Machine withHostKeys(List<HostKey> keys) {
    return new Machine(
        name,
        machineType,
        vpsHost,
        up,
        locked,
        lockedBy,
        lockedSince,
        description,
        osType,
        osVersion,
        arch,
        macAddress,
        keys,
        sshPort,
        generation);
  }

  /**
   * Returns this machine with another OS and architecture.
   *
   * @param type the OS type, or {@code null}
   * @param version the OS version, or {@code null}
   * @param architecture the architecture, or {@code null}
   * @return a new record
   */
  public Machine withOs(String type, String version, String architecture) {
    return new Machine(
        name,
        machineType,
        vpsHost,
        up,
        locked,
        lockedBy,
        lockedSince,
        description,
        type,
        version,
        architecture,
        macAddress,
        hostKeys,
        sshPort,
        generation);
  }

  /** The order of preference among key types. */
  static final class HostKeyPreference {
    private static final List<String> ORDER =
        List.of("ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521");

    private HostKeyPreference() {}

    static int rank(String type) {
      int index = ORDER.indexOf(type);
      if (index >= 0) {
        return index;
      }
      return type.startsWith("ssh-rsa") || type.startsWith("rsa-")
          ? ORDER.size()
          : ORDER.size() + 1;
    }
  }
}
