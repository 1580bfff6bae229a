package io.machinepool;

import io.machinepool.internal.ApiValues;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A machine of the inventory as the database holds it now: the teuthology/paddles fields, its
 * current SSH host keys, and the fencing generation of its latest lock.
 *
 * <p>Only the library creates machines, from what the database holds, so a {@code Machine} always
 * shows a lock state the database had; the {@code with...} methods derive one that differs in what
 * a provisioner or a connection may change, never in the lock. Two machines are equal when every
 * field is.
 */
public final class Machine {
  static {
    ApiValues.install(new ApiValuesFactory());
  }

  private final String name;
  private final String machineType;
  private final String vpsHost;
  private final boolean up;
  private final boolean locked;
  private final String lockedBy;
  private final Instant lockedSince;
  private final String description;
  private final String osType;
  private final String osVersion;
  private final String arch;
  private final String macAddress;
  private final List<HostKey> hostKeys;
  private final Integer sshPort;
  private final long generation;

  /** Keeps the fields; copies the host keys so that the machine is immutable. */
  Machine(
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
    this.name = name;
    this.machineType = machineType;
    this.vpsHost = vpsHost;
    this.up = up;
    this.locked = locked;
    this.lockedBy = lockedBy;
    this.lockedSince = lockedSince;
    this.description = description;
    this.osType = osType;
    this.osVersion = osVersion;
    this.arch = arch;
    this.macAddress = macAddress;
    this.hostKeys = hostKeys == null ? List.of() : List.copyOf(hostKeys);
    this.sshPort = sshPort;
    this.generation = generation;
  }

  /**
   * The machine's name.
   *
   * @return the fully qualified host name
   */
  public String name() {
    return name;
  }

  /**
   * The machine's type.
   *
   * @return its pool, e.g. {@code smithi} or {@code vps}
   */
  public String machineType() {
    return machineType;
  }

  /**
   * The VM host of a VM slot.
   *
   * @return for a VM slot the physical machine it lives on, {@code null} for a physical machine
   */
  public String vpsHost() {
    return vpsHost;
  }

  /**
   * Whether the machine is up.
   *
   * @return whether it may be handed out
   */
  public boolean up() {
    return up;
  }

  /**
   * Whether the machine is locked.
   *
   * @return whether someone holds it
   */
  public boolean locked() {
    return locked;
  }

  /**
   * Who holds the machine.
   *
   * @return the owner of the lock, {@code null} when free
   */
  public String lockedBy() {
    return lockedBy;
  }

  /**
   * When the machine was locked.
   *
   * @return when it was locked (database clock), {@code null} when free
   */
  public Instant lockedSince() {
    return lockedSince;
  }

  /**
   * The machine's description.
   *
   * @return the lock's description, or the reason it was marked down; may be {@code null}
   */
  public String description() {
    return description;
  }

  /**
   * The installed OS.
   *
   * @return the OS type, e.g. {@code ubuntu}, or {@code null}
   */
  public String osType() {
    return osType;
  }

  /**
   * The installed OS version.
   *
   * @return the OS version, e.g. {@code 22.04}, or {@code null}
   */
  public String osVersion() {
    return osVersion;
  }

  /**
   * The architecture.
   *
   * @return the architecture, or {@code null}
   */
  public String arch() {
    return arch;
  }

  /**
   * The MAC address of a VM slot.
   *
   * @return a VM slot's MAC address, or {@code null}
   */
  public String macAddress() {
    return macAddress;
  }

  /**
   * The machine's SSH host keys.
   *
   * @return its current SSH host keys, one per key type, possibly empty; unmodifiable
   */
  public List<HostKey> hostKeys() {
    return hostKeys;
  }

  /**
   * The SSH port.
   *
   * @return the SSH port when it is not 22, or {@code null}
   */
  public Integer sshPort() {
    return sshPort;
  }

  /**
   * The fencing generation.
   *
   * @return the generation, incremented by every lock
   */
  public long generation() {
    return generation;
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
   * @return a new machine
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
   * @return a new machine
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

  /**
   * Returns this machine reached at another SSH port, e.g. through a forwarded port; its host keys
   * are still checked against its name.
   *
   * @param port 1 to 65535, or {@code null} for 22
   * @return a new machine
   * @throws InvalidRequestException when the port is out of range
   */
  public Machine withSshPort(Integer port) {
    Checks.port(port);
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
        hostKeys,
        port,
        generation);
  }

  /**
   * Whether the other object is a machine with equal fields.
   *
   * @param other the object to compare with
   * @return {@code true} when every field is equal
   */
  @Override
  public boolean equals(Object other) {
    return other instanceof Machine that
        && up == that.up
        && locked == that.locked
        && generation == that.generation
        && Objects.equals(name, that.name)
        && Objects.equals(machineType, that.machineType)
        && Objects.equals(vpsHost, that.vpsHost)
        && Objects.equals(lockedBy, that.lockedBy)
        && Objects.equals(lockedSince, that.lockedSince)
        && Objects.equals(description, that.description)
        && Objects.equals(osType, that.osType)
        && Objects.equals(osVersion, that.osVersion)
        && Objects.equals(arch, that.arch)
        && Objects.equals(macAddress, that.macAddress)
        && hostKeys.equals(that.hostKeys)
        && Objects.equals(sshPort, that.sshPort);
  }

  @Override
  public int hashCode() {
    return Objects.hash(
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
        hostKeys,
        sshPort,
        generation);
  }

  /**
   * Every field, in the form a record prints.
   *
   * @return e.g. {@code Machine[name=smithi001, machineType=smithi, ...]}
   */
  @Override
  public String toString() {
    return "Machine[name="
        + name
        + ", machineType="
        + machineType
        + ", vpsHost="
        + vpsHost
        + ", up="
        + up
        + ", locked="
        + locked
        + ", lockedBy="
        + lockedBy
        + ", lockedSince="
        + lockedSince
        + ", description="
        + description
        + ", osType="
        + osType
        + ", osVersion="
        + osVersion
        + ", arch="
        + arch
        + ", macAddress="
        + macAddress
        + ", hostKeys="
        + hostKeys
        + ", sshPort="
        + sshPort
        + ", generation="
        + generation
        + "]";
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
