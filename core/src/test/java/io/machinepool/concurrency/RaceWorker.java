package io.machinepool.concurrency;

import io.machinepool.Lease;
import io.machinepool.LockConflictException;
import io.machinepool.LockRequest;
import io.machinepool.Machine;
import io.machinepool.MachinePool;
import io.machinepool.NotEnoughMachinesException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * One thread of a race: random lock by name, lock-many by type, renew, {@link Lease#close()} and
 * {@link MachinePool#unlock(String, String)}, until a deadline or an operation budget is used up.
 * Every machine a lock returns is claimed in the {@link Ledger} at once, and released there right
 * before it is unlocked. The only outcomes counted as normal are success, {@link
 * LockConflictException} for a request by name and {@link NotEnoughMachinesException} for a request
 * by type; anything else (a {@code LockContentionException} included) is a problem.
 */
final class RaceWorker implements Runnable {
  /** Most leases a worker holds at once. */
  private static final int MAX_LEASES = 3;

  /** A lease and the machines of it this worker still holds. */
  private record Held(Lease lease, Set<String> machines) {}

  private final MachinePool pool;
  private final String owner;
  private final List<String> names;
  private final List<String> types;
  private final Ledger ledger;
  private final Tally tally;
  private final Random random;
  private final long deadline;
  private final int maxOperations;
  private final List<Held> held = new ArrayList<>();
  private int serial;

  /**
   * Creates a worker.
   *
   * @param pool the pool to lock from
   * @param owner this worker's owner name; no other worker may use it
   * @param names every machine of the inventory
   * @param types every machine type of the inventory
   * @param ledger the independent ledger
   * @param tally where to count what happened
   * @param seed the random seed
   * @param runFor how long to run
   * @param maxOperations the most operations to run
   */
  RaceWorker(
      MachinePool pool,
      String owner,
      List<String> names,
      List<String> types,
      Ledger ledger,
      Tally tally,
      long seed,
      Duration runFor,
      int maxOperations) {
    this.pool = pool;
    this.owner = owner;
    this.names = List.copyOf(names);
    this.types = List.copyOf(types);
    this.ledger = ledger;
    this.tally = tally;
    this.random = new Random(seed);
    this.deadline = System.nanoTime() + runFor.toNanos();
    this.maxOperations = maxOperations;
  }

  @Override
  public void run() {
    try {
      for (int op = 0; op < maxOperations && System.nanoTime() < deadline; op++) {
        step();
      }
    } catch (RuntimeException | Error e) {
      tally.problem(owner + " stopped: " + stackTrace(e));
    } finally {
      while (!held.isEmpty()) {
        try {
          close(held.get(held.size() - 1));
        } catch (RuntimeException e) {
          tally.problem(owner + " could not close its lease: " + stackTrace(e));
        }
      }
    }
  }

  private void step() {
    int dice = random.nextInt(100);
    if (held.size() >= MAX_LEASES) {
      dice = 70 + random.nextInt(30); // release something first
    }
    if (held.isEmpty() && dice >= 60) {
      dice = random.nextInt(60);
    }
    if (dice < 30) {
      lockByName();
    } else if (dice < 60) {
      lockByType();
    } else if (dice < 70) {
      renew(held.get(random.nextInt(held.size())));
    } else if (dice < 85) {
      close(held.get(random.nextInt(held.size())));
    } else {
      unlockOne(held.get(random.nextInt(held.size())));
    }
  }

  private String nextDescription() {
    return owner + "/job-" + (++serial);
  }

  private void lockByName() {
    Set<String> wanted = new LinkedHashSet<>();
    int count = 1 + random.nextInt(2);
    while (wanted.size() < count) {
      wanted.add(names.get(random.nextInt(names.size())));
    }
    String description = nextDescription();
    LockRequest request =
        LockRequest.builder()
            .owner(owner)
            .description(description)
            .names(List.copyOf(wanted))
            .build();
    Lease lease;
    try {
      lease = pool.lock(request);
    } catch (LockConflictException e) {
      tally.conflicts.increment();
      return;
    } catch (RuntimeException e) {
      tally.problem(owner + " lock " + wanted + " failed unexpectedly: " + stackTrace(e));
      return;
    }
    taken(lease, description);
    tally.locksByName.increment();
    if (!lease.names().equals(wanted.stream().sorted().toList())) {
      tally.problem(owner + " asked for " + wanted + " and got " + lease.names());
    }
  }

  private void lockByType() {
    int count = 1 + random.nextInt(3);
    LockRequest.Builder builder =
        LockRequest.builder().owner(owner).description(nextDescription()).count(count);
    List<String> asked;
    if (random.nextInt(5) == 0) {
      asked = types;
      builder.machineTypes(types.toArray(String[]::new));
    } else {
      asked = List.of(types.get(random.nextInt(types.size())));
      builder.machineType(asked.get(0));
    }
    if (random.nextInt(4) == 0) {
      builder.waitUpTo(Duration.ofMillis(50 + random.nextInt(150)));
    }
    LockRequest request = builder.build();
    Lease lease;
    try {
      lease = pool.lock(request);
    } catch (NotEnoughMachinesException e) {
      tally.notEnough.increment();
      return;
    } catch (RuntimeException e) {
      tally.problem(owner + " lock " + count + " " + asked + " failed: " + stackTrace(e));
      return;
    }
    taken(lease, request.description());
    tally.locksByType.increment();
    if (lease.machines().size() != count
        || !asked.containsAll(lease.machines().stream().map(Machine::machineType).toList())) {
      tally.problem(owner + " asked for " + count + " " + asked + " and got " + lease.machines());
    }
  }

  /** Claims the machines of a new lease in the ledger, then checks what the lease says. */
  private void taken(Lease lease, String description) {
    for (Machine m : lease.machines()) {
      int before = ledger.violations().size();
      ledger.claim(m.name(), owner);
      if (ledger.violations().size() > before) {
        // What the lease and the database said, for the post-mortem of a double lock.
        tally.problem(
            owner
                + " claimed "
                + m.name()
                + " of lease "
                + lease.token()
                + " at generation "
                + m.generation()
                + " in vain; the database now says "
                + pool.machine(m.name()).map(Machine::toString).orElse("nothing"));
      }
    }
    held.add(new Held(lease, new LinkedHashSet<>(lease.names())));
    tally.machinesLocked.add(lease.names().size());
    if (new HashSet<>(lease.names()).size() != lease.names().size()) {
      tally.problem(owner + " got one machine twice: " + lease.names());
    }
    for (Machine m : lease.machines()) {
      if (!m.locked()
          || !owner.equals(m.lockedBy())
          || !description.equals(m.description())
          || m.lockedSince() == null) {
        tally.problem(owner + " got a lease whose machine does not look locked by it: " + m);
      }
    }
  }

  private void renew(Held h) {
    try {
      h.lease().renew();
      tally.renewals.increment();
    } catch (RuntimeException e) {
      tally.problem(owner + " could not renew " + h.lease() + ": " + stackTrace(e));
    }
    if (!h.lease().isOpen()) {
      tally.problem(owner + " renewed " + h.lease() + " and it is no longer open");
    }
  }

  private void close(Held h) {
    held.remove(h);
    for (String name : h.machines()) {
      ledger.release(name, owner);
    }
    h.lease().close();
    tally.leasesClosed.increment();
  }

  private void unlockOne(Held h) {
    List<String> still = List.copyOf(h.machines());
    String name = still.get(random.nextInt(still.size()));
    h.machines().remove(name);
    ledger.release(name, owner);
    try {
      pool.unlock(name, owner);
      tally.explicitUnlocks.increment();
    } catch (RuntimeException e) {
      tally.problem(owner + " could not unlock " + name + " that it held: " + stackTrace(e));
    }
    if (h.machines().isEmpty()) {
      // nothing left to renew or unlock: closing it must not touch the machines again
      held.remove(h);
      h.lease().close();
      tally.leasesClosed.increment();
    }
  }

  static String stackTrace(Throwable e) {
    StringWriter out = new StringWriter();
    e.printStackTrace(new PrintWriter(out));
    return out.toString();
  }
}
