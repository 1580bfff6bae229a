package io.machinepool.internal;

import java.time.Duration;

/**
 * A point in time on the JVM's monotonic clock ({@link System#nanoTime()}) by which a call must be
 * done. One deadline is taken from the caller (a lock's {@code waitUpTo}, the pool's contention or
 * database timeout, a lease's safe deadline) and handed down through every retry loop and every
 * statement, so that nested retries can never add up to more than the caller allowed.
 *
 * <p>Immutable. Durations too long for the clock saturate at about 100 years instead of
 * overflowing.
 */
public final class Deadline {
  private static final long LONGEST_NANOS = Duration.ofDays(36_500).toNanos();

  private final long atNanos;

  private Deadline(long atNanos) {
    this.atNanos = atNanos;
  }

  /**
   * The deadline a duration from now.
   *
   * @param duration how long from now; negative counts as zero
   * @return the deadline
   */
  public static Deadline after(Duration duration) {
    long nanos =
        duration.compareTo(Duration.ofNanos(LONGEST_NANOS)) >= 0
            ? LONGEST_NANOS
            : Math.max(0, duration.toNanos());
    return new Deadline(System.nanoTime() + nanos);
  }

  /**
   * The deadline at a reading of {@link System#nanoTime()}.
   *
   * @param nanoTime the reading
   * @return the deadline
   */
  public static Deadline atNanoTime(long nanoTime) {
    return new Deadline(nanoTime);
  }

  /** Nanoseconds left, zero or more. */
  public long remainingNanos() {
    return Math.max(0, atNanos - System.nanoTime());
  }

  /** Time left, zero or more. */
  public Duration remaining() {
    return Duration.ofNanos(remainingNanos());
  }

  /** Whether the deadline has passed. */
  public boolean passed() {
    return atNanos - System.nanoTime() <= 0;
  }

  /**
   * Whichever of this and another deadline comes first.
   *
   * @param other the other deadline
   * @return the earlier one
   */
  public Deadline earlier(Deadline other) {
    return atNanos - other.atNanos <= 0 ? this : other;
  }

  /**
   * A deadline halfway between now and this one: for a statement whose connection may be lost, so
   * that the other half is left to find out what became of it.
   *
   * @return the earlier deadline
   */
  public Deadline halfway() {
    return new Deadline(System.nanoTime() + remainingNanos() / 2);
  }

  /**
   * Whether a pause of the given length would end after the deadline.
   *
   * @param pause the pause
   * @return {@code true} when it would
   */
  public boolean wouldPass(Duration pause) {
    return pause.toNanos() >= remainingNanos();
  }

  /**
   * The time left in whole milliseconds for a network or statement timeout: at least 1, since
   * drivers read 0 as "no timeout".
   *
   * @return milliseconds, 1 to {@link Integer#MAX_VALUE}
   */
  public int remainingMillisForTimeout() {
    long millis = (remainingNanos() + 999_999) / 1_000_000;
    return (int) Math.max(1, Math.min(Integer.MAX_VALUE, millis));
  }

  @Override
  public String toString() {
    return "Deadline[in " + remaining().toMillis() + " ms]";
  }
}
