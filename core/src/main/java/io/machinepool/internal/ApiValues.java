package io.machinepool.internal;

import io.machinepool.HostKey;
import io.machinepool.Machine;
import io.machinepool.Summary;
import io.machinepool.Waiter;
import java.time.Instant;
import java.util.List;

/**
 * The one way for code outside package {@code io.machinepool} to create the values that package
 * hands out and users cannot construct: {@link Machine}, {@link Waiter}, {@link Summary} and {@link
 * Summary.Entry}. Their constructors are package-private, so that a {@code Machine} always shows a
 * lock state the database had; the internal code that reads the database (in this package) creates
 * them through {@link #factory()}.
 *
 * <p>This is the JDK's "shared secrets" pattern: a package-private class of {@code io.machinepool}
 * implements {@link Factory}, and {@code Machine}'s static initializer {@linkplain
 * #install(Factory) installs} it. {@link #factory()} initializes {@code Machine} first when nothing
 * is installed yet, so the factory is there whichever class the JVM happened to initialize first. A
 * test fixture outside {@code io.machinepool} goes through here too; users of the library do not:
 * this package is not API.
 */
public final class ApiValues {
  private static volatile Factory installed;

  private ApiValues() {}

  /** Creates the values of {@code io.machinepool} that have no public constructor. */
  public interface Factory {
    /**
     * Creates a machine.
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
     * @param hostKeys its host keys, possibly empty or {@code null} for none
     * @param sshPort the SSH port when it is not 22, or {@code null}
     * @param generation the fencing generation
     * @return the machine
     */
    Machine machine(
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
        long generation);

    /**
     * Creates a waiting request as the queue lists it.
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
    Waiter waiter(
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
        Instant since);

    /**
     * Creates one entry of a summary.
     *
     * @param machineType the type
     * @param owner who holds the machines, or {@code null} for free ones
     * @param count how many machines
     * @param up how many of them are up
     * @return the entry
     */
    Summary.Entry summaryEntry(String machineType, String owner, int count, int up);

    /**
     * Creates a summary.
     *
     * @param entries one entry per machine type and owner
     * @param waiters the waiting requests, the first to be served first
     * @return the summary
     */
    Summary summary(List<Summary.Entry> entries, List<Waiter> waiters);
  }

  /**
   * Installs the factory; called once, by {@code io.machinepool}'s own static initializer.
   *
   * @param factory the factory
   * @throws IllegalStateException when a factory is installed already
   */
  public static synchronized void install(Factory factory) {
    if (installed != null) {
      throw new IllegalStateException("the factory of io.machinepool's values is installed");
    }
    installed = factory;
  }

  /**
   * The installed factory, initializing the class that installs it when needed.
   *
   * @return the factory
   */
  public static Factory factory() {
    Factory factory = installed;
    if (factory == null) {
      initialize(Machine.class);
      factory = installed;
    }
    return factory;
  }

  private static void initialize(Class<?> type) {
    try {
      Class.forName(type.getName(), true, type.getClassLoader());
    } catch (ClassNotFoundException e) {
      throw new IllegalStateException(type + " cannot be initialized", e);
    }
  }
}
