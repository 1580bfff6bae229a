package io.machinepool.downburst;

import io.machinepool.InvalidRequestException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * The operating systems downburst can install: a map from distribution to its versions, as {@code
 * downburst list-json} prints it ({@code {"ubuntu": ["22.04(jammy)", "24.04(noble)"], "centos":
 * ["9.stream"]}}), or the built-in {@link #FALLBACK} table when list-json cannot run (it reads the
 * distributions' download pages, so it fails without network). Immutable.
 *
 * <p>A version entry is a version, optionally followed by a codename in parentheses. A requested
 * version matches an entry when it equals the version or the codename, ignoring case; for Ubuntu a
 * version also matches an entry that carries only its codename and vice versa (older downburst
 * versions list {@code jammy(jammy)}).
 */
final class OsCatalog {
  /** The distribution installed when a request names none. */
  static final String DEFAULT_DISTRO = "ubuntu";

  /** The Ubuntu version installed when a request names none: the current LTS. */
  static final String DEFAULT_UBUNTU_VERSION = "24.04";

  /** Ubuntu versions and their codenames, to match one against the other. */
  static final Map<String, String> UBUNTU_CODENAMES =
      Map.ofEntries(
          Map.entry("16.04", "xenial"),
          Map.entry("18.04", "bionic"),
          Map.entry("20.04", "focal"),
          Map.entry("22.04", "jammy"),
          Map.entry("24.04", "noble"),
          Map.entry("24.10", "oracular"),
          Map.entry("25.04", "plucky"),
          Map.entry("25.10", "questing"),
          Map.entry("26.04", "resolute"));

  /**
   * What the library assumes downburst can install when {@code list-json} fails: the releases with
   * cloud images current when this table was written (those of teuthology's own table in {@code
   * teuthology/orchestra/opsys.py} that downburst has images for). A version of a listed
   * distribution that the table lacks is let through with a warning (see {@link #resolve}).
   */
  static final Map<String, List<String>> FALLBACK = fallback();

  private final Map<String, List<String>> distros;
  private final String origin;
  private final boolean lenient;

  OsCatalog(Map<String, List<String>> distros, String origin) {
    this(distros, origin, false);
  }

  private OsCatalog(Map<String, List<String>> distros, String origin, boolean lenient) {
    Map<String, List<String>> copy = new TreeMap<>();
    distros.forEach(
        (distro, versions) -> copy.put(distro.toLowerCase(Locale.ROOT), List.copyOf(versions)));
    this.distros = Collections.unmodifiableMap(copy);
    this.origin = Objects.requireNonNull(origin, "origin");
    this.lenient = lenient;
  }

  /**
   * The built-in catalog.
   *
   * @return the fallback table as a catalog
   */
  static OsCatalog fallbackCatalog() {
    return new OsCatalog(
        FALLBACK, "the built-in table (downburst list-json was not available)", true);
  }

  private static Map<String, List<String>> fallback() {
    Map<String, List<String>> table = new LinkedHashMap<>();
    table.put(
        "ubuntu",
        List.of(
            "20.04(focal)",
            "22.04(jammy)",
            "24.04(noble)",
            "24.10(oracular)",
            "25.04(plucky)",
            "25.10(questing)",
            "26.04(resolute)"));
    table.put("debian", List.of("11", "12", "13"));
    table.put("centos", List.of("9.stream", "10.stream"));
    table.put("rocky", List.of("8.10", "9.6", "9.7", "9.8", "10.0", "10.1", "10.2"));
    table.put("alma", List.of("8.10", "9.6", "9.7", "9.8", "10.0", "10.1", "10.2"));
    table.put("fedora", List.of("41", "42"));
    table.put("opensuse", List.of("15.6(leap)", "16.0(leap)"));
    return Collections.unmodifiableMap(table);
  }

  /**
   * Parses the standard output of {@code downburst list-json}.
   *
   * @param json the output
   * @return the catalog
   * @throws IllegalArgumentException when the output is not a JSON object of distributions to lists
   *     of versions, or names no distribution
   */
  static OsCatalog parse(String json) {
    Object root;
    try {
      root = new Yaml(new SafeConstructor(new LoaderOptions())).load(json);
    } catch (YAMLException e) {
      throw new IllegalArgumentException("not JSON: " + e.getMessage(), e);
    }
    if (!(root instanceof Map<?, ?> map)) {
      throw new IllegalArgumentException("not a JSON object of distributions");
    }
    Map<String, List<String>> distros = new LinkedHashMap<>();
    map.forEach(
        (key, value) -> {
          if (key instanceof String distro && value instanceof List<?> list) {
            List<String> versions = new ArrayList<>();
            for (Object version : list) {
              if (version != null) {
                versions.add(version.toString());
              }
            }
            distros.put(distro, versions);
          }
        });
    if (distros.isEmpty()) {
      throw new IllegalArgumentException("names no distribution with a list of versions");
    }
    return new OsCatalog(distros, "downburst list-json");
  }

  /**
   * Where this catalog came from, for messages.
   *
   * @return e.g. {@code downburst list-json}
   */
  String origin() {
    return origin;
  }

  /**
   * The distributions and their versions.
   *
   * @return distribution (lower case) to versions, sorted by distribution
   */
  Map<String, List<String>> distros() {
    return distros;
  }

  /**
   * The OS a request selects: its distribution and version, the defaults filled in, checked against
   * this catalog.
   *
   * @param osType the requested distribution, or {@code null} for {@link #DEFAULT_DISTRO} (also
   *     with a version: the version is then one of Ubuntu's, as teuthology-lock has it for VMs)
   * @param osVersion the requested version, or {@code null} for the default: {@link
   *     #DEFAULT_UBUNTU_VERSION} for Ubuntu, the newest known version for others
   * @return the distribution (lower case) and version to pass to downburst
   * @throws InvalidRequestException when the distribution or the version is not known, listing what
   *     is; the built-in table refuses an unknown distribution only, and lets an unknown version of
   *     a known one through as not {@linkplain Os#listed() listed}
   */
  Os resolve(String osType, String osVersion) {
    String distro = osType == null ? DEFAULT_DISTRO : osType.strip().toLowerCase(Locale.ROOT);
    List<String> versions = distros.get(distro);
    if (versions == null) {
      throw new InvalidRequestException(
          "downburst cannot install "
              + (osType == null
                  ? DEFAULT_DISTRO + " (the OS type of a request that names none)"
                  : "OS type '" + osType + "'")
              + ": the distributions known to "
              + origin
              + " are "
              + String.join(", ", distros.keySet())
              + ". Ask for one of them, e.g. os(\"ubuntu\", \""
              + DEFAULT_UBUNTU_VERSION
              + "\")");
    }
    if (osVersion == null) {
      if (distro.equals(DEFAULT_DISTRO)) {
        osVersion = DEFAULT_UBUNTU_VERSION;
      } else {
        Optional<String> newest =
            versions.stream()
                .map(OsCatalog::versionPart)
                .max(Comparator.comparing(OsCatalog::versionKey, OsCatalog::compareKeys));
        if (newest.isEmpty()) {
          throw new InvalidRequestException(
              origin + " lists no version of " + distro + "; ask for a version explicitly");
        }
        osVersion = newest.get();
      }
    }
    String wanted = osVersion.strip();
    for (String entry : versions) {
      if (matches(distro, entry, wanted)) {
        return new Os(distro, wanted);
      }
    }
    if (lenient) {
      // A stale built-in table must not stand in the way: downburst decides, from the image cache
      // of the VM host or its download, and a missing image fails at once (not retried).
      return new Os(distro, wanted, false);
    }
    throw new InvalidRequestException(
        "downburst cannot install "
            + distro
            + " "
            + wanted
            + ": the versions of "
            + distro
            + " known to "
            + origin
            + " are "
            + String.join(", ", versions)
            + (osType == null
                ? " (a version without an OS type is "
                    + DEFAULT_DISTRO
                    + "'s, as in teuthology-lock; ask for a version or codename in parentheses, or"
                    + " name the OS type)"
                : " (ask for the version or the codename in parentheses)"));
  }

  private static boolean matches(String distro, String entry, String wanted) {
    String w = wanted.toLowerCase(Locale.ROOT);
    String version = versionPart(entry).toLowerCase(Locale.ROOT);
    String codename = codenamePart(entry).toLowerCase(Locale.ROOT);
    if (w.equals(version) || (!codename.isEmpty() && w.equals(codename))) {
      return true;
    }
    if (distro.equals("ubuntu")) {
      String wantedCodename = UBUNTU_CODENAMES.get(w);
      if (wantedCodename != null
          && (wantedCodename.equals(version) || wantedCodename.equals(codename))) {
        return true;
      }
      return UBUNTU_CODENAMES.entrySet().stream()
          .anyMatch(e -> e.getValue().equals(w) && e.getKey().equals(version));
    }
    return false;
  }

  /** {@code 22.04(jammy)} gives {@code 22.04}. */
  static String versionPart(String entry) {
    int paren = entry.indexOf('(');
    return (paren < 0 ? entry : entry.substring(0, paren)).strip();
  }

  /** {@code 22.04(jammy)} gives {@code jammy}; no parentheses give the empty string. */
  static String codenamePart(String entry) {
    int open = entry.indexOf('(');
    int close = entry.indexOf(')', open + 1);
    if (open < 0) {
      return "";
    }
    return (close < 0 ? entry.substring(open + 1) : entry.substring(open + 1, close)).strip();
  }

  private static List<Object> versionKey(String version) {
    List<Object> key = new ArrayList<>();
    for (String part : version.split("[.\\-]")) {
      key.add(part.matches("\\d{1,9}") ? (Object) Integer.valueOf(part) : part);
    }
    return key;
  }

  private static int compareKeys(List<Object> a, List<Object> b) {
    for (int i = 0; i < Math.min(a.size(), b.size()); i++) {
      Object x = a.get(i);
      Object y = b.get(i);
      int c;
      if (x instanceof Integer xi && y instanceof Integer yi) {
        c = xi.compareTo(yi);
      } else if (x instanceof Integer) {
        c = 1; // numbers sort after words ("testing" is not newer than 13)
      } else if (y instanceof Integer) {
        c = -1;
      } else {
        c = x.toString().compareTo(y.toString());
      }
      if (c != 0) {
        return c;
      }
    }
    return Integer.compare(a.size(), b.size());
  }

  @Override
  public String toString() {
    return distros.entrySet().stream()
        .map(e -> e.getKey() + " " + e.getValue())
        .collect(Collectors.joining(", ", origin + ": ", ""));
  }

  /**
   * An OS to install.
   *
   * @param distro the distribution, lower case
   * @param version the version, as requested (or the default)
   * @param listed whether the catalog lists the version; {@code false} only for a version the
   *     built-in table lacks, which is let through
   */
  record Os(String distro, String version, boolean listed) {
    Os(String distro, String version) {
      this(distro, version, true);
    }
  }
}
