package io.machinepool;

import io.machinepool.internal.Database;
import io.machinepool.internal.Deadline;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finishes releases that could not finish on the caller's thread: a {@link Lease#close()} whose
 * database calls failed, and a lock whose connection was lost before its outcome was known (its
 * token may hold machines nobody will ever use). Each is retried on a thread of its own with
 * jittered backoff until it succeeds or its bound passes, after which the leases expire and any
 * pool's reaper frees them — or, for locks kept until unlocked, a person must (the log says which).
 */
final class BackgroundRelease {
  private static final Logger log = LoggerFactory.getLogger(BackgroundRelease.class);
  private static final Duration FIRST_PAUSE = Duration.ofMillis(200);
  private static final Duration LONGEST_PAUSE = Duration.ofSeconds(10);

  private final ScheduledExecutorService thread;

  BackgroundRelease(PoolThreads threads) {
    this.thread = Executors.newSingleThreadScheduledExecutor(threads.named("release"));
  }

  /**
   * Retries a release in the background.
   *
   * @param what what is released, for the log
   * @param bound when to give up
   * @param attempt one try: {@code true} when done; a {@link RuntimeException} when it failed
   * @param onGivingUp run once if the bound passes first
   */
  void retry(String what, Deadline bound, BooleanSupplier attempt, Runnable onGivingUp) {
    schedule(what, bound, attempt, onGivingUp, 1);
  }

  private void schedule(
      String what, Deadline bound, BooleanSupplier attempt, Runnable onGivingUp, int n) {
    Duration pause = Database.Backoff.jittered(FIRST_PAUSE, n, LONGEST_PAUSE);
    if (bound.wouldPass(pause)) {
      onGivingUp.run();
      return;
    }
    try {
      thread.schedule(
          () -> {
            try {
              if (attempt.getAsBoolean()) {
                log.info("{}: done in the background after {} attempt(s)", what, n);
                return;
              }
            } catch (RuntimeException e) {
              log.debug("{}: background attempt {} failed: {}", what, n, e.getMessage());
            }
            schedule(what, bound, attempt, onGivingUp, n + 1);
          },
          pause.toNanos(),
          TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      onGivingUp.run(); // the pool is closed
    }
  }

  /** Stops retrying; what is left expires. */
  void stop() {
    thread.shutdownNow();
  }

  void awaitStopped(Deadline deadline) throws InterruptedException {
    thread.awaitTermination(deadline.remainingNanos(), TimeUnit.NANOSECONDS);
  }
}
