package io.machinepool.config;

import java.util.List;

/**
 * The size of the VMs downburst creates for some machine types, from an entry of the config file's
 * {@code downburst.machine} (a single map for every type, or a list of maps each with a {@code
 * type} naming one type or a list of them). Fields the entry leaves out are {@code null}; the
 * provisioner fills in its defaults.
 *
 * @param types the machine types the entry applies to; empty when it applies to every type
 * @param disk the root disk size, e.g. {@code 100G}
 * @param ram the memory size, e.g. {@code 3.8G}
 * @param cpus the number of CPUs
 * @param volumeCount how many additional disks ({@code volumes.count})
 * @param volumeSize the size of each additional disk ({@code volumes.size})
 * @param arch the architecture, e.g. {@code x86_64}
 */
public record DownburstMachine(
    List<String> types,
    String disk,
    String ram,
    Integer cpus,
    Integer volumeCount,
    String volumeSize,
    String arch) {

  /** Copies the types. */
  public DownburstMachine {
    types = types == null ? List.of() : List.copyOf(types);
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
}
