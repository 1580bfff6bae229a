package io.machinepool;

/**
 * What the inventory knows about a machine before anyone locks it: its name, its machine type, and
 * for a VM slot the physical host it lives on. Create one with {@link #physical(String, String)} or
 * {@link #vm(String, String, String)} and refine it with the {@code with...} methods.
 *
 * @param name the fully qualified host name, e.g. {@code smithi001.front.sepia.ceph.com}
 * @param machineType the pool it belongs to, e.g. {@code smithi} or {@code vps}
 * @param vpsHost for a VM slot, the name of the physical machine it lives on; {@code null} for a
 *     physical machine
 * @param macAddress the MAC address a VM slot's network interface gets, or {@code null}
 * @param arch the architecture, e.g. {@code x86_64}, or {@code null}
 * @param osType the installed OS of a physical machine, e.g. {@code ubuntu}, or {@code null}
 * @param osVersion the installed OS version of a physical machine, e.g. {@code 22.04}, or {@code
 *     null}
 * @param up whether the machine may be handed out
 * @param sshPort the SSH port when it is not 22 (test labs), or {@code null}
 */
public record MachineSpec(
    String name,
    String machineType,
    String vpsHost,
    String macAddress,
    String arch,
    String osType,
    String osVersion,
    boolean up,
    Integer sshPort) {

  /**
   * Validates every field.
   *
   * @throws InvalidRequestException when a field breaks the naming rules
   */
  public MachineSpec {
    Checks.machineName(name);
    Checks.machineType(machineType);
    Checks.optionalMachineName(vpsHost, "VM host name");
    macAddress = Checks.macAddress(macAddress);
    Checks.osField(arch, "arch");
    Checks.osField(osType, "OS type");
    Checks.osField(osVersion, "OS version");
    Checks.port(sshPort);
    if (name.equals(vpsHost)) {
      throw new InvalidRequestException("machine " + name + " cannot be its own VM host");
    }
  }

  /**
   * A physical machine, up, with no OS or architecture recorded.
   *
   * @param name its host name
   * @param machineType its pool
   * @return the spec
   */
  public static MachineSpec physical(String name, String machineType) {
    return new MachineSpec(name, machineType, null, null, null, null, null, true, null);
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
    return new MachineSpec(name, machineType, vpsHost, null, null, null, null, true, null);
  }

  /**
   * Returns this spec with a MAC address.
   *
   * @param mac e.g. {@code 52:54:00:00:00:11}
   * @return a new spec
   */
  public MachineSpec withMacAddress(String mac) {
    return new MachineSpec(name, machineType, vpsHost, mac, arch, osType, osVersion, up, sshPort);
  }

  /**
   * Returns this spec with an architecture.
   *
   * @param architecture e.g. {@code x86_64} or {@code aarch64}
   * @return a new spec
   */
  public MachineSpec withArch(String architecture) {
    return new MachineSpec(
        name, machineType, vpsHost, macAddress, architecture, osType, osVersion, up, sshPort);
  }

  /**
   * Returns this spec with the OS a physical machine has installed.
   *
   * @param type e.g. {@code ubuntu}
   * @param version e.g. {@code 22.04}
   * @return a new spec
   */
  public MachineSpec withOs(String type, String version) {
    return new MachineSpec(
        name, machineType, vpsHost, macAddress, arch, type, version, up, sshPort);
  }

  /**
   * Returns this spec marked up or down.
   *
   * @param isUp whether it may be handed out
   * @return a new spec
   */
  public MachineSpec withUp(boolean isUp) {
    return new MachineSpec(
        name, machineType, vpsHost, macAddress, arch, osType, osVersion, isUp, sshPort);
  }

  /**
   * Returns this spec with an SSH port other than 22.
   *
   * @param port 1 to 65535
   * @return a new spec
   */
  public MachineSpec withSshPort(int port) {
    return new MachineSpec(
        name, machineType, vpsHost, macAddress, arch, osType, osVersion, up, port);
  }

  /**
   * Whether this is a VM slot.
   *
   * @return {@code true} when a VM host is set
   */
  public boolean isVirtual() {
    return vpsHost != null;
  }
}
