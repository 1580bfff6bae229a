package io.machinepool.testing;

import io.machinepool.HostKey;
import io.machinepool.Machine;
import io.machinepool.Summary;
import io.machinepool.Waiter;
import io.machinepool.internal.ApiValues;
import java.time.Instant;
import java.util.List;

/**
 * The values that only the library creates — {@link Machine}, {@link Waiter}, {@link Summary} —
 * made up for tests outside package {@code io.machinepool}, through the library's internal factory
 * ({@link ApiValues}). A test that needs a machine as the database would hold it, e.g. to hand to a
 * provisioner or a table formatter, makes one here.
 */
public final class TestValues {
  private TestValues() {}

  /**
   * A machine with every field given.
   *
   * @param name the fully qualified host name
   * @param machineType its pool
   * @param vpsHost for a VM slot the machine it lives on, else {@code null}
   * @param up whether it may be handed out
   * @param locked whether someone holds it
   * @param lockedBy the owner of the lock, {@code null} when free
   * @param lockedSince when it was locked, {@code null} when free
   * @param description the description, or {@code null}
   * @param osType the OS type, or {@code null}
   * @param osVersion the OS version, or {@code null}
   * @param arch the architecture, or {@code null}
   * @param macAddress a VM slot's MAC address, or {@code null}
   * @param hostKeys its host keys, possibly empty
   * @param sshPort the SSH port when it is not 22, or {@code null}
   * @param generation the fencing generation
   * @return the machine
   */
  public static Machine machine(
      String name,
      String machineType,
      String vpsHost,
      boolean up,
      boolean locked,
      String lockedBy,
      Instant lockedSince,
      String description,
      String osType,
      String osVersion,
      String arch,
      String macAddress,
      List<HostKey> hostKeys,
      Integer sshPort,
      long generation) {
    return ApiValues.factory()
        .machine(
            name,
            machineType,
            vpsHost,
            up,
            locked,
            lockedBy,
            lockedSince,
            description,
            osType,
            osVersion,
            arch,
            macAddress,
            hostKeys,
            sshPort,
            generation);
  }

  /**
   * A waiting request with every field given.
   *
   * @param position its place in the queue, 1 for the first
   * @param owner who asked
   * @param description the lock's description, or {@code null}
   * @param names the machines asked for by name, empty for a request by type
   * @param machineTypes the types asked for
   * @param count how many machines
   * @param osType the OS asked for, or {@code null}
   * @param osVersion the OS version asked for, or {@code null}
   * @param arch the architecture asked for, or {@code null}
   * @param priority its priority
   * @param since when it joined the queue
   * @return the waiter
   */
  public static Waiter waiter(
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
    return ApiValues.factory()
        .waiter(
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
   * One entry of a summary.
   *
   * @param machineType the type
   * @param owner who holds the machines, or {@code null} for free ones
   * @param count how many machines
   * @param up how many of them are up
   * @return the entry
   */
  public static Summary.Entry summaryEntry(String machineType, String owner, int count, int up) {
    return ApiValues.factory().summaryEntry(machineType, owner, count, up);
  }

  /**
   * A summary with nobody waiting.
   *
   * @param entries one entry per machine type and owner
   * @return the summary
   */
  public static Summary summary(List<Summary.Entry> entries) {
    return ApiValues.factory().summary(entries, List.of());
  }
}
