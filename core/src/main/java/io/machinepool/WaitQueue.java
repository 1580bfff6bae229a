package io.machinepool;

import io.machinepool.internal.Database;
import io.machinepool.internal.Deadline;
import io.machinepool.internal.JdbcLockStore;
import io.machinepool.internal.JdbcWaitQueue;
import io.machinepool.internal.Texts;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Getting machines for a lock request, fairly: at once when nobody waits, else by the rules of the
 * queue in the database ({@link JdbcWaitQueue}). A request that may wait joins the queue and polls
 * it on the caller's own thread (this part has no thread of its own): every 50 ms at the head of
 * the queue, less often further back (up to every second), and at once when this pool frees
 * machines; its poll renews its place's heartbeat every second. It leaves the queue when served, at
 * its deadline, when interrupted and when the pool closes, in that same call.
 */
final class WaitQueue {
  private static final Logger log = LoggerFactory.getLogger(WaitQueue.class);

  private static final Duration HEAD_POLL = Duration.ofMillis(50);
  private static final Duration SLOWEST_POLL = Duration.ofSeconds(1);
  private static final Duration LEAVE_RESERVE = Duration.ofMillis(250);

  private final JdbcLockStore locks;
  private final JdbcWaitQueue queue;
  private final FreedSignal freed;
  private final Listeners listeners;
  private final Set<String> waiting = new HashSet<>(); // guarded by itself
  private final ReentrantReadWriteLock closing = new ReentrantReadWriteLock();

  WaitQueue(JdbcLockStore locks, JdbcWaitQueue queue, FreedSignal freed, Listeners listeners) {
    this.locks = locks;
    this.queue = queue;
    this.freed = freed;
    this.listeners = listeners;
  }

  /**
   * Locks what the request asks for within the deadline: {@code waitUpTo} in the queue, or the
   * contention timeout when that is longer, through every retry layer and database round trip.
   */
  JdbcLockStore.Acquired acquire(
      LockRequest request, String token, Duration lease, Deadline deadline) {
    boolean mayWait = !request.waitUpTo().isZero();
    try {
      return request.byName()
          ? locks.lockNames(request, token, lease, deadline)
          : locks.lockMany(request, token, lease, deadline);
    } catch (JdbcLockStore.QueueAheadException e) {
      // Requests wait: the queue's rules decide.
    } catch (NotEnoughMachinesException | JdbcLockStore.HeldByOthersException e) {
      if (!mayWait) {
        throw e;
      }
    }
    return mayWait
        ? await(request, token, lease, deadline)
        : withoutWaiting(request, token, lease, deadline);
  }

  /** Serves a request that does not wait by the queue's rules, or refuses it at once. */
  private JdbcLockStore.Acquired withoutWaiting(
      LockRequest request, String token, Duration lease, Deadline deadline) {
    for (int attempt = 1; ; attempt++) {
      JdbcWaitQueue.Outcome outcome = queue.serve(request, token, lease, null, false, deadline);
      if (outcome.acquired() != null) {
        return outcome.acquired();
      }
      JdbcWaitQueue.Refusal refusal = outcome.refusal();
      Duration pause = Database.Backoff.jittered(Duration.ofMillis(2), attempt, HEAD_POLL);
      if (!refusal.collided() || deadline.wouldPass(pause)) {
        throw refused(request, refusal, null);
      }
      Database.Backoff.sleep(pause);
    }
  }

  private JdbcLockStore.Acquired await(
      LockRequest request, String token, Duration lease, Deadline deadline) {
    // Wait the full waitUpTo when the call's deadline leaves time to leave the queue after it.
    Duration reserve = min(LEAVE_RESERVE, request.waitUpTo().dividedBy(10));
    Deadline stop = Deadline.after(min(request.waitUpTo(), deadline.remaining().minus(reserve)));
    long since = System.nanoTime();
    JdbcWaitQueue.Place place;
    // Joined and registered as one step against close(), which must find every place to delete.
    closing.readLock().lock();
    try {
      checkOpen(request);
      place = queue.join(request, token, deadline);
      synchronized (waiting) {
        waiting.add(token);
      }
    } finally {
      closing.readLock().unlock();
    }
    log.debug("{} waits in the queue for {}", request.owner(), asks(request));
    listeners.waiting(request);
    boolean served = false;
    try {
      Deadline heartbeat = Deadline.after(JdbcWaitQueue.HEARTBEAT);
      for (int poll = 1; ; poll++) {
        checkOpen(request);
        long seen = freed.seen();
        boolean beat = heartbeat.passed();
        if (beat) {
          heartbeat = Deadline.after(JdbcWaitQueue.HEARTBEAT);
        }
        JdbcWaitQueue.Outcome outcome = queue.serve(request, token, lease, place, beat, deadline);
        if (outcome.acquired() != null) {
          served = true;
          log.debug(
              "{} was served from the queue after {} ms",
              request.owner(),
              (System.nanoTime() - since) / 1_000_000);
          return outcome.acquired();
        }
        place = outcome.place();
        JdbcWaitQueue.Refusal refusal = outcome.refusal();
        // Too few machines: give up at waitUpTo. A collision (another request took a machine
        // chosen for this one) is retried at once, as the lock paths do, up to the call's deadline.
        Duration pause;
        if (refusal.collided()) {
          pause = Database.Backoff.jittered(Duration.ofMillis(2), poll, HEAD_POLL);
          if (deadline.wouldPass(pause.plus(reserve))) {
            throw refused(request, refusal, Duration.ofNanos(System.nanoTime() - since));
          }
        } else if (stop.passed()) {
          throw refused(request, refusal, Duration.ofNanos(System.nanoTime() - since));
        } else {
          pause = min(pollInterval(refusal.ahead()), stop.remaining());
        }
        pause = min(pause, heartbeat.remaining());
        awaitFreed(seen, pause, request);
      }
    } finally {
      if (!served) {
        leave(token, deadline);
      }
      // Only now: close() waits for this, so that a serve in flight when it closed the pool
      // cannot put the place back after close() deleted it.
      synchronized (waiting) {
        waiting.remove(token);
        waiting.notifyAll();
      }
    }
  }

  /** The head polls every 50 ms, each place further back 50 ms later, up to every second. */
  private static Duration pollInterval(int ahead) {
    Duration interval = HEAD_POLL.multipliedBy(1L + Math.min(ahead, 19));
    long nanos = interval.toNanos();
    // Jitter of a quarter, so that waiters of several processes do not poll in step.
    return Duration.ofNanos(nanos - ThreadLocalRandom.current().nextLong(nanos / 4 + 1));
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }

  /** Leaves the queue, even when interrupted; a place that cannot be deleted expires by itself. */
  private void leave(String token, Deadline deadline) {
    boolean interrupted = Thread.interrupted();
    try {
      queue.leave(token, deadline.passed() ? Deadline.after(LEAVE_RESERVE) : deadline);
    } catch (RuntimeException e) {
      log.debug(
          "could not leave the queue ({}); the place expires by itself within {} s",
          e.getMessage(),
          JdbcWaitQueue.TTL.toSeconds());
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private void awaitFreed(long seen, Duration pause, LockRequest request) {
    try {
      freed.await(seen, pause);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new MachinePoolException(
          "interrupted while waiting in the queue for "
              + asks(request)
              + "; left the queue, nothing was locked",
          e);
    }
  }

  private void checkOpen(LockRequest request) {
    if (freed.isClosed()) {
      throw new PoolClosedException(
          "the pool was closed while "
              + request.owner()
              + " waited in the queue for "
              + asks(request)
              + "; left the queue, nothing was locked");
    }
  }

  /**
   * The pool is closing: its waiters wake, leave the queue in their own calls, and this waits for
   * them within the deadline; the places of any still busy then (a database round trip that takes
   * too long) are deleted here.
   */
  void close(Deadline deadline) {
    closing.writeLock().lock();
    try {
      freed.close();
    } finally {
      closing.writeLock().unlock();
    }
    List<String> places;
    synchronized (waiting) {
      try {
        while (!waiting.isEmpty() && !deadline.passed()) {
          waiting.wait(Math.max(1, deadline.remaining().toMillis()));
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      places = List.copyOf(waiting);
    }
    for (String token : places) {
      leave(token, deadline);
    }
  }

  /** The queue, in the order it is served. */
  List<Waiter> list() {
    return queue.list();
  }

  private static MachinePoolException refused(
      LockRequest request, JdbcWaitQueue.Refusal refusal, Duration waited) {
    StringBuilder why = new StringBuilder();
    if (refusal.collided()) {
      return new LockContentionException(
          "could not lock "
              + asks(request)
              + ": concurrent requests kept taking the machines chosen for it until the deadline;"
              + " nothing was locked, try again");
    }
    if (waited != null) {
      why.append("waited ")
          .append(seconds(waited))
          .append(" in the queue (place ")
          .append(refusal.ahead() + 1)
          .append("), then gave up: ");
    }
    if (request.byName()) {
      List<String> reasons = new java.util.ArrayList<>(refusal.busy());
      if (refusal.heldBack() > 0) {
        reasons.add(
            refusal.heldBack()
                + " of "
                + Texts.list(request.names())
                + (refusal.heldBack() == 1 ? " is" : " are")
                + " free but held back for "
                + waitersAhead(refusal));
      }
      if (reasons.isEmpty()) {
        reasons.add(Texts.list(request.names()) + " changed hands while this request was served");
      }
      why.append(String.join("; ", reasons)).append("; nothing was locked");
      return new LockConflictException(why.toString());
    }
    String types = String.join("/", request.machineTypes());
    int free = refusal.free();
    if (refusal.heldBack() == 0) {
      why.append("only ")
          .append(free)
          .append(' ')
          .append(types)
          .append(free == 1 ? " machine" : " machines")
          .append(" available")
          .append(JdbcLockStore.describeFilters(request));
    } else {
      why.append(free)
          .append(' ')
          .append(types)
          .append(free == 1 ? " machine is" : " machines are")
          .append(" free")
          .append(JdbcLockStore.describeFilters(request))
          .append(", ")
          .append(refusal.heldBack())
          .append(" of them held back for ")
          .append(waitersAhead(refusal));
    }
    why.append(", ").append(request.count()).append(" requested; nothing was locked");
    return new NotEnoughMachinesException(why.toString());
  }

  private static String waitersAhead(JdbcWaitQueue.Refusal refusal) {
    String text =
        refusal.ahead()
            + (refusal.ahead() == 1 ? " request" : " requests")
            + " waiting ahead of this one";
    Waiter first = refusal.first();
    if (first == null) {
      return text;
    }
    return text
        + " (first "
        + first.owner()
        + " for "
        + first.asks()
        + ", priority "
        + first.priority()
        + ", waiting since "
        + first.since()
        + ")";
  }

  private static String asks(LockRequest request) {
    return request.byName()
        ? Texts.list(request.names())
        : request.count() + " " + String.join("/", request.machineTypes());
  }

  private static String seconds(Duration d) {
    return d.toMillis() < 10_000
        ? String.format(java.util.Locale.ROOT, "%.1f s", d.toMillis() / 1000.0)
        : d.toSeconds() + " s";
  }
}
