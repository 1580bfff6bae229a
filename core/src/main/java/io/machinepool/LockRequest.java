package io.machinepool;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

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
 * @param owner who will hold the lock, by convention {@code user@hostname}
 * @param description free text on the lock (a job id or path), or {@code null}
 * @param names the machines to lock by name; empty when locking by type
 * @param machineTypes the pools to take machines from; empty when locking by name
 * @param count how many machines to lock, at most 1000; for a request by name, the number of names
 *     (at most 1000)
 * @param osType for VM slots the OS to install, for physical machines a filter; or {@code null}
 * @param osVersion likewise for the OS version, or {@code null}
 * @param arch likewise for the architecture, or {@code null}
 * @param waitUpTo how long to wait in the queue when the machines are not free, at most 7 days;
 *     zero fails at once
 * @param keepUntilUnlocked when {@code true} the lock has no lease expiry and survives the JVM
 *     (teuthology-lock {@code --lock} semantics): only an explicit unlock frees it
 * @param priority the request's place among requests that wait: lower is served first, as with
 *     teuthology's {@code --priority}; 0 to 1,000,000, default {@value #DEFAULT_PRIORITY}
 */
public record LockRequest(
    String owner,
    String description,
    List<String> names,
    List<String> machineTypes,
    int count,
    String osType,
    String osVersion,
    String arch,
    Duration waitUpTo,
    boolean keepUntilUnlocked,
    int priority) {

  /** The priority of a request that does not set one, as teuthology's jobs have by default. */
  public static final int DEFAULT_PRIORITY = 1000;

  /** The largest priority number (the least urgent). */
  public static final int MAX_PRIORITY = 1_000_000;

  /**
   * Validates the request as a whole.
   *
   * @throws InvalidRequestException when a value breaks the rule given for it in this class's
   *     documentation
   */
  public LockRequest {
    Checks.owner(owner);
    Checks.description(description);
    names = Checks.machineNames(names == null ? List.of() : names);
    machineTypes =
        Checks.notNull(machineTypes, "machine types").stream()
            .map(Checks::machineType)
            .distinct()
            .toList();
    Checks.osField(osType, "OS type");
    Checks.osField(osVersion, "OS version");
    Checks.osField(arch, "arch");
    Checks.notNegative(waitUpTo, "waitUpTo");
    Checks.priority(priority, MAX_PRIORITY);
    if (osVersion != null && osType == null) {
      throw new InvalidRequestException("an OS version needs an OS type: use os(type, version)");
    }
    if (!names.isEmpty() && !machineTypes.isEmpty()) {
      throw new InvalidRequestException(
          "lock either named machines or a number of a machine type, not both");
    }
    if (names.isEmpty() && machineTypes.isEmpty()) {
      throw new InvalidRequestException(
          "say what to lock: names(...) or machineType(...) with count(...)");
    }
    if (!names.isEmpty()) {
      if (count != 0 && count != names.size()) {
        throw new InvalidRequestException(
            "count " + count + " does not match the " + names.size() + " machines named");
      }
      count = names.size();
    } else {
      Checks.count(count);
    }
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
   * Whether machines are requested by name.
   *
   * @return {@code true} for a request by name
   */
  public boolean byName() {
    return !names.isEmpty();
  }

  /**
   * The owner a request gets when none is given: {@code user@hostname} of this process.
   *
   * @return e.g. {@code alice@build7}
   */
  public static String defaultOwner() {
    return DefaultOwner.VALUE;
  }

  /** Looks the host name up once: a builder per lock must not cost a resolver call each. */
  private static final class DefaultOwner {
    static final String VALUE = System.getProperty("user.name", "unknown") + "@" + hostName();

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
     * Sets the OS: installed on VM slots, a filter for physical machines.
     *
     * @param type e.g. {@code ubuntu}
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
      return new LockRequest(
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
  }
}
