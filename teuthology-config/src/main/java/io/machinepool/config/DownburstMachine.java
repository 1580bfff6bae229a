package io.machinepool.config;

import java.util.List;
import java.util.Objects;

/**
 * The size of the VMs downburst creates for some machine types, from an entry of the config file's
 * {@code downburst.machine} (a single map for every type, or a list of maps each with a {@code
 * type} naming one type or a list of them). Fields the entry leaves out are {@code null}; the
 * provisioner fills in its defaults. Only the config file creates entries; two are equal when every
 * field is.
 */
public final class DownburstMachine {
  private final List<String> types;
  private final String disk;
  private final String ram;
  private final Integer cpus;
  private final Integer volumeCount;
  private final String volumeSize;
  private final String arch;

  /** Keeps the fields; copies the types. */
  DownburstMachine(
      List<String> types,
      String disk,
      String ram,
      Integer cpus,
      Integer volumeCount,
      String volumeSize,
      String arch) {
    this.types = types == null ? List.of() : List.copyOf(types);
    this.disk = disk;
    this.ram = ram;
    this.cpus = cpus;
    this.volumeCount = volumeCount;
    this.volumeSize = volumeSize;
    this.arch = arch;
  }

  /**
   * The machine types the entry applies to.
   *
   * @return the types; empty when it applies to every type
   */
  public List<String> types() {
    return types;
  }

  /**
   * The root disk size.
   *
   * @return e.g. {@code 100G}, or {@code null}
   */
  public String disk() {
    return disk;
  }

  /**
   * The memory size.
   *
   * @return e.g. {@code 3.8G}, or {@code null}
   */
  public String ram() {
    return ram;
  }

  /**
   * The number of CPUs.
   *
   * @return the number, or {@code null}
   */
  public Integer cpus() {
    return cpus;
  }

  /**
   * How many additional disks ({@code volumes.count}).
   *
   * @return the number, or {@code null}
   */
  public Integer volumeCount() {
    return volumeCount;
  }

  /**
   * The size of each additional disk ({@code volumes.size}).
   *
   * @return e.g. {@code 20G}, or {@code null}
   */
  public String volumeSize() {
    return volumeSize;
  }

  /**
   * The architecture.
   *
   * @return e.g. {@code x86_64}, or {@code null}
   */
  public String arch() {
    return arch;
  }

  /**
   * Whether this entry applies to a machine type.
   *
   * @param machineType the type
   * @return {@code true} when it names the type or names none
   */
  public boolean appliesTo(String machineType) {
    return types.isEmpty() || types.contains(machineType);
  }

  /**
   * Whether the other object is an entry with equal fields.
   *
   * @param other the object to compare with
   * @return {@code true} when every field is equal
   */
  @Override
  public boolean equals(Object other) {
    return other instanceof DownburstMachine that
        && types.equals(that.types)
        && Objects.equals(disk, that.disk)
        && Objects.equals(ram, that.ram)
        && Objects.equals(cpus, that.cpus)
        && Objects.equals(volumeCount, that.volumeCount)
        && Objects.equals(volumeSize, that.volumeSize)
        && Objects.equals(arch, that.arch);
  }

  @Override
  public int hashCode() {
    return Objects.hash(types, disk, ram, cpus, volumeCount, volumeSize, arch);
  }

  /**
   * Every field, in the form a record prints.
   *
   * @return e.g. {@code DownburstMachine[types=[vps], disk=100G, ...]}
   */
  @Override
  public String toString() {
    return "DownburstMachine[types="
        + types
        + ", disk="
        + disk
        + ", ram="
        + ram
        + ", cpus="
        + cpus
        + ", volumeCount="
        + volumeCount
        + ", volumeSize="
        + volumeSize
        + ", arch="
        + arch
        + "]";
  }
}
