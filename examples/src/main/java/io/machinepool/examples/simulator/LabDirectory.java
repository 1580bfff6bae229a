package io.machinepool.examples.simulator;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.stream.Stream;

/**
 * The state directory of a simulated lab, shared by {@link LocalLab} (which writes it), the
 * simulated {@code downburst} (which creates and destroys VMs in it) and each {@link SimulatedVm}.
 *
 * <pre>
 * lab.properties        the lab: its owner's pid, lab domain, client key, VM slots and ports
 * bin/downburst         the launcher the DownburstProvisioner runs
 * libvirt.conf          uri_aliases for the VM hosts
 * teuthology.yaml       a teuthology config naming the launcher and the lab domain
 * client/id_ed25519     the key user ubuntu logs in to every VM with
 * vms/NAME/             one per VM that exists: meta-data.yaml, pid, ready, console.log
 * </pre>
 */
final class LabDirectory {
  /** The system property the launcher sets to the lab directory. */
  static final String PROPERTY = "machinepool.lab";

  private final Path root;

  LabDirectory(Path root) {
    this.root = root.toAbsolutePath().normalize();
  }

  /** The lab directory of the launcher that started this JVM. */
  static LabDirectory fromSystemProperty() {
    String dir = System.getProperty(PROPERTY);
    if (dir == null || dir.isBlank()) {
      throw new IllegalStateException(
          "-D" + PROPERTY + " is not set: run the simulator through the launcher LocalLab wrote");
    }
    return new LabDirectory(Path.of(dir));
  }

  Path root() {
    return root;
  }

  Path properties() {
    return root.resolve("lab.properties");
  }

  Path launcher() {
    return root.resolve("bin").resolve("downburst");
  }

  Path libvirtConfig() {
    return root.resolve("libvirt.conf");
  }

  Path teuthologyConfig() {
    return root.resolve("teuthology.yaml");
  }

  Path clientKey() {
    return root.resolve("client").resolve("id_ed25519");
  }

  Path vms() {
    return root.resolve("vms");
  }

  /** The state directory of a VM, by its short name. */
  Path vm(String shortName) {
    return vms().resolve(shortName);
  }

  Path pidFile(String shortName) {
    return vm(shortName).resolve("pid");
  }

  Path readyFile(String shortName) {
    return vm(shortName).resolve("ready");
  }

  Path metaData(String shortName) {
    return vm(shortName).resolve("meta-data.yaml");
  }

  Path console(String shortName) {
    return vm(shortName).resolve("console.log");
  }

  /** One VM slot of the lab. */
  record Slot(String name, String host, int port, String mac) {
    String shortName() {
      return LabDirectory.shortName(name);
    }
  }

  /** What {@code lab.properties} holds. */
  record Lab(long ownerPid, String labDomain, String clientPublicKey, List<Slot> slots) {
    Optional<Slot> slot(String shortName) {
      return slots.stream().filter(s -> s.shortName().equals(shortName)).findFirst();
    }

    List<String> hosts() {
      return slots.stream().map(Slot::host).distinct().sorted().toList();
    }
  }

  void write(Lab lab) {
    Properties p = new Properties();
    p.setProperty("owner.pid", Long.toString(lab.ownerPid()));
    p.setProperty("lab.domain", lab.labDomain());
    p.setProperty("client.public.key", lab.clientPublicKey());
    for (Slot slot : lab.slots()) {
      String key = "vm." + slot.shortName() + ".";
      p.setProperty(key + "name", slot.name());
      p.setProperty(key + "host", slot.host());
      p.setProperty(key + "port", Integer.toString(slot.port()));
      p.setProperty(key + "mac", slot.mac());
    }
    try (Writer out = Files.newBufferedWriter(properties(), StandardCharsets.UTF_8)) {
      p.store(out, "machinepool lab simulator (written by LocalLab)");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + properties(), e);
    }
  }

  Lab read() {
    Properties p = new Properties();
    try (Reader in = Files.newBufferedReader(properties(), StandardCharsets.UTF_8)) {
      p.load(in);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + properties(), e);
    }
    List<Slot> slots = new ArrayList<>();
    for (String key : p.stringPropertyNames()) {
      if (key.startsWith("vm.") && key.endsWith(".name")) {
        String prefix = key.substring(0, key.length() - "name".length());
        slots.add(
            new Slot(
                p.getProperty(key),
                p.getProperty(prefix + "host"),
                Integer.parseInt(p.getProperty(prefix + "port")),
                p.getProperty(prefix + "mac")));
      }
    }
    slots.sort(Comparator.comparing(Slot::name));
    return new Lab(
        Long.parseLong(p.getProperty("owner.pid")),
        p.getProperty("lab.domain"),
        p.getProperty("client.public.key"),
        List.copyOf(slots));
  }

  /** The pid recorded for a VM, if any. */
  Optional<Long> pid(String shortName) {
    try {
      return Optional.of(Long.parseLong(Files.readString(pidFile(shortName)).strip()));
    } catch (IOException | NumberFormatException e) {
      return Optional.empty();
    }
  }

  /** The VMs that exist: those with a state directory. */
  List<String> existingVms() {
    if (!Files.isDirectory(vms())) {
      return List.of();
    }
    try (Stream<Path> dirs = Files.list(vms())) {
      return dirs.filter(Files::isDirectory).map(d -> d.getFileName().toString()).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + vms(), e);
    }
  }

  /** Writes a file by moving a complete temporary file into place. */
  static void writeAtomically(Path file, String content) {
    try {
      Path temp = Files.createTempFile(file.getParent(), file.getFileName().toString(), ".tmp");
      Files.writeString(temp, content, StandardCharsets.UTF_8);
      Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }

  /** A host's name up to its first dot. */
  static String shortName(String name) {
    int dot = name.indexOf('.');
    return dot < 0 ? name : name.substring(0, dot);
  }
}
