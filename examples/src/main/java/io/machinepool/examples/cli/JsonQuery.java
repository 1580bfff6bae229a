package io.machinepool.examples.cli;

import io.machinepool.Machine;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * {@code --json-query JSON|FILE}, as teuthology-lock filters a listing with it: the query is a JSON
 * object, given as text or as the name of a file holding it, and a machine matches when every key
 * of the query matches its lock server object ({@link Listing#fields}) — equal values, or, where
 * both are objects, every key of the query's object matching recursively (a subset). {@code
 * vm_host} is the VM host's whole object there, so {@code {"vm_host": {"name": "mira001..."}}}
 * selects the VM slots of one host.
 */
final class JsonQuery {
  private final Map<?, ?> query;

  private JsonQuery(Map<?, ?> query) {
    this.query = query;
  }

  /**
   * Reads a query: the file of that name when there is one, else the text itself.
   *
   * @param value the option's value
   * @return the query
   * @throws UsageException when it is not a JSON object or the file cannot be read
   */
  static JsonQuery parse(String value) {
    String text = value;
    String source = "--json-query";
    Path file = file(value);
    if (file != null) {
      try {
        text = Files.readString(file, StandardCharsets.UTF_8);
        source = "--json-query file " + file;
      } catch (IOException e) {
        throw new UsageException(
            "cannot read the --json-query file " + file + ": " + TargetsFile.describe(e));
      }
    }
    Object parsed;
    try {
      // JSON is YAML 1.2 flow style, which SnakeYAML reads; its safe constructor builds plain
      // maps, lists, strings, numbers and booleans only.
      parsed = new Yaml(new SafeConstructor(new LoaderOptions())).load(text);
    } catch (YAMLException e) {
      throw new UsageException(
          source + " is not valid JSON: " + e.getMessage().lines().findFirst().orElse(""));
    }
    if (!(parsed instanceof Map<?, ?> map)) {
      throw new UsageException(
          source
              + " must be a JSON object, e.g. '{\"os_type\": \"ubuntu\"}' or"
              + " '{\"vm_host\": {\"name\": \"mira001.front.sepia.ceph.com\"}}'");
    }
    return new JsonQuery(map);
  }

  private static Path file(String value) {
    try {
      Path path = Path.of(value);
      return Files.isRegularFile(path) ? path : null;
    } catch (InvalidPathException e) {
      return null;
    }
  }

  /**
   * The machines that match, in their order.
   *
   * @param machines the machines
   * @param host a machine's VM host by name (for {@code vm_host}), or {@code null} when unknown
   * @return those that match
   */
  List<Machine> filter(List<Machine> machines, Function<String, Machine> host) {
    return machines.stream().filter(m -> matches(status(m, host))).toList();
  }

  /** The lock server's object of a machine, with {@code vm_host} as the host's object. */
  private static Map<String, Object> status(Machine m, Function<String, Machine> host) {
    Map<String, Object> status = Listing.fields(m);
    if (m.vpsHost() != null) {
      Machine vmHost = host.apply(m.vpsHost());
      status.put("vm_host", vmHost == null ? Map.of("name", m.vpsHost()) : Listing.fields(vmHost));
    }
    return status;
  }

  boolean matches(Map<String, Object> status) {
    return query.entrySet().stream()
        .allMatch(e -> isIn(String.valueOf(e.getKey()), e.getValue(), status));
  }

  /** teuthology's {@code misc.is_in_dict}: a value, or a subset of an object at any depth. */
  private static boolean isIn(String key, Object wanted, Map<?, ?> in) {
    Object value = in.get(key);
    if (wanted instanceof Map<?, ?> sub && value instanceof Map<?, ?> found) {
      return sub.entrySet().stream()
          .allMatch(e -> isIn(String.valueOf(e.getKey()), e.getValue(), found));
    }
    return same(wanted, value);
  }

  /** Python's {@code ==} of JSON values: numbers by value, {@code true == 1}. */
  private static boolean same(Object a, Object b) {
    if (a == null || b == null) {
      return a == b;
    }
    BigDecimal x = number(a);
    BigDecimal y = number(b);
    if (x != null && y != null) {
      return x.compareTo(y) == 0;
    }
    return a.equals(b);
  }

  private static BigDecimal number(Object value) {
    if (value instanceof Boolean b) {
      return b ? BigDecimal.ONE : BigDecimal.ZERO;
    }
    if (value instanceof Number n) {
      try {
        return new BigDecimal(n.toString());
      } catch (NumberFormatException e) {
        return null; // NaN, infinities
      }
    }
    return null;
  }
}
