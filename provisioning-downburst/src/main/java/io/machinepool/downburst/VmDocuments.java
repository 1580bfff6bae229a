package io.machinepool.downburst;

import io.machinepool.config.DownburstMachine;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.representer.Representer;

/**
 * The two documents {@code downburst create} reads: the meta-data ({@code --meta-data}, the VM's
 * size, network and OS) and the user-data ({@code --user-data}, a {@code #cloud-config} document
 * that cloud-init runs on first boot).
 */
final class VmDocuments {
  /** Root disk size when the config file names none (teuthology's default). */
  static final String DEFAULT_DISK = "100G";

  /** Memory size when the config file names none (teuthology's default). */
  static final String DEFAULT_RAM = "3.8G";

  /** CPUs when the config file names none (teuthology's default). */
  static final int DEFAULT_CPUS = 1;

  /** Additional disks when the config file names none (teuthology's default). */
  static final int DEFAULT_VOLUME_COUNT = 4;

  /** Size of each additional disk when the config file names none (teuthology's default). */
  static final String DEFAULT_VOLUME_SIZE = "100G";

  /** Architecture when neither the request nor the config file names one. */
  static final String DEFAULT_ARCH = "x86_64";

  /** The user cloud-init sets up, as teuthology does. */
  static final String USER = "ubuntu";

  private VmDocuments() {}

  /**
   * The size and architecture of one VM.
   *
   * @param disk root disk size
   * @param ram memory size
   * @param cpus CPU count
   * @param volumeCount additional disks
   * @param volumeSize size of each additional disk
   * @param arch architecture
   */
  record Size(String disk, String ram, int cpus, int volumeCount, String volumeSize, String arch) {

    /**
     * The size for a machine type: the config file's entry for it where it gives a value, else the
     * defaults. An architecture asked for in the lock request wins over both.
     *
     * @param entry the config file's {@code downburst.machine} entry for the type, or empty
     * @param requestedArch the request's architecture, or {@code null}
     * @return the size
     */
    static Size of(Optional<DownburstMachine> entry, String requestedArch) {
      String arch =
          requestedArch != null
              ? requestedArch
              : entry.map(DownburstMachine::arch).orElse(DEFAULT_ARCH);
      return new Size(
          entry.map(DownburstMachine::disk).orElse(DEFAULT_DISK),
          entry.map(DownburstMachine::ram).orElse(DEFAULT_RAM),
          entry.map(DownburstMachine::cpus).orElse(DEFAULT_CPUS),
          entry.map(DownburstMachine::volumeCount).orElse(DEFAULT_VOLUME_COUNT),
          entry.map(DownburstMachine::volumeSize).orElse(DEFAULT_VOLUME_SIZE),
          arch);
    }
  }

  /**
   * The meta-data document.
   *
   * @param hostname the VM's full name, for {@code local-hostname}
   * @param macAddress the VM's MAC address on the {@code front} network, or {@code null} to leave
   *     the network to downburst's default
   * @param distro e.g. {@code ubuntu}
   * @param distroVersion e.g. {@code 24.04}
   * @param size the size
   * @return the YAML text
   */
  static String metaData(
      String hostname, String macAddress, String distro, String distroVersion, Size size) {
    Map<String, Object> downburst = new LinkedHashMap<>();
    downburst.put("disk-size", size.disk());
    downburst.put("ram", size.ram());
    downburst.put("cpus", size.cpus());
    if (macAddress != null && !macAddress.isBlank()) {
      Map<String, Object> front = new LinkedHashMap<>();
      front.put("source", "front");
      front.put("mac", macAddress);
      downburst.put("networks", List.of(front));
    }
    downburst.put("distro", distro);
    downburst.put("distroversion", distroVersion);
    downburst.put("additional-disks", size.volumeCount());
    downburst.put("additional-disks-size", size.volumeSize());
    downburst.put("arch", size.arch());
    Map<String, Object> document = new LinkedHashMap<>();
    document.put("downburst", downburst);
    document.put("local-hostname", hostname);
    return yaml().dump(document);
  }

  /**
   * The user-data document: the {@code ubuntu} user with its password removed so that console
   * logins work, and the packages teuthology has cloud-init install for the distribution's family.
   *
   * @param distro e.g. {@code ubuntu}
   * @param macAddress the VM's MAC address, or {@code null}
   * @return the text, starting with {@code #cloud-config}
   */
  static String userData(String distro, String macAddress) {
    String family = family(distro);
    Map<String, Object> document = new LinkedHashMap<>();
    document.put("user", USER);
    List<List<String>> runcmd = new ArrayList<>();
    runcmd.add(List.of("passwd", "-d", USER));
    if (family.equals("rhel") && macAddress != null && !macAddress.isBlank()) {
      // Older images configure eth0 with the template's MAC: make it this VM's.
      runcmd.add(
          List.of(
              "sed",
              "-i",
              "-e",
              "s/HWADDR=\".*\"/HWADDR=\"" + macAddress + "\"/",
              "/etc/sysconfig/network-scripts/ifcfg-eth0"));
    }
    document.put("runcmd", runcmd);
    document.put("packages", packages(distro));
    return "#cloud-config\n" + yaml().dump(document);
  }

  /**
   * The packages cloud-init installs: {@code git} and {@code wget} everywhere; a time daemon
   * ({@code ntp} on Debian and Ubuntu, {@code chrony} elsewhere); {@code python3} for Ansible; and
   * on the Red Hat family {@code python3-pip} and {@code bind-utils}.
   */
  static List<String> packages(String distro) {
    List<String> packages = new ArrayList<>(List.of("git", "wget"));
    switch (family(distro)) {
      case "debian" -> packages.addAll(List.of("ntp", "python3"));
      case "rhel" -> {
        packages.addAll(List.of("chrony", "python3"));
        if (!distro.toLowerCase(Locale.ROOT).equals("fedora")) {
          packages.addAll(List.of("python3-pip", "bind-utils"));
        }
      }
      case "suse" -> packages.addAll(List.of("chrony", "python3"));
      default -> {
        // an unknown family: only what every distribution names the same
      }
    }
    return packages;
  }

  /** The family of a distribution: {@code debian}, {@code rhel}, {@code suse}, or {@code other}. */
  static String family(String distro) {
    return switch (distro.toLowerCase(Locale.ROOT)) {
      case "ubuntu", "debian" -> "debian";
      case "centos", "rhel", "rocky", "alma", "almalinux", "fedora", "centos_minimal" -> "rhel";
      case "opensuse", "sles", "suse" -> "suse";
      default -> "other";
    };
  }

  private static Yaml yaml() {
    DumperOptions options = new DumperOptions();
    options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
    options.setIndicatorIndent(2);
    options.setIndentWithIndicator(true);
    options.setWidth(1000);
    return new Yaml(new Representer(options), options);
  }
}
