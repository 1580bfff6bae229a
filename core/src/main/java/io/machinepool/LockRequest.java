package io.machinepool;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * What to lock: either named machines, or a number of free machines of one or more machine types.
 * Build one with {@link #builder()}:
 *
 * <pre>{@code
 * LockRequest.builder()
 *     .owner("alice@build7").description("run-42/job-3")
 *     .machineType("vps").count(3)
 *     .os("ubuntu", "22.04")
 *     .waitUpTo(Duration.ofMinutes(5))
 *     .build();
 * }</pre>
 *
 * <p>Two requests are equal when every field is. Fields added later get a builder method and a
 * default, so code that builds requests keeps compiling.
 */
public final class LockRequest {
  /** The priority of a request that does not set one, as teuthology's jobs have by default. */
  public static final int DEFAULT_PRIORITY = 1000;

  /** The largest priority number (the least urgent). */
  public static final int MAX_PRIORITY = 1_000_000;

  private final String owner;
  private final String description;
  private final List<String> names;
  private final List<String> machineTypes;
  private final int count;
  private final String osType;
  private final String osVersion;
  private final String arch;
  private final Duration waitUpTo;
  private final boolean keepUntilUnlocked;
  private final int priority;

  /** Validates the request as a whole: the one place its rules are checked. */
  private LockRequest(Builder builder) {
    Checks.owner(builder.owner);
    Checks.description(builder.description);
    List<String> namesGiven = Checks.machineNames(builder.names);
    List<String> typesGiven =
        Checks.notNull(builder.machineTypes, "machine types").stream()
            .map(Checks::machineType)
            .distinct()
            .toList();
    Checks.osField(builder.osType, "OS type");
    Checks.osField(builder.osVersion, "OS version");
    Checks.osField(builder.arch, "arch");
    Checks.notNegative(builder.waitUpTo, "waitUpTo");
    Checks.priority(builder.priority, MAX_PRIORITY);
    if (!namesGiven.isEmpty() && !typesGiven.isEmpty()) {
      throw new InvalidRequestException(
          "lock either named machines or a number of a machine type, not both");
    }
    if (namesGiven.isEmpty() && typesGiven.isEmpty()) {
      throw new InvalidRequestException(
          "say what to lock: names(...) or machineType(...) with count(...)");
    }
    if (!namesGiven.isEmpty()) {
      if (builder.count != 0 && builder.count != namesGiven.size()) {
        throw new InvalidRequestException(
            "count "
                + builder.count
                + " does not match the "
                + namesGiven.size()
                + " machines named");
      }
      this.count = namesGiven.size();
    } else {
      this.count = Checks.count(builder.count);
    }
    this.owner = builder.owner;
    this.description = builder.description;
    this.names = namesGiven;
    this.machineTypes = typesGiven;
    this.osType = builder.osType;
    this.osVersion = builder.osVersion;
    this.arch = builder.arch;
    this.waitUpTo = builder.waitUpTo;
    this.keepUntilUnlocked = builder.keepUntilUnlocked;
    this.priority = builder.priority;
  }

  /**
   * Starts a request; the owner defaults to {@link #defaultOwner()}.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Who will hold the lock.
   *
   * @return by convention {@code user@hostname}
   */
  public String owner() {
    return owner;
  }

  /**
   * The lock's description.
   *
   * @return free text on the lock (a job id or path), or {@code null}
   */
  public String description() {
    return description;
  }

  /**
   * The machines to lock by name.
   *
   * @return the names; empty when locking by type
   */
  public List<String> names() {
    return names;
  }

  /**
   * The pools to take machines from.
   *
   * @return the machine types; empty when locking by name
   */
  public List<String> machineTypes() {
    return machineTypes;
  }

  /**
   * How many machines to lock.
   *
   * @return 1 to 1000; for a request by name, the number of names
   */
  public int count() {
    return count;
  }

  /**
   * The OS: for VM slots the OS to install, for physical machines a filter.
   *
   * @return the OS type, or {@code null}
   */
  public String osType() {
    return osType;
  }

  /**
   * The OS version, installed or filtered on like {@link #osType()}.
   *
   * @return the OS version, or {@code null}
   */
  public String osVersion() {
    return osVersion;
  }

  /**
   * The architecture, installed or filtered on like {@link #osType()}.
   *
   * @return the architecture, or {@code null}
   */
  public String arch() {
    return arch;
  }

  /**
   * How long to wait in the queue when the machines are not free.
   *
   * @return at most 7 days; zero fails at once
   */
  public Duration waitUpTo() {
    return waitUpTo;
  }

  /**
   * Whether the lock is kept until unlocked: no lease expiry, and it survives the JVM
   * (teuthology-lock {@code --lock} semantics); only an explicit unlock frees it.
   *
   * @return {@code true} for such a lock
   */
  public boolean keepUntilUnlocked() {
    return keepUntilUnlocked;
  }

  /**
   * The request's place among requests that wait: lower is served first, as with teuthology's
   * {@code --priority}.
   *
   * @return 0 to {@value #MAX_PRIORITY}, default {@value #DEFAULT_PRIORITY}
   */
  public int priority() {
    return priority;
  }

  /**
   * A builder holding this request's values, to build a request that differs in some of them. For a
   * request by name the count is left unset, so that names may be added.
   *
   * @return a new builder
   */
  public Builder toBuilder() {
    Builder builder = new Builder();
    builder.owner = owner;
    builder.description = description;
    builder.names.addAll(names);
    builder.machineTypes.addAll(machineTypes);
    builder.count = byName() ? 0 : count;
    builder.osType = osType;
    builder.osVersion = osVersion;
    builder.arch = arch;
    builder.waitUpTo = waitUpTo;
    builder.keepUntilUnlocked = keepUntilUnlocked;
    builder.priority = priority;
    return builder;
  }

  /**
   * What the request asks for, in a few words, as {@link Waiter#asks()} says it of a waiting
   * request: {@code 5 smithi}, {@code 2 smithi/mira with os ubuntu 22.04}, or the names of its
   * machines.
   *
   * @return the words
   */
  public String asks() {
    return Waiter.asks(names, machineTypes, count, osType, osVersion, arch);
  }

  /**
   * Whether machines are requested by name.
   *
   * @return {@code true} for a request by name
   */
  public boolean byName() {
    return !names.isEmpty();
  }

  /**
   * Whether the other object is a request with equal fields.
   *
   * @param other the object to compare with
   * @return {@code true} when every field is equal
   */
  @Override
  public boolean equals(Object other) {
    return other instanceof LockRequest that
        && count == that.count
        && keepUntilUnlocked == that.keepUntilUnlocked
        && priority == that.priority
        && owner.equals(that.owner)
        && Objects.equals(description, that.description)
        && names.equals(that.names)
        && machineTypes.equals(that.machineTypes)
        && Objects.equals(osType, that.osType)
        && Objects.equals(osVersion, that.osVersion)
        && Objects.equals(arch, that.arch)
        && waitUpTo.equals(that.waitUpTo);
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        owner,
        description,
        names,
        machineTypes,
        count,
        osType,
        osVersion,
        arch,
        waitUpTo,
        keepUntilUnlocked,
        priority);
  }

  /**
   * Every field, in the form a record prints.
   *
   * @return e.g. {@code LockRequest[owner=alice@build7, ...]}
   */
  @Override
  public String toString() {
    return "LockRequest[owner="
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
        + ", waitUpTo="
        + waitUpTo
        + ", keepUntilUnlocked="
        + keepUntilUnlocked
        + ", priority="
        + priority
        + "]";
  }

  /**
   * The owner a request gets when none is given: {@code user@hostname} of this process, with the
   * user name as teuthology's {@code getpass.getuser()} finds it: the first of the environment
   * variables {@code LOGNAME}, {@code USER}, {@code LNAME} and {@code USERNAME} that is set and not
   * empty, else the account's name ({@code user.name}).
   *
   * @return e.g. {@code alice@build7}
   */
  public static String defaultOwner() {
    return DefaultOwner.VALUE;
  }

  /** The environment variables {@code getpass.getuser()} reads, in its order. */
  private static final List<String> USER_VARIABLES =
      List.of("LOGNAME", "USER", "LNAME", "USERNAME");

  /**
   * The user name as {@code getpass.getuser()} finds it.
   *
   * @param environment the process's environment variables by name
   * @param account the account's name, from the password database
   * @return the user name
   */
  static String userName(java.util.function.Function<String, String> environment, String account) {
    for (String variable : USER_VARIABLES) {
      String value = environment.apply(variable);
      if (value != null && !value.isEmpty()) {
        return value;
      }
    }
    return account;
  }

  /** Looks the host name up once: a builder per lock must not cost a resolver call each. */
  private static final class DefaultOwner {
    static final String VALUE =
        userName(System::getenv, System.getProperty("user.name", "unknown")) + "@" + hostName();

    private static String hostName() {
      try {
        return InetAddress.getLocalHost().getHostName();
      } catch (UnknownHostException e) {
        return "localhost";
      }
    }
  }

  /** Builds a {@link LockRequest}; every method returns this builder. */
  public static final class Builder {
    private String owner = defaultOwner();
    private String description;
    private final List<String> names = new ArrayList<>();
    private final List<String> machineTypes = new ArrayList<>();
    private int count;
    private String osType;
    private String osVersion;
    private String arch;
    private Duration waitUpTo = Duration.ZERO;
    private boolean keepUntilUnlocked;
    private int priority = DEFAULT_PRIORITY;

    private Builder() {}

    /**
     * Sets who holds the lock.
     *
     * @param value by convention {@code user@hostname}
     * @return this builder
     */
    public Builder owner(String value) {
      this.owner = value;
      return this;
    }

    /**
     * Sets the lock's description.
     *
     * @param value a job id or path
     * @return this builder
     */
    public Builder description(String value) {
      this.description = value;
      return this;
    }

    /**
     * Locks these machines by name, all or none; at most 1000 in one request.
     *
     * @param value the names
     * @return this builder
     */
    public Builder names(String... value) {
      Checks.notNull(value, "machine names");
      return names(Arrays.asList(value));
    }

    /**
     * Locks these machines by name, all or none; at most 1000 in one request.
     *
     * @param value the names
     * @return this builder
     */
    public Builder names(List<String> value) {
      Checks.notNull(value, "machine names");
      names.addAll(value);
      return this;
    }

    /**
     * Takes machines of this type (may be called again to allow several types).
     *
     * @param value e.g. {@code vps}
     * @return this builder
     */
    public Builder machineType(String value) {
      machineTypes.add(value);
      return this;
    }

    /**
     * Takes machines of any of these types.
     *
     * @param value e.g. {@code smithi, mira}
     * @return this builder
     */
    public Builder machineTypes(String... value) {
      Checks.notNull(value, "machine types");
      machineTypes.addAll(Arrays.asList(value));
      return this;
    }

    /**
     * Sets how many machines to lock.
     *
     * @param value 1 to 1000, and no more than the inventory has of the requested types
     * @return this builder
     */
    public Builder count(int value) {
      this.count = value;
      return this;
    }

    /**
     * Sets the OS: installed on VM slots, a filter for physical machines. Either may be {@code
     * null}, as in teuthology-lock: {@code os(null, "22.04")} takes physical machines of any OS
     * type with version 22.04, and leaves the type of a VM slot to the provisioner (downburst's
     * default is ubuntu).
     *
     * @param type e.g. {@code ubuntu}, or {@code null} for any type (the provisioner's default on
     *     VM slots)
     * @param version e.g. {@code 22.04}, or {@code null} for the default version
     * @return this builder
     */
    public Builder os(String type, String version) {
      this.osType = type;
      this.osVersion = version;
      return this;
    }

    /**
     * Sets the architecture: installed on VM slots, a filter for physical machines.
     *
     * @param value e.g. {@code x86_64}
     * @return this builder
     */
    public Builder arch(String value) {
      this.arch = value;
      return this;
    }

    /**
     * Waits up to this long for the machines: a request by type until enough are free, a request by
     * name until every named machine is free, in the queue of waiting requests (see {@link
     * #priority(int)}).
     *
     * @param value zero (the default) fails at once; at most 7 days
     * @return this builder
     */
    public Builder waitUpTo(Duration value) {
      this.waitUpTo = value;
      return this;
    }

    /**
     * Sets the request's priority among requests that wait for machines: a lower number is served
     * first; equal numbers are served in the order the requests joined the queue, by the database's
     * sequence. A request that does not wait ({@code waitUpTo} zero) still takes no machine that a
     * request waiting ahead of it needs.
     *
     * @param value 0 (most urgent) to {@value LockRequest#MAX_PRIORITY}; default {@value
     *     LockRequest#DEFAULT_PRIORITY}
     * @return this builder
     */
    public Builder priority(int value) {
      this.priority = value;
      return this;
    }

    /**
     * Makes the lock durable: no lease expiry, no heartbeat, not released when the pool closes or
     * the JVM exits. Only an explicit unlock (or closing the returned lease) frees it.
     *
     * @return this builder
     */
    public Builder keepUntilUnlocked() {
      this.keepUntilUnlocked = true;
      return this;
    }

    /**
     * Validates and builds the request.
     *
     * @return the request
     * @throws InvalidRequestException when the request breaks a rule
     */
    public LockRequest build() {
      return new LockRequest(this);
    }
  }
}
