package io.machinepool;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The teuthology {@code targets:} mapping: each machine's name and its SSH host key. {@link
 * #toYaml()} renders the document that {@code teuthology} and {@code teuthology-lock
 * --list-targets} use:
 *
 * <pre>
 * targets:
 *   smithi001.front.sepia.ceph.com: ssh-ed25519 AAAAC3Nza...
 * </pre>
 *
 * A machine whose key is not known yet appears with an empty value ({@code null} in YAML), which
 * teuthology reads as "check against the system's known hosts".
 *
 * @param hostKeys machine name to its preferred host key, in the order given; a value may be {@code
 *     null} when no key is known
 */
public record Targets(Map<String, HostKey> hostKeys) {

  /** Copies the mapping, keeping its order. */
  public Targets {
    Checks.notNull(hostKeys, "host keys");
    hostKeys = Collections.unmodifiableMap(new LinkedHashMap<>(hostKeys));
  }

  /**
   * The targets of these machines, each with its preferred key (ed25519 first), sorted by name.
   *
   * @param machines the machines
   * @return the targets
   */
  public static Targets of(List<Machine> machines) {
    Map<String, HostKey> keys = new LinkedHashMap<>();
    machines.stream()
        .sorted(java.util.Comparator.comparing(Machine::name))
        .forEach(m -> keys.put(m.name(), m.preferredHostKey().orElse(null)));
    return new Targets(keys);
  }

  /**
   * Renders the {@code targets:} YAML document.
   *
   * @return the document, ending in a newline
   */
  public String toYaml() {
    if (hostKeys.isEmpty()) {
      return "targets: {}\n";
    }
    StringBuilder yaml = new StringBuilder("targets:\n");
    // Names match [A-Za-z0-9._@:-]+ and keys are "type base64": neither needs quoting, except a
    // name ending in ':' which YAML would misread, so quote defensively when a ':' is present.
    hostKeys.forEach(
        (name, key) -> {
          String yamlName = name.indexOf(':') >= 0 ? "'" + name + "'" : name;
          yaml.append("  ").append(yamlName).append(": ");
          yaml.append(key == null ? "null" : key.toString()).append('\n');
        });
    return yaml.toString();
  }

  /**
   * Names of the machines.
   *
   * @return the names in order
   */
  public List<String> names() {
    return List.copyOf(hostKeys.keySet());
  }
}
