package io.machinepool.ssh;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Lets one scan connection at a time reach a server ({@code address:port}), in this JVM: a
 * connection starts when the previous one to the same server has ended, and waiting ones go in the
 * order they came. Entries are dropped when nobody holds or waits for them, so the map stays as
 * small as the number of servers being scanned at the moment.
 */
final class ServerGate {
  private static final class Entry {
    final Semaphore permit = new Semaphore(1, true);
    int users;
  }

  private final Map<String, Entry> entries = new ConcurrentHashMap<>();

  /** A held turn; {@link #close()} gives it back. */
  interface Turn extends AutoCloseable {
    @Override
    void close();
  }

  /**
   * Waits for the server's turn, at most {@code nanos}.
   *
   * @return the turn, or {@code null} when the time ran out first
   * @throws InterruptedException when the thread was interrupted while waiting
   */
  Turn enter(String server, long nanos) throws InterruptedException {
    Entry entry = entries.compute(server, (k, e) -> retain(e == null ? new Entry() : e));
    boolean acquired = false;
    try {
      acquired = entry.permit.tryAcquire(Math.max(0, nanos), TimeUnit.NANOSECONDS);
    } finally {
      if (!acquired) {
        release(server);
      }
    }
    if (!acquired) {
      return null;
    }
    return () -> {
      entry.permit.release();
      release(server);
    };
  }

  /** How many servers have an entry; for tests. */
  int size() {
    return entries.size();
  }

  private static Entry retain(Entry entry) {
    entry.users++;
    return entry;
  }

  private void release(String server) {
    entries.computeIfPresent(server, (k, e) -> --e.users == 0 ? null : e);
  }
}
