package io.machinepool.examples.cli;

import io.machinepool.HostKey;
import io.machinepool.Machine;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The listing formats of {@code teuthology-lock}: {@code --list} (a JSON array of the lock server's
 * machine objects) and {@code --brief} (one padded line per machine).
 */
final class Listing {
  private static final DateTimeFormatter SECONDS =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss", Locale.ROOT).withZone(ZoneOffset.UTC);

  /**
   * A name like {@code ubuntu@smithi001.front...}: teuthology's brief shows just the short name.
   */
  private static final Pattern USER_AT_HOST = Pattern.compile("\\w+@(\\w+?)\\..*");

  private Listing() {}

  /**
   * The {@code --list} document: a JSON array with one object per machine, with the field names of
   * teuthology's lock server (paddles), indented by four spaces as {@code json.dumps(...,
   * indent=4)} writes it. {@code vm_host} is the VM host's name; {@code ssh_pub_key} the preferred
   * host key; {@code locked_since} the lock time in UTC as paddles prints it ({@code 2026-11-24
   * 09:15:02.123456}).
   *
   * @param machines the machines, in the order to print
   * @return the document, ending in a newline
   */
  static String json(List<Machine> machines) {
    if (machines.isEmpty()) {
      return "[]\n";
    }
    StringBuilder json = new StringBuilder("[\n");
    for (int i = 0; i < machines.size(); i++) {
      json.append("    {\n");
      List<Map.Entry<String, Object>> fields = new ArrayList<>(fields(machines.get(i)).entrySet());
      for (int f = 0; f < fields.size(); f++) {
        json.append("        ")
            .append(string(fields.get(f).getKey()))
            .append(": ")
            .append(value(fields.get(f).getValue()))
            .append(f + 1 < fields.size() ? ",\n" : "\n");
      }
      json.append(i + 1 < machines.size() ? "    },\n" : "    }\n");
    }
    return json.append("]\n").toString();
  }

  /** The lock server's object of a machine, as {@code --list} prints it (a mutable copy). */
  static Map<String, Object> fields(Machine m) {
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("name", m.name());
    fields.put("machine_type", m.machineType());
    fields.put("up", m.up());
    fields.put("locked", m.locked());
    fields.put("locked_since", m.lockedSince() == null ? null : lockedSince(m.lockedSince()));
    fields.put("locked_by", m.lockedBy());
    fields.put("description", m.description());
    fields.put("os_type", m.osType());
    fields.put("os_version", m.osVersion());
    fields.put("arch", m.arch());
    fields.put("mac_address", m.macAddress());
    fields.put("vm_host", m.vpsHost());
    fields.put("is_vm", m.isVirtual());
    fields.put("ssh_pub_key", m.preferredHostKey().map(HostKey::toString).orElse(null));
    return fields;
  }

  /**
   * A lock time as paddles writes it: Python's {@code str()} of a UTC {@code datetime}, whose
   * microseconds are left out when they are zero.
   */
  static String lockedSince(Instant time) {
    String seconds = SECONDS.format(time);
    int micros = time.getNano() / 1000;
    return micros == 0 ? seconds : seconds + String.format(Locale.ROOT, ".%06d", micros);
  }

  private static String value(Object value) {
    if (value == null) {
      return "null";
    }
    if (value instanceof Boolean b) {
      return b.toString();
    }
    return string(value.toString());
  }

  /** A JSON string as Python's json module writes it by default: ASCII only, \\uXXXX escapes. */
  static String string(String text) {
    StringBuilder s = new StringBuilder(text.length() + 2).append('"');
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      switch (c) {
        case '"' -> s.append("\\\"");
        case '\\' -> s.append("\\\\");
        case '\n' -> s.append("\\n");
        case '\r' -> s.append("\\r");
        case '\t' -> s.append("\\t");
        case '\b' -> s.append("\\b");
        case '\f' -> s.append("\\f");
        default -> {
          if (c < 0x20 || c > 0x7e) {
            s.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
          } else {
            s.append(c);
          }
        }
      }
    }
    return s.append('"').toString();
  }

  /**
   * The {@code --brief} lines, sorted by name, as teuthology-lock prints them: the name padded to
   * the longest name, {@code up}/{@code down} padded to 4, {@code locked}/{@code unlocked} padded
   * to 8, the owner ({@code None} when free) padded to the longest owner, and the description in
   * double quotes ({@code "None"} when there is none).
   *
   * @param machines the machines
   * @return the lines, each ending in a newline
   */
  static String brief(List<Machine> machines) {
    int nameWidth = machines.stream().mapToInt(m -> m.name().length()).max().orElse(0);
    int ownerWidth = machines.stream().mapToInt(m -> owner(m).length()).max().orElse(0);
    StringBuilder lines = new StringBuilder();
    for (Machine m : machines.stream().sorted(Comparator.comparing(Machine::name)).toList()) {
      lines
          .append(pad(host(m.name()), nameWidth))
          .append(' ')
          .append(pad(m.up() ? "up" : "down", 4))
          .append(' ')
          .append(pad(m.locked() ? "locked" : "unlocked", 8))
          .append(' ')
          .append(pad(owner(m), ownerWidth))
          .append(" \"")
          .append(m.description() == null ? "None" : m.description())
          .append("\"\n");
    }
    return lines.toString();
  }

  private static String owner(Machine m) {
    return m.lockedBy() == null ? "None" : m.lockedBy();
  }

  private static String host(String name) {
    Matcher match = USER_AT_HOST.matcher(name);
    return match.lookingAt() ? match.group(1) : name;
  }

  private static String pad(String text, int width) {
    return text.length() >= width ? text : text + " ".repeat(width - text.length());
  }
}
