package io.machinepool;

import io.machinepool.internal.Deadline;
import io.machinepool.internal.JdbcLockStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Releases leases whose holders stopped renewing them, so that a crashed harness never strands its
 * machines. On by default, on a thread of its own; {@link MachinePool#reapExpired()} runs the same
 * pass on the caller's thread.
 *
 * <p>For each lease past its expiry by the database clock, the reaper first <em>claims</em> it: one
 * conditional UPDATE gives its rows a fresh token (and generation) only while they are still
 * expired, so that the old holder's late heartbeat, and any other pool's reaper, lose the race
 * cleanly. The {@link LeaseKeeper} renews the claim like a lease while the VMs among the machines
 * are destroyed, so that no second reaper takes over a VM still being destroyed, however slow the
 * destroy. Then only the machines still held under the claim are unlocked, and only those are
 * reported released. A VM slot is claimed only by a pool that can destroy its VM (one with a
 * provisioner); a pool without one leaves it locked and says so.
 */
final class Reaper {
  private static final Logger log = LoggerFactory.getLogger(Reaper.class);

  private final JdbcLockStore locks;
  private final LeaseKeeper keeper;
  private final VmCleanup vms;
  private final Provisioning provisioning;
  private final Listeners listeners;
  private final Duration lease;
  private final Supplier<Deadline> deadlines;
  private final Consumer<String> takenOver;
  private final Set<String> reportedVmSlots = ConcurrentHashMap.newKeySet();
  private ScheduledExecutorService thread;

  /**
   * @param takenOver told the token of each lease claimed, so that the pool loses its own lease
   */
  Reaper(
      JdbcLockStore locks,
      LeaseKeeper keeper,
      VmCleanup vms,
      Provisioning provisioning,
      Listeners listeners,
      Duration lease,
      Supplier<Deadline> deadlines,
      Consumer<String> takenOver) {
    this.locks = locks;
    this.keeper = keeper;
    this.vms = vms;
    this.provisioning = provisioning;
    this.listeners = listeners;
    this.lease = lease;
    this.deadlines = deadlines;
    this.takenOver = takenOver;
  }

  /** Runs a pass every interval on a thread of its own, starting after a jittered first wait. */
  void start(Duration interval, PoolThreads threads) {
    thread = Executors.newSingleThreadScheduledExecutor(threads.named("reaper"));
    long every = interval.toNanos();
    long first = every / 2 + ThreadLocalRandom.current().nextLong(every / 2 + 1);
    thread.scheduleWithFixedDelay(this::backgroundPass, first, every, TimeUnit.NANOSECONDS);
  }

  private void backgroundPass() {
    try {
      reap();
    } catch (RuntimeException e) {
      log.warn("background reaper failed, will try again: {}", e.getMessage());
    }
  }

  /**
   * One pass: claims, cleans up and unlocks every expired lease it may.
   *
   * @return the machines released
   */
  List<Machine> reap() {
    List<Machine> released = new ArrayList<>();
    for (JdbcLockStore.ExpiredLease expired : locks.expired(deadlines.get())) {
      released.addAll(reap(expired));
    }
    return released;
  }

  private List<Machine> reap(JdbcLockStore.ExpiredLease expired) {
    List<Machine> slots =
        expired.machines().stream().filter(m -> !provisioning.canRelease(m)).toList();
    if (!slots.isEmpty() && reportedVmSlots.add(expired.token())) {
      log.warn(
          "the expired lease of {} holds VM slots {}; this pool has no provisioner to destroy their"
              + " VMs, so it leaves them locked for a pool that has one to reap",
          expired.machines().get(0).lockedBy(),
          slots.stream().map(Machine::name).toList());
    }
    String claimToken = UUID.randomUUID().toString();
    long started = System.nanoTime();
    List<Machine> claimed =
        locks.claimExpired(expired.held(), claimToken, lease, !slots.isEmpty(), deadlines.get());
    if (claimed.isEmpty()) {
      return List.of(); // renewed or reaped by someone else meanwhile
    }
    Keeping claim =
        keeper.keep(
            claimToken,
            claimed.stream().map(Machine::name).toList(),
            started,
            null,
            reason -> log.info("the reaper's claim {} was lost: {}", claimToken, reason));
    try {
      List<String> names = claimed.stream().map(Machine::name).toList();
      takenOver.accept(expired.token());
      listeners.leaseExpired(expired.token(), names);
      Map<Machine, ProvisioningException> failed =
          vms.destroyAll(claimed.stream().filter(Machine::isVirtual).toList());
      failed.forEach(
          (m, e) -> log.error("reaper could not destroy {}: {}", m.name(), e.getMessage()));
      List<String> clean =
          claimed.stream().filter(m -> !failed.containsKey(m)).map(Machine::name).toList();
      if (claim.isLost()) {
        log.warn(
            "the reaper's claim on {} was lost while it cleaned up; it unlocks nothing", names);
        return List.of();
      }
      List<String> unlocked = locks.unlockHeld(claimToken, clean, deadlines.get());
      List<Machine> released = claimed.stream().filter(m -> unlocked.contains(m.name())).toList();
      released.forEach(listeners::released);
      log.info(
          "reaped expired lease of {} ({}): {}",
          claimed.get(0).lockedBy(),
          expired.token(),
          String.join(", ", unlocked));
      return released;
    } finally {
      keeper.forget(claim);
    }
  }

  /** Stops the background thread. */
  void stop() {
    if (thread != null) {
      thread.shutdownNow();
    }
  }

  void awaitStopped(Deadline deadline) throws InterruptedException {
    if (thread != null) {
      thread.awaitTermination(deadline.remainingNanos(), TimeUnit.NANOSECONDS);
    }
  }
}
