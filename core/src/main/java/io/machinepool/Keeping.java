package io.machinepool;

import io.machinepool.internal.JdbcLockStore;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * One lease token that a {@link LeaseKeeper} renews, with its local <em>safe deadline</em> on the
 * JVM's monotonic clock: the start of the last successful renewal plus the lease duration, less a
 * safety margin. Every renewal writes {@code lease_expires = database now + lease}, and the
 * database's now cannot be earlier than the moment the statement was sent, so as long as the
 * database's clock does not run faster than this JVM's by more than the margin, the safe deadline
 * passes before the database considers the lease expired and lets anyone else take its machines.
 *
 * <p>Thread-safe. Once lost, it stays lost; the callback runs once.
 */
final class Keeping {
  private final JdbcLockStore.Held held;
  private final long leaseNanos;
  private final long marginNanos;
  private final Consumer<String> onLost;
  private final AtomicBoolean lost = new AtomicBoolean();
  private volatile long safeUntilNanos;
  private volatile Instant expiresAt;

  Keeping(
      JdbcLockStore.Held held,
      Duration lease,
      Duration margin,
      long startedNanos,
      Instant expiresAt,
      Consumer<String> onLost) {
    this.held = held;
    this.leaseNanos = lease.toNanos();
    this.marginNanos = margin.toNanos();
    this.onLost = onLost;
    this.safeUntilNanos = startedNanos + leaseNanos - marginNanos;
    this.expiresAt = expiresAt;
  }

  String token() {
    return held.token();
  }

  /** The lease's token and the names of its machines, as the renewal finds its rows. */
  JdbcLockStore.Held held() {
    return held;
  }

  /** The safe deadline as a reading of {@link System#nanoTime()}. */
  long safeUntilNanos() {
    return safeUntilNanos;
  }

  /** The expiry the database recorded at the last renewal, by the database's clock. */
  Instant expiresAt() {
    return expiresAt;
  }

  /** Time left before the safe deadline; zero once passed or lost. */
  Duration remaining() {
    if (lost.get()) {
      return Duration.ZERO;
    }
    return Duration.ofNanos(Math.max(0, safeUntilNanos - System.nanoTime()));
  }

  /** Whether the lease is neither lost nor past its safe deadline. */
  boolean safe() {
    return !lost.get() && safeUntilNanos - System.nanoTime() > 0;
  }

  boolean isLost() {
    return lost.get();
  }

  /**
   * Records a successful renewal whose statement was sent at {@code startedNanos}.
   *
   * @return {@code false} when the lease had been lost already (its deadline had passed): a late
   *     renewal does not revive it, since the holder may have been told to stop
   */
  boolean renewed(long startedNanos, Instant newExpiry) {
    if (lost.get()) {
      return false;
    }
    long candidate = startedNanos + leaseNanos - marginNanos;
    synchronized (this) {
      if (candidate - safeUntilNanos > 0) {
        safeUntilNanos = candidate;
      }
      expiresAt = newExpiry;
    }
    return true;
  }

  /**
   * Marks the lease lost and runs the callback, once.
   *
   * @return whether this call lost it
   */
  boolean lose(String reason) {
    if (!lost.compareAndSet(false, true)) {
      return false;
    }
    onLost.accept(reason);
    return true;
  }

  /** Loses the lease when its safe deadline has passed; returns whether it is lost now. */
  boolean loseIfPastDeadline() {
    if (lost.get()) {
      return true;
    }
    if (safeUntilNanos - System.nanoTime() > 0) {
      return false;
    }
    lose("it was not renewed within its safe window, so its machines may be freed by the database");
    return true;
  }
}
