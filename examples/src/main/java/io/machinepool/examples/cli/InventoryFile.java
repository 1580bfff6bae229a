package io.machinepool.examples.cli;

import io.machinepool.InvalidRequestException;
import io.machinepool.Machine;
import io.machinepool.MachineSpec;
import io.machinepool.config.TeuthologyConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * An inventory file for {@code machinepool --import}: a YAML list of machines, each a mapping.
 *
 * <pre>
 * - name: mira001.front.sepia.ceph.com       # required; a short name gets lab_domain
 *   machine_type: mira                       # required
 * - name: smithi001
 *   machine_type: smithi
 *   os_type: ubuntu
 *   os_version: "22.04"
 *   arch: x86_64
 *   up: false                                # default true
 * - name: vpm011
 *   machine_type: vps
 *   vpshost: mira001                         # makes it a VM slot on that machine
 *   mac_address: 52:54:00:00:00:11
 *   ssh_port: 2222                           # default 22
 * </pre>
 *
 * <p>Values are taken as written (the file is read as YAML nodes, not typed by YAML's rules), so
 * {@code os_version: 20.10} stays {@code 20.10} and a MAC address needs no quotes. The whole file
 * is checked before anything is added: every entry and key, names used twice, VM hosts that are
 * neither in the file nor in the inventory, and machines already in the inventory. Each problem
 * names the file, the entry, the key and the line.
 */
final class InventoryFile {
  /** The keys an entry may have. */
  static final List<String> KEYS =
      List.of(
          "name",
          "machine_type",
          "vpshost",
          "mac_address",
          "up",
          "os_type",
          "os_version",
          "arch",
          "ssh_port");

  private static final int MAX_PROBLEMS = 20;

  private final Path file;
  private final List<Entry> entries;

  private record Entry(int number, MachineSpec spec, Map<String, Integer> lines) {
    String label() {
      return "entry " + number + " (" + spec.name() + ")";
    }
  }

  private InventoryFile(Path file, List<Entry> entries) {
    this.file = file;
    this.entries = entries;
  }

  /**
   * Reads and checks an inventory file on its own (the inventory is checked by {@link
   * #specs(Map)}).
   *
   * @param file the file
   * @param config completes short names with its lab domain
   * @return the file's machines
   * @throws UsageException naming every problem found
   */
  static InventoryFile read(Path file, TeuthologyConfig config) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UsageException(
          "cannot read the inventory file " + file + ": " + TargetsFile.describe(e));
    }
    List<Node> documents = new ArrayList<>();
    try {
      new Yaml(new SafeConstructor(new LoaderOptions()))
          .composeAll(new java.io.StringReader(text))
          .forEach(documents::add);
    } catch (MarkedYAMLException e) {
      Mark mark = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
      throw new UsageException(
          file
              + " is not valid YAML"
              + (mark == null ? "" : " at line " + (mark.getLine() + 1))
              + ": "
              + e.getProblem()
              + "; nothing was imported");
    } catch (YAMLException e) {
      throw new UsageException(
          file + " is not valid YAML: " + e.getMessage() + "; nothing was imported");
    }
    if (documents.size() != 1 || !(documents.get(0) instanceof SequenceNode list)) {
      throw new UsageException(
          file
              + (documents.isEmpty()
                  ? " is empty"
                  : documents.size() > 1
                      ? " has " + documents.size() + " YAML documents"
                      : " is not a YAML list (line " + line(documents.get(0)) + ")")
              + ": an inventory file is one list of machines, each a mapping with name and"
              + " machine_type; nothing was imported");
    }
    if (list.getValue().isEmpty()) {
      throw new UsageException(file + " lists no machines; nothing was imported");
    }
    Problems problems = new Problems(file);
    List<Entry> entries = new ArrayList<>();
    for (int i = 0; i < list.getValue().size(); i++) {
      Entry entry = entry(i + 1, list.getValue().get(i), config, problems);
      if (entry != null) {
        entries.add(entry);
      }
    }
    Map<String, Entry> byName = new HashMap<>();
    Map<String, Entry> byMac = new HashMap<>();
    for (Entry entry : entries) {
      Entry twin = byName.putIfAbsent(entry.spec().name(), entry);
      if (twin != null) {
        problems.add(
            entry.label(),
            "name",
            entry.lines().get("name"),
            "the same machine as entry " + twin.number());
      }
      String mac = entry.spec().macAddress();
      Entry sameMac = mac == null ? null : byMac.putIfAbsent(mac, entry);
      if (sameMac != null) {
        problems.add(
            entry.label(),
            "mac_address",
            entry.lines().get("mac_address"),
            mac + " is also the MAC address of entry " + sameMac.number());
      }
    }
    for (Entry entry : entries) {
      Entry host = entry.spec().vpsHost() == null ? null : byName.get(entry.spec().vpsHost());
      if (host != null && host.spec().isVirtual()) {
        problems.add(
            entry.label(),
            "vpshost",
            entry.lines().get("vpshost"),
            host.spec().name() + " (entry " + host.number() + ") is itself a VM slot");
      }
    }
    problems.throwIfAny();
    return new InventoryFile(file, List.copyOf(entries));
  }

  /**
   * The names the file's check against the inventory needs: every machine and VM host named.
   *
   * @return the names
   */
  Set<String> namesToLookUp() {
    Set<String> names = new TreeSet<>();
    for (Entry entry : entries) {
      names.add(entry.spec().name());
      if (entry.spec().vpsHost() != null) {
        names.add(entry.spec().vpsHost());
      }
    }
    return names;
  }

  /**
   * Checks the file against the inventory and returns the machines to add.
   *
   * @param existing the machines of {@link #namesToLookUp()} that are in the inventory, by name
   * @return the machines, in file order
   * @throws UsageException naming machines already in the inventory and unknown VM hosts
   */
  List<MachineSpec> specs(Map<String, Machine> existing) {
    Problems problems = new Problems(file);
    Set<String> inFile = new TreeSet<>();
    entries.forEach(e -> inFile.add(e.spec().name()));
    for (Entry entry : entries) {
      MachineSpec spec = entry.spec();
      if (existing.containsKey(spec.name())) {
        problems.add(
            entry.label(),
            "name",
            entry.lines().get("name"),
            "already in the inventory (remove it from the file, or change it with --update)");
      }
      String host = spec.vpsHost();
      if (host != null && !inFile.contains(host)) {
        Machine known = existing.get(host);
        if (known == null) {
          problems.add(
              entry.label(),
              "vpshost",
              entry.lines().get("vpshost"),
              host + " is neither in the file nor in the inventory; add the VM host too");
        } else if (known.isVirtual()) {
          problems.add(
              entry.label(),
              "vpshost",
              entry.lines().get("vpshost"),
              host + " is itself a VM slot in the inventory");
        }
      }
    }
    problems.throwIfAny();
    return entries.stream().map(Entry::spec).toList();
  }

  private static Entry entry(int number, Node node, TeuthologyConfig config, Problems problems) {
    String label = "entry " + number;
    if (!(node instanceof MappingNode mapping)) {
      problems.add(
          label, null, line(node), "must be a mapping of keys such as name and machine_type");
      return null;
    }
    Map<String, String> values = new LinkedHashMap<>();
    Map<String, Integer> lines = new HashMap<>();
    int before = problems.count();
    for (NodeTuple tuple : mapping.getValue()) {
      if (!(tuple.getKeyNode() instanceof ScalarNode keyNode)) {
        problems.add(label, null, line(tuple.getKeyNode()), "a key must be a plain word");
        continue;
      }
      String key = keyNode.getValue();
      if (!KEYS.contains(key)) {
        problems.add(
            label, key, line(keyNode), "unknown key; the keys are " + String.join(", ", KEYS));
        continue;
      }
      if (lines.containsKey(key)) {
        problems.add(label, key, line(keyNode), "given twice");
        continue;
      }
      lines.put(key, line(keyNode));
      Node value = tuple.getValueNode();
      if (!(value instanceof ScalarNode scalar)) {
        problems.add(label, key, line(value), "must be a single value, not a list or a mapping");
      } else if (!Tag.NULL.equals(scalar.getTag())) {
        values.put(key, scalar.getValue());
      }
    }
    String rawName = values.get("name");
    if (rawName == null && !lines.containsKey("name")) {
      problems.add(label, "name", line(node), "missing; every machine needs a name");
    } else if (rawName == null) {
      problems.add(label, "name", lines.get("name"), "must not be empty");
    }
    if (values.get("machine_type") == null) {
      problems.add(
          label,
          "machine_type",
          lines.getOrDefault("machine_type", line(node)),
          lines.containsKey("machine_type")
              ? "must not be empty"
              : "missing; every machine needs a machine type, e.g. smithi or vps");
    }
    if (problems.count() > before) {
      return null;
    }
    String name = config.canonicalize(rawName);
    label = label + " (" + name + ")";
    Field field = new Field(problems, label, lines);
    field.check("name", () -> MachineSpec.physical(rawName, "probe"));
    field.check("name", () -> MachineSpec.physical(name, "probe"));
    String type = values.get("machine_type");
    field.check("machine_type", () -> MachineSpec.physical("probe", type));
    String rawHost = values.get("vpshost");
    String host = rawHost == null ? null : config.canonicalize(rawHost);
    if (rawHost != null) {
      field.check("vpshost", () -> MachineSpec.physical(rawHost, "probe"));
      field.check("vpshost", () -> MachineSpec.physical(host, "probe"));
    }
    String mac = values.get("mac_address");
    field.check("mac_address", () -> MachineSpec.physical("probe", "probe").withMacAddress(mac));
    Boolean up = bool(values.get("up"));
    if (values.containsKey("up") && up == null) {
      field.fail("up", "must be true or false, was '" + values.get("up") + "'");
    }
    String osType = values.get("os_type");
    String osVersion = values.get("os_version");
    String arch = values.get("arch");
    field.check("os_type", () -> MachineSpec.physical("probe", "probe").withOs(osType, null));
    field.check("os_version", () -> MachineSpec.physical("probe", "probe").withOs(null, osVersion));
    field.check("arch", () -> MachineSpec.physical("probe", "probe").withArch(arch));
    Integer port = null;
    if (values.containsKey("ssh_port")) {
      try {
        port = Integer.valueOf(values.get("ssh_port"));
        int p = port;
        field.check("ssh_port", () -> MachineSpec.physical("probe", "probe").withSshPort(p));
      } catch (NumberFormatException e) {
        field.fail("ssh_port", "must be a port number, was '" + values.get("ssh_port") + "'");
      }
    }
    if (problems.count() > before) {
      return null;
    }
    boolean isUp = up == null || up;
    Integer sshPort = port;
    MachineSpec[] spec = new MachineSpec[1];
    field.check(
        host == null ? "name" : "vpshost",
        () ->
            spec[0] =
                MachineSpec.builder()
                    .name(name)
                    .machineType(type)
                    .vpsHost(host)
                    .macAddress(mac)
                    .arch(arch)
                    .os(osType, osVersion)
                    .up(isUp)
                    .sshPort(sshPort)
                    .build());
    return spec[0] == null ? null : new Entry(number, spec[0], lines);
  }

  private static Boolean bool(String text) {
    if (text == null) {
      return null;
    }
    return switch (text.toLowerCase(Locale.ROOT)) {
      case "true", "yes" -> Boolean.TRUE;
      case "false", "no" -> Boolean.FALSE;
      default -> null;
    };
  }

  private static int line(Node node) {
    return node.getStartMark() == null ? 0 : node.getStartMark().getLine() + 1;
  }

  /**
   * Checks one key's value with the library's own rules, recording its message on failure; a key
   * that failed once is not checked again.
   */
  private static final class Field {
    private final Problems problems;
    private final String label;
    private final Map<String, Integer> lines;
    private final Set<String> failed = new TreeSet<>();

    Field(Problems problems, String label, Map<String, Integer> lines) {
      this.problems = problems;
      this.label = label;
      this.lines = lines;
    }

    void check(String key, Runnable probe) {
      if (failed.contains(key)) {
        return;
      }
      try {
        probe.run();
      } catch (InvalidRequestException e) {
        fail(key, e.getMessage());
      }
    }

    void fail(String key, String message) {
      failed.add(key);
      problems.add(label, key, lines.get(key), message);
    }
  }

  /** The problems found, each on a line naming the file, the entry, the key and the line. */
  private static final class Problems {
    private final Path file;
    private final List<String> lines = new ArrayList<>();
    private int count;

    Problems(Path file) {
      this.file = file;
    }

    void add(String entry, String key, Integer line, String message) {
      count++;
      if (lines.size() < MAX_PROBLEMS) {
        lines.add(
            file
                + (line == null || line == 0 ? "" : ":" + line)
                + ": "
                + entry
                + (key == null ? "" : ", key " + key)
                + ": "
                + message);
      }
    }

    int count() {
      return count;
    }

    void throwIfAny() {
      if (count == 0) {
        return;
      }
      if (count == 1) {
        throw new UsageException(lines.get(0) + "; nothing was imported");
      }
      StringBuilder message = new StringBuilder();
      lines.forEach(l -> message.append(message.length() == 0 ? "" : "\n").append(l));
      if (count > lines.size()) {
        message.append("\n... and ").append(count - lines.size()).append(" more problems");
      }
      message
          .append("\nnothing was imported: fix the ")
          .append(count)
          .append(" problems and run --import again");
      throw new UsageException(message.toString());
    }
  }
}
