package io.machinepool;

import io.machinepool.internal.Database;
import io.machinepool.internal.Deadline;
import io.machinepool.internal.JdbcLockStore;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a pool's leases (and its reaper's claims) alive, and tells their holders when they may no
 * longer be. Two threads, each with one job:
 *
 * <ul>
 *   <li>the <b>renewer</b> renews every lease it keeps in one transaction each interval, and when
 *       that fails, tries again at once with a short jittered backoff for as long as any lease is
 *       still within its safe window. Each renewal statement is bounded by the earliest safe
 *       deadline among the leases it renews, so a partition cannot hold it past the point where the
 *       leases are lost anyway. A lease the database no longer holds is lost at once.
 *   <li>the <b>watchdog</b> never touches the database: every half safety margin (10 ms to 1 s) it
 *       loses each lease whose safe deadline has passed without a renewal. So a holder is told
 *       while the renewer is stuck in a statement, and before the database can let anyone else take
 *       its machines.
 * </ul>
 *
 * Nothing else runs on these threads: reaping, destroying VMs and releasing leases have threads of
 * their own, so a slow clean-up can never delay a renewal.
 */
final class LeaseKeeper {
  private static final Logger log = LoggerFactory.getLogger(LeaseKeeper.class);
  private static final Duration FIRST_RETRY = Duration.ofMillis(50);
  private static final Duration LONGEST_RETRY = Duration.ofSeconds(1);

  /**
   * Machine names per renewal statement (a lease with more goes alone): with their tokens, well
   * below every database's limit of bound parameters.
   */
  private static final int BATCH = 500;

  private final JdbcLockStore locks;
  private final Duration lease;
  private final Duration margin;
  private final ScheduledExecutorService renewer;
  private final ScheduledExecutorService watchdog;
  private final Map<String, Keeping> kept = new ConcurrentHashMap<>();
  private volatile boolean stopped;

  LeaseKeeper(
      JdbcLockStore locks,
      Duration lease,
      Duration margin,
      Duration interval,
      PoolThreads threads) {
    this.locks = locks;
    this.lease = lease;
    this.margin = margin;
    this.renewer = Executors.newSingleThreadScheduledExecutor(threads.named("lease-renewer"));
    this.watchdog = Executors.newSingleThreadScheduledExecutor(threads.named("lease-watchdog"));
    // One periodic check of every lease rather than a wake-up per lease: a lock costs the
    // watchdog nothing, and a lease is found lost at most half the margin after its safe deadline,
    // still half the margin before the database's expiry (Lease's own calls check it exactly).
    long tick = Math.max(10_000_000L, Math.min(margin.toNanos() / 2, 1_000_000_000L));
    watchdog.scheduleWithFixedDelay(this::checkAll, tick, tick, TimeUnit.NANOSECONDS);
    renewer.scheduleWithFixedDelay(
        this::renewRound, interval.toNanos(), interval.toNanos(), TimeUnit.NANOSECONDS);
  }

  /**
   * Starts keeping a lease.
   *
   * @param token its token
   * @param names the machines it holds
   * @param startedNanos when the statement that took or claimed it was sent
   * @param expiresAt its expiry by the database's clock
   * @param onLost called once, with the reason, when it is lost
   * @return the keeping, to forget it later
   */
  Keeping keep(
      String token,
      List<String> names,
      long startedNanos,
      Instant expiresAt,
      Consumer<String> onLost) {
    Keeping keeping =
        new Keeping(
            new JdbcLockStore.Held(token, names), lease, margin, startedNanos, expiresAt, onLost);
    kept.put(token, keeping);
    return keeping;
  }

  /** Stops keeping a lease (it was closed, or lost). */
  void forget(Keeping keeping) {
    kept.remove(keeping.token(), keeping);
  }

  /**
   * Renews one lease now, on the caller's thread, within its safe window.
   *
   * @throws LeaseLostException when it is lost, or found lost
   * @throws DatabaseException when the database could not be reached in time
   */
  void renewNow(Keeping keeping, String what) {
    if (!keeping.safe()) {
      keeping.loseIfPastDeadline();
      throw lost(what);
    }
    long started = System.nanoTime();
    Map<String, Instant> renewed =
        locks.renew(List.of(keeping.held()), lease, Deadline.atNanoTime(keeping.safeUntilNanos()));
    Instant expiry = renewed.get(keeping.token());
    if (expiry == null) {
      keeping.lose("its machines were released or taken over");
      throw lost(what);
    }
    if (!keeping.renewed(started, expiry)) {
      throw lost(what);
    }
  }

  private static LeaseLostException lost(String what) {
    return new LeaseLostException(
        what + " is lost: it may no longer hold its machines; stop using them and lock again");
  }

  /** Loses every kept lease whose safe deadline has passed. */
  private void checkAll() {
    for (Keeping keeping : kept.values()) {
      if (keeping.loseIfPastDeadline()) {
        forget(keeping);
      }
    }
  }

  /** One renewal of every kept lease, retried within the safe windows when the database fails. */
  private void renewRound() {
    for (int attempt = 1; !stopped; attempt++) {
      List<Keeping> due = kept.values().stream().filter(Keeping::safe).toList();
      if (due.isEmpty()) {
        return;
      }
      Deadline deadline =
          due.stream()
              .map(k -> Deadline.atNanoTime(k.safeUntilNanos()))
              .reduce(Deadline::earlier)
              .orElseThrow();
      long started = System.nanoTime();
      try {
        Map<String, Instant> renewed = new java.util.HashMap<>();
        for (List<JdbcLockStore.Held> batch : batches(due)) {
          renewed.putAll(locks.renew(batch, lease, deadline));
        }
        for (Keeping keeping : due) {
          Instant expiry = renewed.get(keeping.token());
          if (expiry == null) {
            keeping.lose("its machines were released or taken over");
            forget(keeping);
          } else if (!keeping.renewed(started, expiry)) {
            forget(keeping);
          }
        }
        if (attempt > 1) {
          log.info("leases renewed again after {} failed attempts", attempt - 1);
        }
        return;
      } catch (RuntimeException e) {
        Duration pause = Database.Backoff.jittered(FIRST_RETRY, attempt, LONGEST_RETRY);
        if (attempt == 1) {
          log.warn(
              "could not renew {} lease(s), trying again within their safe window ({} ms left): {}",
              due.size(),
              deadline.remaining().toMillis(),
              e.getMessage());
        } else {
          log.debug("renewal attempt {} failed: {}", attempt, e.getMessage());
        }
        try {
          Database.Backoff.sleep(pause);
        } catch (MachinePoolException interrupted) {
          return; // stopping
        }
      }
    }
  }

  /** The leases in renewal statements of at most {@link #BATCH} names each. */
  private static List<List<JdbcLockStore.Held>> batches(List<Keeping> due) {
    List<List<JdbcLockStore.Held>> batches = new ArrayList<>();
    List<JdbcLockStore.Held> batch = new ArrayList<>();
    int names = 0;
    for (Keeping keeping : due) {
      JdbcLockStore.Held held = keeping.held();
      if (!batch.isEmpty() && names + held.names().size() > BATCH) {
        batches.add(batch);
        batch = new ArrayList<>();
        names = 0;
      }
      batch.add(held);
      names += held.names().size();
    }
    if (!batch.isEmpty()) {
      batches.add(batch);
    }
    return batches;
  }

  /** Stops both threads; the leases kept are the pool's to release. */
  void stop() {
    stopped = true;
    renewer.shutdownNow();
    watchdog.shutdownNow();
  }

  /** Waits for both threads to end, at most until the deadline. */
  void awaitStopped(Deadline deadline) throws InterruptedException {
    renewer.awaitTermination(deadline.remainingNanos(), TimeUnit.NANOSECONDS);
    watchdog.awaitTermination(deadline.remainingNanos(), TimeUnit.NANOSECONDS);
  }
}
