package io.machinepool;

import java.util.Objects;

/**
 * What the inventory knows about a machine before anyone locks it: its name, its machine type, and
 * for a VM slot the physical host it lives on. Create one with {@link #physical(String, String)} or
 * {@link #vm(String, String, String)} and refine it with the {@code with...} methods, or build one
 * field by field with {@link #builder()}. Two specs are equal when every field is.
 */
public final class MachineSpec {
  private final String name;
  private final String machineType;
  private final String vpsHost;
  private final String macAddress;
  private final String arch;
  private final String osType;
  private final String osVersion;
  private final boolean up;
  private final Integer sshPort;

  /**
   * Validates every field: the one place the rules of a spec are checked.
   *
   * @throws InvalidRequestException when a field breaks the naming rules
   */
  private MachineSpec(Builder builder) {
    Checks.machineName(builder.name);
    Checks.machineType(builder.machineType);
    Checks.optionalMachineName(builder.vpsHost, "VM host name");
    this.macAddress = Checks.macAddress(builder.macAddress);
    Checks.osField(builder.arch, "arch");
    Checks.osField(builder.osType, "OS type");
    Checks.osField(builder.osVersion, "OS version");
    Checks.port(builder.sshPort);
    if (builder.name.equals(builder.vpsHost)) {
      throw new InvalidRequestException("machine " + builder.name + " cannot be its own VM host");
    }
    this.name = builder.name;
    this.machineType = builder.machineType;
    this.vpsHost = builder.vpsHost;
    this.arch = builder.arch;
    this.osType = builder.osType;
    this.osVersion = builder.osVersion;
    this.up = builder.up;
    this.sshPort = builder.sshPort;
  }

  /**
   * A physical machine, up, with no OS or architecture recorded.
   *
   * @param name its host name
   * @param machineType its pool
   * @return the spec
   */
  public static MachineSpec physical(String name, String machineType) {
    return builder().name(name).machineType(machineType).build();
  }

  /**
   * A VM slot on a physical VM host, up.
   *
   * @param name the VM's host name
   * @param machineType its pool, normally {@code vps}
   * @param vpsHost the physical machine it lives on
   * @return the spec
   */
  public static MachineSpec vm(String name, String machineType, String vpsHost) {
    Checks.notNull(vpsHost, "VM host of " + name);
    return builder().name(name).machineType(machineType).vpsHost(vpsHost).build();
  }

  /**
   * Starts a spec of a machine that is up, with nothing but its name and type required.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * A builder holding this spec's values, to build a spec that differs in some of them.
   *
   * @return a new builder
   */
  public Builder toBuilder() {
    return builder()
        .name(name)
        .machineType(machineType)
        .vpsHost(vpsHost)
        .macAddress(macAddress)
        .arch(arch)
        .os(osType, osVersion)
        .up(up)
        .sshPort(sshPort);
  }

  /**
   * The machine's name.
   *
   * @return the fully qualified host name, e.g. {@code smithi001.front.sepia.ceph.com}
   */
  public String name() {
    return name;
  }

  /**
   * The machine's type.
   *
   * @return the pool it belongs to, e.g. {@code smithi} or {@code vps}
   */
  public String machineType() {
    return machineType;
  }

  /**
   * The VM host of a VM slot.
   *
   * @return for a VM slot, the name of the physical machine it lives on; {@code null} for a
   *     physical machine
   */
  public String vpsHost() {
    return vpsHost;
  }

  /**
   * The MAC address of a VM slot.
   *
   * @return the MAC address a VM slot's network interface gets, or {@code null}
   */
  public String macAddress() {
    return macAddress;
  }

  /**
   * The architecture.
   *
   * @return the architecture, e.g. {@code x86_64}, or {@code null}
   */
  public String arch() {
    return arch;
  }

  /**
   * The installed OS of a physical machine.
   *
   * @return the OS type, e.g. {@code ubuntu}, or {@code null}
   */
  public String osType() {
    return osType;
  }

  /**
   * The installed OS version of a physical machine.
   *
   * @return the OS version, e.g. {@code 22.04}, or {@code null}
   */
  public String osVersion() {
    return osVersion;
  }

  /**
   * Whether the machine is up.
   *
   * @return whether the machine may be handed out
   */
  public boolean up() {
    return up;
  }

  /**
   * The SSH port.
   *
   * @return the SSH port when it is not 22 (test labs), or {@code null}
   */
  public Integer sshPort() {
    return sshPort;
  }

  /**
   * Returns this spec with a MAC address.
   *
   * @param mac e.g. {@code 52:54:00:00:00:11}
   * @return a new spec
   */
  public MachineSpec withMacAddress(String mac) {
    return toBuilder().macAddress(mac).build();
  }

  /**
   * Returns this spec with an architecture.
   *
   * @param architecture e.g. {@code x86_64} or {@code aarch64}
   * @return a new spec
   */
  public MachineSpec withArch(String architecture) {
    return toBuilder().arch(architecture).build();
  }

  /**
   * Returns this spec with the OS a physical machine has installed.
   *
   * @param type e.g. {@code ubuntu}
   * @param version e.g. {@code 22.04}
   * @return a new spec
   */
  public MachineSpec withOs(String type, String version) {
    return toBuilder().os(type, version).build();
  }

  /**
   * Returns this spec marked up or down.
   *
   * @param isUp whether it may be handed out
   * @return a new spec
   */
  public MachineSpec withUp(boolean isUp) {
    return toBuilder().up(isUp).build();
  }

  /**
   * Returns this spec with an SSH port other than 22.
   *
   * @param port 1 to 65535
   * @return a new spec
   */
  public MachineSpec withSshPort(int port) {
    return toBuilder().sshPort(port).build();
  }

  /**
   * Whether this is a VM slot.
   *
   * @return {@code true} when a VM host is set
   */
  public boolean isVirtual() {
    return vpsHost != null;
  }

  /**
   * Whether the other object is a spec with equal fields.
   *
   * @param other the object to compare with
   * @return {@code true} when every field is equal
   */
  @Override
  public boolean equals(Object other) {
    return other instanceof MachineSpec that
        && up == that.up
        && name.equals(that.name)
        && machineType.equals(that.machineType)
        && Objects.equals(vpsHost, that.vpsHost)
        && Objects.equals(macAddress, that.macAddress)
        && Objects.equals(arch, that.arch)
        && Objects.equals(osType, that.osType)
        && Objects.equals(osVersion, that.osVersion)
        && Objects.equals(sshPort, that.sshPort);
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        name, machineType, vpsHost, macAddress, arch, osType, osVersion, up, sshPort);
  }

  /**
   * Every field, in the form a record prints.
   *
   * @return e.g. {@code MachineSpec[name=smithi001, machineType=smithi, ...]}
   */
  @Override
  public String toString() {
    return "MachineSpec[name="
        + name
        + ", machineType="
        + machineType
        + ", vpsHost="
        + vpsHost
        + ", macAddress="
        + macAddress
        + ", arch="
        + arch
        + ", osType="
        + osType
        + ", osVersion="
        + osVersion
        + ", up="
        + up
        + ", sshPort="
        + sshPort
        + "]";
  }

  /** Builds a {@link MachineSpec}; every method returns this builder. */
  public static final class Builder {
    private String name;
    private String machineType;
    private String vpsHost;
    private String macAddress;
    private String arch;
    private String osType;
    private String osVersion;
    private boolean up = true;
    private Integer sshPort;

    private Builder() {}

    /**
     * Sets the machine's name; required.
     *
     * @param value the fully qualified host name
     * @return this builder
     */
    public Builder name(String value) {
      this.name = value;
      return this;
    }

    /**
     * Sets the machine's type; required.
     *
     * @param value its pool, e.g. {@code smithi} or {@code vps}
     * @return this builder
     */
    public Builder machineType(String value) {
      this.machineType = value;
      return this;
    }

    /**
     * Makes the machine a VM slot on this VM host.
     *
     * @param value the physical machine it lives on, or {@code null} for a physical machine
     * @return this builder
     */
    public Builder vpsHost(String value) {
      this.vpsHost = value;
      return this;
    }

    /**
     * Sets the MAC address of a VM slot's network interface.
     *
     * @param value e.g. {@code 52:54:00:00:00:11}, or {@code null}
     * @return this builder
     */
    public Builder macAddress(String value) {
      this.macAddress = value;
      return this;
    }

    /**
     * Sets the architecture.
     *
     * @param value e.g. {@code x86_64}, or {@code null}
     * @return this builder
     */
    public Builder arch(String value) {
      this.arch = value;
      return this;
    }

    /**
     * Sets the OS a physical machine has installed.
     *
     * @param type e.g. {@code ubuntu}, or {@code null}
     * @param version e.g. {@code 22.04}, or {@code null}
     * @return this builder
     */
    public Builder os(String type, String version) {
      this.osType = type;
      this.osVersion = version;
      return this;
    }

    /**
     * Marks the machine up (the default) or down.
     *
     * @param value whether it may be handed out
     * @return this builder
     */
    public Builder up(boolean value) {
      this.up = value;
      return this;
    }

    /**
     * Sets the SSH port.
     *
     * @param value 1 to 65535, or {@code null} for 22
     * @return this builder
     */
    public Builder sshPort(Integer value) {
      this.sshPort = value;
      return this;
    }

    /**
     * Validates and builds the spec.
     *
     * @return the spec
     * @throws InvalidRequestException when a field breaks the naming rules
     */
    public MachineSpec build() {
      return new MachineSpec(this);
    }
  }
}
