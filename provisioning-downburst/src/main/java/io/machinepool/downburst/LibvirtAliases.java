package io.machinepool.downburst;

import io.machinepool.ConfigurationException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The libvirt URI aliases of a {@code libvirt.conf}: {@code downburst -c mira001} connects to
 * whatever URI the alias {@code mira001} stands for, so every VM host needs an entry such as
 *
 * <pre>
 * uri_aliases = [
 *   "mira001=qemu+ssh://ubuntu@mira001.front.sepia.ceph.com/system?no_tty=1",
 * ]
 * </pre>
 *
 * <p>{@link #forCurrentUser()} reads the file libvirt itself reads for the user this JVM runs as:
 * for root only {@code /etc/libvirt/libvirt.conf}; for others {@code
 * $XDG_CONFIG_HOME/libvirt/libvirt.conf} (default {@code ~/.config/libvirt/libvirt.conf}), or, when
 * that does not exist and {@code ~/.libvirt/libvirt.conf} does, the latter (older libvirt). {@link
 * #of(Path)} uses any file.
 *
 * <p>The file is read with libvirt's syntax: {@code key = value} settings, {@code #} comments,
 * strings in double or single quotes, lists in brackets that may span lines and end with a comma.
 * {@link #add(Collection)} adds the entries of VM hosts that have none, leaving the rest of the
 * file as it was, and replaces the file atomically.
 *
 * <p>Instances are immutable; each call reads the file anew.
 */
public final class LibvirtAliases {
  private static final Logger LOG = LoggerFactory.getLogger(LibvirtAliases.class);

  /** The setting that holds the aliases. */
  static final String KEY = "uri_aliases";

  /** The file root's libvirt clients read. */
  static final Path SYSTEM_FILE = Path.of("/etc/libvirt/libvirt.conf");

  private final Path file;

  private LibvirtAliases(Path file) {
    this.file = Objects.requireNonNull(file, "file");
  }

  /**
   * The aliases of the {@code libvirt.conf} libvirt reads for the user this JVM runs as.
   *
   * @return the aliases of that file
   */
  public static LibvirtAliases forCurrentUser() {
    return of(
        defaultFile(
            isRoot(), System.getenv("XDG_CONFIG_HOME"), Path.of(System.getProperty("user.home"))));
  }

  /**
   * The aliases of a given file.
   *
   * @param file a {@code libvirt.conf}; need not exist
   * @return the aliases of that file
   */
  public static LibvirtAliases of(Path file) {
    return new LibvirtAliases(file);
  }

  /**
   * The file libvirt reads: for root {@code /etc/libvirt/libvirt.conf}; for others {@code
   * <xdgConfigHome>/libvirt/libvirt.conf} ({@code ~/.config} when {@code XDG_CONFIG_HOME} is unset,
   * empty or relative), or {@code ~/.libvirt/libvirt.conf} when only that one exists.
   */
  static Path defaultFile(boolean root, String xdgConfigHome, Path home) {
    if (root) {
      return SYSTEM_FILE;
    }
    Path configHome =
        xdgConfigHome != null && !xdgConfigHome.isBlank() && Path.of(xdgConfigHome).isAbsolute()
            ? Path.of(xdgConfigHome)
            : home.resolve(".config");
    Path current = configHome.resolve("libvirt/libvirt.conf");
    Path legacy = home.resolve(".libvirt/libvirt.conf");
    if (!Files.exists(current) && Files.exists(legacy)) {
      return legacy;
    }
    return current;
  }

  /** Whether this JVM runs as uid 0; by {@code /proc/self} where there is one, else by name. */
  static boolean isRoot() {
    try {
      Object uid = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
      if (uid instanceof Integer value) {
        return value == 0;
      }
    } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
      LOG.debug("cannot read the uid from /proc/self: {}", e.toString());
    }
    return "root".equals(System.getProperty("user.name"));
  }

  /**
   * The file these aliases are read from and written to.
   *
   * @return the path
   */
  public Path file() {
    return file;
  }

  /**
   * Reads the aliases.
   *
   * @return alias name to URI, in file order; empty when the file does not exist or sets no aliases
   * @throws ConfigurationException when the file cannot be read or its {@code uri_aliases} setting
   *     is malformed
   */
  public Map<String, String> read() {
    String text = readText();
    if (text == null) {
      return Map.of();
    }
    Setting setting = find(text);
    if (setting == null) {
      return Map.of();
    }
    Map<String, String> aliases = new LinkedHashMap<>();
    for (Token entry : setting.entries()) {
      int eq = entry.value().indexOf('=');
      if (eq <= 0) {
        throw malformed("the entry \"" + entry.value() + "\" is not of the form name=URI");
      }
      aliases.putIfAbsent(entry.value().substring(0, eq), entry.value().substring(eq + 1));
    }
    return Collections.unmodifiableMap(aliases);
  }

  /**
   * The VM hosts whose short name has no alias in the file.
   *
   * @param vmHosts VM host names, full or short
   * @return those without an alias, in the given order
   */
  public List<String> missing(Collection<String> vmHosts) {
    Map<String, String> aliases = read();
    return vmHosts.stream()
        .filter(host -> !aliases.containsKey(CommandLine.shortName(host)))
        .distinct()
        .toList();
  }

  /**
   * The alias entry for a VM host: {@code "<short>=qemu+ssh://ubuntu@<host>/system?no_tty=1"},
   * without the quotes.
   *
   * @param vmHost the VM host's full name
   * @return e.g. {@code mira001=qemu+ssh://ubuntu@mira001.front.sepia.ceph.com/system?no_tty=1}
   */
  public static String entry(String vmHost) {
    String host = vmHost.substring(vmHost.indexOf('@') + 1);
    return CommandLine.shortName(host) + "=qemu+ssh://ubuntu@" + host + "/system?no_tty=1";
  }

  /**
   * Renders a complete {@code uri_aliases} setting for VM hosts, one quoted entry a line.
   *
   * @param vmHosts the VM hosts' full names
   * @return the setting, ending with a newline
   */
  public static String render(Collection<String> vmHosts) {
    StringBuilder text = new StringBuilder(KEY).append(" = [\n");
    for (String host : vmHosts.stream().distinct().toList()) {
      text.append("  \"").append(entry(host)).append("\",\n");
    }
    return text.append("]\n").toString();
  }

  /**
   * Adds the entries of VM hosts whose short name has no alias yet, keeping everything else in the
   * file: other settings, comments, and existing aliases (also one for the same short name with
   * another URI). The new entries go at the end of the existing {@code uri_aliases} list, or into a
   * new setting at the end of the file; a missing file is created, with its directory. The file is
   * replaced atomically (written to a temporary file next to it, then moved over it), keeping its
   * permissions.
   *
   * @param vmHosts the VM hosts' full names
   * @return the entries added, empty when every host had one already
   * @throws ConfigurationException when the file cannot be read, parsed or written
   */
  public List<String> add(Collection<String> vmHosts) {
    String text = readText();
    Map<String, String> existing = text == null ? Map.of() : read();
    List<String> added = new ArrayList<>();
    Set<String> names = new HashSet<>(existing.keySet());
    for (String host : vmHosts) {
      if (names.add(CommandLine.shortName(host))) {
        added.add(entry(host));
      }
    }
    if (added.isEmpty()) {
      return List.of();
    }
    String updated = insert(text == null ? "" : text, added);
    write(updated);
    LOG.info("added {} libvirt URI aliases to {}: {}", added.size(), file, added);
    return List.copyOf(added);
  }

  private String insert(String text, List<String> entries) {
    Setting setting = find(text);
    if (setting == null) {
      StringBuilder result = new StringBuilder(text);
      if (!text.isEmpty() && !text.endsWith("\n")) {
        result.append('\n');
      }
      result.append(KEY).append(" = [\n");
      entries.forEach(e -> result.append("  ").append(quote(e)).append(",\n"));
      return result.append("]\n").toString();
    }
    StringBuilder insertion = new StringBuilder();
    int at;
    if (setting.entries().isEmpty()) {
      at = setting.open() + 1;
      entries.forEach(e -> insertion.append("\n  ").append(quote(e)).append(','));
      insertion.append('\n');
    } else if (setting.trailingComma() >= 0) {
      at = setting.trailingComma() + 1;
      entries.forEach(e -> insertion.append("\n  ").append(quote(e)).append(','));
    } else {
      at = setting.entries().get(setting.entries().size() - 1).end();
      entries.forEach(e -> insertion.append(",\n  ").append(quote(e)));
    }
    return text.substring(0, at) + insertion + text.substring(at);
  }

  private static String quote(String entry) {
    return "\"" + entry + "\"";
  }

  private String readText() {
    if (!Files.exists(file)) {
      return null;
    }
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new ConfigurationException("cannot read " + file + ": " + e, e);
    }
  }

  private void write(String text) {
    try {
      Path directory = file.toAbsolutePath().getParent();
      Files.createDirectories(directory);
      Path temporary = Files.createTempFile(directory, "." + file.getFileName() + ".", ".tmp");
      try {
        Files.writeString(temporary, text, StandardCharsets.UTF_8);
        copyPermissions(temporary);
        try {
          Files.move(
              temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
          Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING);
        }
      } finally {
        Files.deleteIfExists(temporary);
      }
    } catch (IOException e) {
      throw new ConfigurationException("cannot write " + file + ": " + e, e);
    }
  }

  private void copyPermissions(Path temporary) throws IOException {
    Set<PosixFilePermission> permissions;
    try {
      permissions =
          Files.exists(file)
              ? Files.getPosixFilePermissions(file)
              : PosixFilePermissions.fromString("rw-r--r--");
      Files.setPosixFilePermissions(temporary, permissions);
    } catch (UnsupportedOperationException e) {
      LOG.debug("{} has no POSIX permissions to keep", file);
    }
  }

  private ConfigurationException malformed(String problem) {
    return new ConfigurationException(
        "the "
            + KEY
            + " setting of "
            + file
            + " is malformed: "
            + problem
            + ". libvirt expects e.g.\n"
            + render(List.of("mira001.front.sepia.ceph.com")));
  }

  @Override
  public String toString() {
    return "LibvirtAliases[" + file + "]";
  }

  // --- libvirt.conf syntax ---

  /** A token: its kind, text (for strings: the value without quotes) and extent in the file. */
  private record Token(char kind, String value, int start, int end) {}

  /**
   * The {@code uri_aliases} setting found in a file.
   *
   * @param open offset of its {@code [}
   * @param entries its string entries
   * @param trailingComma offset of a comma after the last entry, or -1
   */
  private record Setting(int open, List<Token> entries, int trailingComma) {}

  /** Finds the last {@code uri_aliases = [...]} setting (libvirt, too, lets the last one win). */
  private Setting find(String text) {
    List<Token> tokens = tokenize(text);
    Setting found = null;
    for (int i = 0; i < tokens.size(); i++) {
      Token t = tokens.get(i);
      boolean startOfStatement = i == 0 || tokens.get(i - 1).kind() == '\n';
      if (t.kind() != 'w' || !t.value().equals(KEY) || !startOfStatement) {
        continue;
      }
      int j = skipNewlines(tokens, i + 1);
      if (j >= tokens.size() || tokens.get(j).kind() != '=') {
        throw malformed("'" + KEY + "' is not followed by '='");
      }
      j = skipNewlines(tokens, j + 1);
      if (j >= tokens.size() || tokens.get(j).kind() != '[') {
        throw malformed("its value is not a list in brackets");
      }
      int open = tokens.get(j).start();
      List<Token> entries = new ArrayList<>();
      int trailingComma = -1;
      boolean expectValue = true;
      j++;
      while (true) {
        j = skipNewlines(tokens, j);
        if (j >= tokens.size()) {
          throw malformed("the list has no closing ']'");
        }
        Token item = tokens.get(j);
        if (item.kind() == ']') {
          break;
        }
        if (expectValue && item.kind() == '"') {
          entries.add(item);
          trailingComma = -1;
          expectValue = false;
        } else if (!expectValue && item.kind() == ',') {
          trailingComma = item.start();
          expectValue = true;
        } else {
          throw malformed(
              "unexpected '"
                  + item.value()
                  + "' in the list (entries are quoted strings separated by commas)");
        }
        j++;
      }
      found = new Setting(open, entries, trailingComma);
      i = j;
    }
    return found;
  }

  private static int skipNewlines(List<Token> tokens, int index) {
    while (index < tokens.size() && tokens.get(index).kind() == '\n') {
      index++;
    }
    return index;
  }

  /**
   * Splits libvirt.conf text into words ({@code w}), strings ({@code "}), punctuation ({@code = [ ]
   * , ;}) and line ends ({@code \n}, also for {@code ;}); comments and blanks are dropped.
   */
  private List<Token> tokenize(String text) {
    List<Token> tokens = new ArrayList<>();
    int i = 0;
    int n = text.length();
    while (i < n) {
      char c = text.charAt(i);
      if (c == '#') {
        while (i < n && text.charAt(i) != '\n') {
          i++;
        }
      } else if (c == '\n' || c == ';') {
        tokens.add(new Token('\n', String.valueOf(c), i, i + 1));
        i++;
      } else if (Character.isWhitespace(c)) {
        i++;
      } else if (c == '"' || c == '\'') {
        boolean triple = text.startsWith(String.valueOf(c).repeat(3), i);
        String quote = triple ? String.valueOf(c).repeat(3) : String.valueOf(c);
        int close = text.indexOf(quote, i + quote.length());
        if (close < 0 || (!triple && text.substring(i + 1, close).contains("\n"))) {
          throw malformed("a string starting at offset " + i + " is not closed on its line");
        }
        tokens.add(
            new Token('"', text.substring(i + quote.length(), close), i, close + quote.length()));
        i = close + quote.length();
      } else if (c == '=' || c == '[' || c == ']' || c == ',') {
        tokens.add(new Token(c, String.valueOf(c), i, i + 1));
        i++;
      } else {
        int start = i;
        while (i < n
            && !Character.isWhitespace(text.charAt(i))
            && "#=[],;\"'".indexOf(text.charAt(i)) < 0) {
          i++;
        }
        tokens.add(new Token('w', text.substring(start, i), start, i));
      }
    }
    return tokens;
  }

  /**
   * Describes the fix for VM hosts without an alias, for messages.
   *
   * @param hosts the VM hosts' full names
   * @return the text
   */
  String fixFor(List<String> hosts) {
    String entries =
        hosts.stream()
            .map(h -> "  " + quote(entry(h)) + ",")
            .collect(Collectors.joining("\n", "", "\n"));
    return "add "
        + (hosts.size() == 1 ? "this entry" : "these entries")
        + " to the "
        + KEY
        + " list of "
        + file
        + (Files.exists(file) ? "" : " (the file does not exist yet)")
        + ":\n"
        + entries
        + "e.g. the whole setting:\n"
        + render(hosts);
  }
}
