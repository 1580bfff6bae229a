package io.machinepool;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * A lock request waiting in the queue, as {@link MachinePool#waiters()} lists it. Requests that
 * wait are served by priority (lower first), then in the order they joined the queue; a request
 * takes no machine that one waiting ahead of it needs. Only the library creates waiters; two are
 * equal when every field is.
 */
public final class Waiter {
  private final int position;
  private final String owner;
  private final String description;
  private final List<String> names;
  private final List<String> machineTypes;
  private final int count;
  private final String osType;
  private final String osVersion;
  private final String arch;
  private final int priority;
  private final Instant since;

  /** Keeps the fields; copies the lists. */
  Waiter(
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
    this.position = position;
    this.owner = owner;
    this.description = description;
    this.names = List.copyOf(names);
    this.machineTypes = List.copyOf(machineTypes);
    this.count = count;
    this.osType = osType;
    this.osVersion = osVersion;
    this.arch = arch;
    this.priority = priority;
    this.since = since;
  }

  /**
   * The request's place in the queue.
   *
   * @return 1 for the one served first
   */
  public int position() {
    return position;
  }

  /**
   * Who asked.
   *
   * @return the owner the lock will have
   */
  public String owner() {
    return owner;
  }

  /**
   * The description the lock will have.
   *
   * @return the description, or {@code null}
   */
  public String description() {
    return description;
  }

  /**
   * The machines asked for by name.
   *
   * @return the names; empty for a request by type
   */
  public List<String> names() {
    return names;
  }

  /**
   * The machine types asked for.
   *
   * @return the types asked for; for a request by name, the types of its machines
   */
  public List<String> machineTypes() {
    return machineTypes;
  }

  /**
   * How many machines the request asks for.
   *
   * @return the count
   */
  public int count() {
    return count;
  }

  /**
   * The OS asked for.
   *
   * @return the OS type, or {@code null}
   */
  public String osType() {
    return osType;
  }

  /**
   * The OS version asked for.
   *
   * @return the OS version, or {@code null}
   */
  public String osVersion() {
    return osVersion;
  }

  /**
   * The architecture asked for.
   *
   * @return the architecture, or {@code null}
   */
  public String arch() {
    return arch;
  }

  /**
   * The request's priority.
   *
   * @return its priority: lower is served first
   */
  public int priority() {
    return priority;
  }

  /**
   * When the request joined the queue.
   *
   * @return the time, by the database clock
   */
  public Instant since() {
    return since;
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
    return asks(names, machineTypes, count, osType, osVersion, arch);
  }

  /** The words of {@link #asks()}, for a waiting request and a {@link LockRequest} alike. */
  static String asks(
      List<String> names,
      List<String> machineTypes,
      int count,
      String osType,
      String osVersion,
      String arch) {
    StringBuilder what = new StringBuilder();
    if (!names.isEmpty()) {
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

  /**
   * Whether the other object is a waiter with equal fields.
   *
   * @param other the object to compare with
   * @return {@code true} when every field is equal
   */
  @Override
  public boolean equals(Object other) {
    return other instanceof Waiter that
        && position == that.position
        && count == that.count
        && priority == that.priority
        && Objects.equals(owner, that.owner)
        && Objects.equals(description, that.description)
        && names.equals(that.names)
        && machineTypes.equals(that.machineTypes)
        && Objects.equals(osType, that.osType)
        && Objects.equals(osVersion, that.osVersion)
        && Objects.equals(arch, that.arch)
        && Objects.equals(since, that.since);
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        position,
        owner,
        description,
        names,
        machineTypes,
        count,
        osType,
        osVersion,
        arch,
        priority,
        since);
  }

  /**
   * Every field, in the form a record prints.
   *
   * @return e.g. {@code Waiter[position=1, owner=alice@build7, ...]}
   */
  @Override
  public String toString() {
    return "Waiter[position="
        + position
        + ", owner="
        + owner
        + ", description="
        + description
        + ", names="
        + names
        + ", machineTypes="
        + machineTypes
        + ", count="
        + count
        + ", osType="
        + osType
        + ", osVersion="
        + osVersion
        + ", arch="
        + arch
        + ", priority="
        + priority
        + ", since="
        + since
        + "]";
  }
}
