package io.machinepool.config;

import io.machinepool.ConfigurationException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * The teuthology configuration file, as far as machinepool uses it. {@link #load()} reads the first
 * of {@code $TEUTHOLOGY_CONFIG}, {@code ~/.teuthology.yaml} and {@code /etc/teuthology.yaml} that
 * exists, with SnakeYAML's safe loading; when none exists the configuration is empty. Unknown keys
 * are ignored, so one file serves teuthology and machinepool alike. The keys read:
 *
 * <pre>
 * downburst: /opt/downburst/bin/downburst     # or a map:
 * downburst:
 *   path: /opt/downburst/bin/downburst
 *   discover_url: http://images.example.com/
 *   machine:                                  # one map for every type, or a list of maps
 *     - type: [vps, vpm]
 *       disk: 100G
 *       ram: 3.8G
 *       cpus: 2
 *       volumes: {count: 4, size: 100G}
 * lab_domain: front.sepia.ceph.com
 * ssh_key: ~/.ssh/id_ed25519
 * machine_pool:
 *   database_url: jdbc:postgresql://lockdb.example.com/lab
 *   lease_duration: 10m                       # seconds, or with s/m/h, or ISO-8601 (PT10M)
 *   downburst_create_args: [--nokey]          # extra options of every downburst create
 *   libvirt_config: ~/lab/libvirt.conf        # where to check the VM hosts' URI aliases
 *   ssh_timeout: 5m                           # how long a new VM may take to answer on SSH
 *   downburst_create_timeout: 10m             # one downburst create
 *   downburst_destroy_timeout: 5m             # one downburst destroy
 *   downburst_retry_pause: 60s                # between create attempts; may be 0
 *   downburst_create_attempts: 3              # 1 (no retry) to 20
 *   ssh_addresses:                            # where to reach machines whose name does not resolve
 *     vpm011.front.sepia.ceph.com: 10.0.3.11
 * </pre>
 */
public final class TeuthologyConfig {
  /** The environment variable naming the config file. */
  public static final String ENVIRONMENT_VARIABLE = "TEUTHOLOGY_CONFIG";

  private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*([smh]?)");
  private static final TeuthologyConfig EMPTY = new TeuthologyConfig(null, Map.of(), null);

  private final Path source;
  private final Path downburstPath;
  private final String discoverUrl;
  private final List<DownburstMachine> machines;
  private final String labDomain;
  private final Path sshKey;
  private final String databaseUrl;
  private final Duration leaseDuration;
  private final List<String> downburstCreateArguments;
  private final Path libvirtConfig;
  private final Map<String, String> sshAddresses;
  private final Duration sshTimeout;
  private final Duration createTimeout;
  private final Duration destroyTimeout;
  private final Duration retryPause;
  private final Integer createAttempts;

  /** The most create attempts {@code machine_pool.downburst_create_attempts} accepts. */
  public static final int MAX_CREATE_ATTEMPTS = 20;

  private TeuthologyConfig(Path source, Map<?, ?> root, Path home) {
    this.source = source;
    Keys keys = new Keys(source, home);
    Object downburst = root.get("downburst");
    if (downburst instanceof Map<?, ?> map) {
      this.downburstPath = keys.path(map, "downburst.path");
      this.discoverUrl = keys.string(map, "downburst.discover_url");
      this.machines = machines(keys, map.get("machine"));
    } else {
      this.downburstPath = keys.path(root, "downburst");
      this.discoverUrl = null;
      this.machines = List.of();
    }
    // teuthology's own development configs say lab_domain: '' for "no domain".
    String domain = keys.string(root, "lab_domain");
    this.labDomain = domain == null || domain.isBlank() ? null : domain;
    this.sshKey = keys.path(root, "ssh_key");
    Map<?, ?> own = keys.map(root, "machine_pool");
    this.databaseUrl = keys.string(own, "machine_pool.database_url");
    this.leaseDuration = keys.duration(own, "machine_pool.lease_duration");
    this.downburstCreateArguments = keys.strings(own, "machine_pool.downburst_create_args");
    this.libvirtConfig = keys.path(own, "machine_pool.libvirt_config");
    this.sshAddresses = keys.stringMap(own, "machine_pool.ssh_addresses");
    this.sshTimeout = keys.duration(own, "machine_pool.ssh_timeout");
    this.createTimeout = keys.duration(own, "machine_pool.downburst_create_timeout");
    this.destroyTimeout = keys.duration(own, "machine_pool.downburst_destroy_timeout");
    this.retryPause = keys.pause(own, "machine_pool.downburst_retry_pause");
    this.createAttempts = keys.integer(own, "machine_pool.downburst_create_attempts");
    if (createAttempts != null && (createAttempts < 1 || createAttempts > MAX_CREATE_ATTEMPTS)) {
      throw keys.wrong(
          "machine_pool.downburst_create_attempts",
          "a whole number from 1 (no retry) to " + MAX_CREATE_ATTEMPTS);
    }
  }

  /**
   * A configuration without any key.
   *
   * @return the empty configuration
   */
  public static TeuthologyConfig empty() {
    return EMPTY;
  }

  /**
   * Reads the first of {@code $TEUTHOLOGY_CONFIG}, {@code ~/.teuthology.yaml}, {@code
   * /etc/teuthology.yaml} that exists.
   *
   * @return the configuration, empty when no file exists
   * @throws ConfigurationException when the file is malformed
   */
  public static TeuthologyConfig load() {
    return load(System.getenv(ENVIRONMENT_VARIABLE), userHome(), Path.of("/etc/teuthology.yaml"));
  }

  private static Path userHome() {
    return Path.of(System.getProperty("user.home"));
  }

  static TeuthologyConfig load(String environmentValue, Path home, Path system) {
    List<Path> candidates = new ArrayList<>();
    if (environmentValue != null && !environmentValue.isBlank()) {
      Path named = Path.of(environmentValue);
      if (!Files.isRegularFile(named)) {
        throw new ConfigurationException(
            ENVIRONMENT_VARIABLE
                + " names "
                + named
                + ", which is not a readable file; fix the variable or unset it");
      }
      candidates.add(named);
    }
    candidates.add(home.resolve(".teuthology.yaml"));
    candidates.add(system);
    for (Path candidate : candidates) {
      if (Files.isRegularFile(candidate)) {
        return load(candidate, home);
      }
    }
    return EMPTY;
  }

  /**
   * Reads one config file.
   *
   * @param file the file
   * @return the configuration
   * @throws ConfigurationException when it cannot be read or is malformed
   */
  public static TeuthologyConfig load(Path file) {
    return load(file, userHome());
  }

  static TeuthologyConfig load(Path file, Path home) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new ConfigurationException("cannot read the config file " + file + ": " + e, e);
    }
    return parse(text, file, home);
  }

  /**
   * Parses config text.
   *
   * @param yaml the YAML document
   * @param source where it came from, for messages; may be {@code null}
   * @return the configuration
   * @throws ConfigurationException when it is malformed
   */
  public static TeuthologyConfig parse(String yaml, Path source) {
    return parse(yaml, source, userHome());
  }

  static TeuthologyConfig parse(String yaml, Path source, Path home) {
    String where = source == null ? "the config" : source.toString();
    Object root;
    try {
      root = new Yaml(new SafeConstructor(new LoaderOptions())).load(yaml);
    } catch (MarkedYAMLException e) {
      Mark mark = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
      String line =
          mark == null
              ? ""
              : " at line " + (mark.getLine() + 1) + ", column " + (mark.getColumn() + 1);
      throw new ConfigurationException(
          where + " is not valid YAML" + line + ": " + e.getProblem(), e);
    } catch (YAMLException e) {
      throw new ConfigurationException(where + " is not valid YAML: " + e.getMessage(), e);
    }
    if (root == null) {
      return new TeuthologyConfig(source, Map.of(), home);
    }
    if (!(root instanceof Map<?, ?> map)) {
      throw new ConfigurationException(
          where + " must be a YAML mapping of keys such as lab_domain and downburst");
    }
    return new TeuthologyConfig(source, map, home);
  }

  private static List<DownburstMachine> machines(Keys keys, Object value) {
    if (value == null) {
      return List.of();
    }
    if (value instanceof Map<?, ?> map) {
      return List.of(keys.machine(map, "downburst.machine"));
    }
    if (value instanceof List<?> list) {
      List<DownburstMachine> machines = new ArrayList<>();
      for (int i = 0; i < list.size(); i++) {
        if (!(list.get(i) instanceof Map<?, ?> entry)) {
          throw keys.wrong("downburst.machine[" + i + "]", "a map");
        }
        machines.add(keys.machine(entry, "downburst.machine[" + i + "]"));
      }
      return List.copyOf(machines);
    }
    throw keys.wrong("downburst.machine", "a map or a list of maps");
  }

  /**
   * The file this configuration was read from.
   *
   * @return the file, or empty for an empty or parsed configuration
   */
  public Optional<Path> source() {
    return Optional.ofNullable(source);
  }

  /**
   * The configured downburst executable ({@code downburst} as a string, or {@code downburst.path}).
   *
   * @return the path, a leading {@code ~/} replaced by the user's home directory; or empty
   */
  public Optional<Path> downburstPath() {
    return Optional.ofNullable(downburstPath);
  }

  /**
   * {@code downburst.discover_url}: where downburst finds its cloud images.
   *
   * @return the URL, or empty
   */
  public Optional<String> downburstDiscoverUrl() {
    return Optional.ofNullable(discoverUrl);
  }

  /**
   * Every {@code downburst.machine} entry, in file order.
   *
   * @return the entries, possibly empty
   */
  public List<DownburstMachine> downburstMachines() {
    return machines;
  }

  /**
   * The first {@code downburst.machine} entry that applies to a machine type.
   *
   * @param machineType the type
   * @return the entry, or empty
   */
  public Optional<DownburstMachine> downburstMachine(String machineType) {
    return machines.stream().filter(m -> m.appliesTo(machineType)).findFirst();
  }

  /**
   * {@code lab_domain}: what completes short machine names.
   *
   * @return the domain, or empty when the file has none or an empty one ({@code lab_domain: ''})
   */
  public Optional<String> labDomain() {
    return Optional.ofNullable(labDomain);
  }

  /**
   * {@code ssh_key}: the private key harnesses log in with.
   *
   * @return the path, a leading {@code ~/} replaced by the user's home directory; or empty
   */
  public Optional<Path> sshKey() {
    return Optional.ofNullable(sshKey);
  }

  /**
   * {@code machine_pool.database_url}: the lock database of the command-line tool.
   *
   * @return the JDBC URL, or empty
   */
  public Optional<String> databaseUrl() {
    return Optional.ofNullable(databaseUrl);
  }

  /**
   * {@code machine_pool.lease_duration}.
   *
   * @return the lease duration, or empty
   */
  public Optional<Duration> leaseDuration() {
    return Optional.ofNullable(leaseDuration);
  }

  /**
   * {@code machine_pool.ssh_timeout}: how long a new VM may take to answer on SSH.
   *
   * @return the timeout, or empty
   */
  public Optional<Duration> sshTimeout() {
    return Optional.ofNullable(sshTimeout);
  }

  /**
   * {@code machine_pool.downburst_create_timeout}: how long one {@code downburst create} may run.
   *
   * @return the timeout, or empty
   */
  public Optional<Duration> downburstCreateTimeout() {
    return Optional.ofNullable(createTimeout);
  }

  /**
   * {@code machine_pool.downburst_destroy_timeout}: how long one {@code downburst destroy} may run.
   *
   * @return the timeout, or empty
   */
  public Optional<Duration> downburstDestroyTimeout() {
    return Optional.ofNullable(destroyTimeout);
  }

  /**
   * {@code machine_pool.downburst_retry_pause}: the pause before another create attempt; may be
   * zero.
   *
   * @return the pause, or empty
   */
  public Optional<Duration> downburstRetryPause() {
    return Optional.ofNullable(retryPause);
  }

  /**
   * {@code machine_pool.downburst_create_attempts}: how many times {@code downburst create} runs at
   * most for one VM, from 1 to {@link #MAX_CREATE_ATTEMPTS}.
   *
   * @return the count, or empty
   */
  public OptionalInt downburstCreateAttempts() {
    return createAttempts == null ? OptionalInt.empty() : OptionalInt.of(createAttempts);
  }

  /**
   * {@code machine_pool.downburst_create_args}: options added to every {@code downburst create},
   * such as {@code --nokey} for a lab without internet access.
   *
   * @return the options, possibly empty
   */
  public List<String> downburstCreateArguments() {
    return downburstCreateArguments;
  }

  /**
   * {@code machine_pool.libvirt_config}: the {@code libvirt.conf} whose URI aliases are checked
   * before VM slots are locked, instead of the one libvirt reads for the current user.
   *
   * @return the path, a leading {@code ~/} replaced by the user's home directory; or empty
   */
  public Optional<Path> libvirtConfig() {
    return Optional.ofNullable(libvirtConfig);
  }

  /**
   * {@code machine_pool.ssh_addresses}: the host name or address a machine's SSH server is reached
   * at, for machines whose name does not resolve to it (a NAT, a lab simulator on loopback).
   *
   * @param machine the machine's full name
   * @return the address, or empty to connect to the name itself
   */
  public Optional<String> sshAddress(String machine) {
    return Optional.ofNullable(sshAddresses.get(machine));
  }

  /**
   * Completes a short machine name with the lab domain, as teuthology does: {@code smithi001}
   * becomes {@code smithi001.front.sepia.ceph.com}; a name with a dot, or any name when no domain
   * is configured (or it is empty), stays as it is. A {@code user@} prefix is dropped.
   *
   * @param name a short or full name
   * @return the full name
   */
  public String canonicalize(String name) {
    String bare = name.substring(name.indexOf('@') + 1);
    if (labDomain == null || bare.contains(".") || bare.isEmpty()) {
      return bare;
    }
    return bare + "." + labDomain;
  }

  @Override
  public String toString() {
    return "TeuthologyConfig[" + (source == null ? "no file" : source) + "]";
  }

  /** Reads typed values of keys, failing with the key and file named. */
  private static final class Keys {
    private final String where;
    private final Path home;

    Keys(Path source, Path home) {
      this.where = source == null ? "the config" : source.toString();
      this.home = home;
    }

    /**
     * A path, with a leading {@code ~} or {@code ~/} standing for the user's home directory: the
     * one place a path of the file is expanded. {@code ~user} is left as written.
     */
    Path path(Map<?, ?> map, String key) {
      String value = string(map, key);
      if (value == null) {
        return null;
      }
      if (value.isBlank()) {
        throw wrong(key, "a path");
      }
      try {
        if (home != null && (value.equals("~") || value.startsWith("~/"))) {
          return home.resolve(value.substring(Math.min(2, value.length())));
        }
        return Path.of(value);
      } catch (InvalidPathException e) {
        throw wrong(key, "a path (" + e.getReason() + ")");
      }
    }

    ConfigurationException wrong(String key, String expected) {
      return new ConfigurationException(
          "in " + where + ", " + key + " must be " + expected + "; fix or remove it");
    }

    String string(Map<?, ?> map, String key) {
      Object value = map.get(leaf(key));
      if (value == null) {
        return null;
      }
      if (value instanceof String || value instanceof Number) {
        return value.toString();
      }
      throw wrong(key, "a string");
    }

    List<String> strings(Map<?, ?> map, String key) {
      Object value = map.get(leaf(key));
      if (value == null) {
        return List.of();
      }
      if (value instanceof String single) {
        return List.of(single);
      }
      if (value instanceof List<?> list && list.stream().allMatch(String.class::isInstance)) {
        return list.stream().map(String.class::cast).toList();
      }
      throw wrong(key, "a string or a list of strings");
    }

    Map<String, String> stringMap(Map<?, ?> map, String key) {
      Map<?, ?> nested = map(map, key);
      Map<String, String> strings = new java.util.LinkedHashMap<>();
      nested.forEach(
          (k, v) -> {
            if (!(k instanceof String name) || !(v instanceof String || v instanceof Number)) {
              throw wrong(key, "a map of machine names to host names or addresses");
            }
            strings.put(name, v.toString());
          });
      return Map.copyOf(strings);
    }

    Integer integer(Map<?, ?> map, String key) {
      Object value = map.get(leaf(key));
      if (value == null) {
        return null;
      }
      if (value instanceof Integer number && number >= 0) {
        return number;
      }
      throw wrong(key, "a whole number of at least 0");
    }

    Map<?, ?> map(Map<?, ?> map, String key) {
      Object value = map.get(leaf(key));
      if (value == null) {
        return Map.of();
      }
      if (value instanceof Map<?, ?> nested) {
        return nested;
      }
      throw wrong(key, "a map");
    }

    Duration duration(Map<?, ?> map, String key) {
      Object value = map.get(leaf(key));
      if (value == null) {
        return null;
      }
      if (value instanceof Integer seconds && seconds > 0) {
        return Duration.ofSeconds(seconds);
      }
      if (value instanceof String text) {
        Matcher m = DURATION.matcher(text.strip());
        if (m.matches() && Long.parseLong(m.group(1)) > 0) {
          long amount = Long.parseLong(m.group(1));
          return switch (m.group(2)) {
            case "m" -> Duration.ofMinutes(amount);
            case "h" -> Duration.ofHours(amount);
            default -> Duration.ofSeconds(amount);
          };
        }
        try {
          Duration parsed = Duration.parse(text.strip());
          if (!parsed.isNegative() && !parsed.isZero()) {
            return parsed;
          }
        } catch (DateTimeParseException e) {
          // fall through to the message below
        }
      }
      throw wrong(key, "a positive duration such as 600, 10m or PT10M");
    }

    /** A duration that may also be zero ({@code 0}, {@code 0s}, {@code PT0S}). */
    Duration pause(Map<?, ?> map, String key) {
      Object value = map.get(leaf(key));
      if (value instanceof Integer zero && zero == 0) {
        return Duration.ZERO;
      }
      if (value instanceof String text && text.strip().matches("0+\\s*[smh]?|PT0+S")) {
        return Duration.ZERO;
      }
      try {
        return duration(map, key);
      } catch (ConfigurationException e) {
        throw wrong(key, "zero or a positive duration such as 60, 1m or PT1M");
      }
    }

    DownburstMachine machine(Map<?, ?> entry, String key) {
      Object type = entry.get("type");
      List<String> types = new ArrayList<>();
      if (type instanceof String single) {
        types.add(single);
      } else if (type instanceof List<?> list) {
        for (Object item : list) {
          if (!(item instanceof String name)) {
            throw wrong(key + ".type", "a machine type or a list of them");
          }
          types.add(name);
        }
      } else if (type != null) {
        throw wrong(key + ".type", "a machine type or a list of them");
      }
      Map<?, ?> volumes = map(entry, key + ".volumes");
      return new DownburstMachine(
          types,
          string(entry, key + ".disk"),
          string(entry, key + ".ram"),
          integer(entry, key + ".cpus"),
          integer(volumes, key + ".volumes.count"),
          string(volumes, key + ".volumes.size"),
          string(entry, key + ".arch"));
    }

    private static String leaf(String key) {
      return key.substring(key.lastIndexOf('.') + 1);
    }
  }
}
