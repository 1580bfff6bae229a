package io.machinepool;

import java.time.Duration;

/**
 * Tells this pool's waiting requests that it freed machines, so that they look at the queue at once
 * instead of at their next poll. A listener of the pool's own release events.
 */
final class FreedSignal implements PoolListener {
  private long freed;
  private boolean closed;

  /** This pool freed a machine: its waiters poll at once. */
  @Override
  public synchronized void released(Machine machine) {
    freed++;
    notifyAll();
  }

  /** The pool is closing: its waiters stop waiting. */
  synchronized void close() {
    closed = true;
    notifyAll();
  }

  synchronized boolean isClosed() {
    return closed;
  }

  /** How many release events there were so far, to wait for the next one. */
  synchronized long seen() {
    return freed;
  }

  /**
   * Waits until a machine is freed after {@code seen}, the pool closes, or the pause is over.
   *
   * @throws InterruptedException when interrupted
   */
  synchronized void await(long seen, Duration pause) throws InterruptedException {
    long until = System.nanoTime() + pause.toNanos();
    for (long left = pause.toNanos();
        left > 0 && freed == seen && !closed;
        left = until - System.nanoTime()) {
      wait(left / 1_000_000, (int) (left % 1_000_000));
    }
  }
}
