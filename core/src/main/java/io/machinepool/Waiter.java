package io.machinepool;

import java.time.Instant;
import java.util.List;

/**
 * A lock request waiting in the queue, as {@link MachinePool#waiters()} lists it. Requests that
 * wait are served by priority (lower first), then in the order they joined the queue; a request
 * takes no machine that one waiting ahead of it needs.
 *
 * @param position the request's place in the queue: 1 for the one served first
 * @param owner who asked
 * @param description the description the lock will have, or {@code null}
 * @param names the machines asked for by name; empty for a request by type
 * @param machineTypes the types asked for; for a request by name, the types of its machines
 * @param count how many machines it asks for
 * @param osType the OS asked for, or {@code null}
 * @param osVersion the OS version asked for, or {@code null}
 * @param arch the architecture asked for, or {@code null}
 * @param priority its priority: lower is served first
 * @param since when it joined the queue, by the database clock
 */
public record Waiter(
    int position,
    String owner,
    String description,
    List<String> names,
    List<String> machineTypes,
    int count,
    String osType,
    String osVersion,
    String arch,
    int priority,
    Instant since) {

  /** Copies the lists. */
  public Waiter {
    names = List.copyOf(names);
    machineTypes = List.copyOf(machineTypes);
  }

  /**
   * Whether the request names its machines.
   *
   * @return {@code true} for a request by name
   */
  public boolean byName() {
    return !names.isEmpty();
  }

  /**
   * What the request asks for, in a few words: {@code 5 smithi}, {@code 2 smithi/mira with os
   * ubuntu 22.04}, or the names of its machines.
   *
   * @return the description
   */
  public String asks() {
    StringBuilder what = new StringBuilder();
    if (byName()) {
      what.append(
          names.size() <= 3 ? String.join(", ", names) : names.size() + " machines by name");
    } else {
      what.append(count).append(' ').append(String.join("/", machineTypes));
    }
    if (osType != null) {
      what.append(" with os ").append(osType);
      if (osVersion != null) {
        what.append(' ').append(osVersion);
      }
    }
    if (arch != null) {
      what.append(osType == null ? " with arch " : ", arch ").append(arch);
    }
    return what.toString();
  }
}
