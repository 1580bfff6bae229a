package io.machinepool.internal;

import io.machinepool.InvalidRequestException;
import io.machinepool.LockConflictException;
import io.machinepool.LockContentionException;
import io.machinepool.LockRequest;
import io.machinepool.Machine;
import io.machinepool.NoSuchMachineException;
import io.machinepool.NotEnoughMachinesException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The locks, held in the {@code machine} table. Every change of a lock is one conditional write:
 *
 * <ul>
 *   <li><b>Lock by name</b> (of machines that are up, or physical machines that are down, as
 *       teuthology's {@code lock_one} allows; never a VM slot marked down): {@code UPDATE machine
 *       SET locked = TRUE, locked_by = ?, locked_since = now, description = ?, lease_token = ?,
 *       lease_expires = now + lease, generation = generation + 1 WHERE name IN (...) AND locked =
 *       FALSE}. The transaction commits only when the update count equals the number of names, so a
 *       request is never half locked. A re-lock by the same owner with the same non-empty
 *       description writes nothing: it returns the lock it names as it is, when that lock is kept
 *       until unlocked (see {@link #lockNames}).
 *   <li><b>Lock many</b>: in one transaction, under the connection's own isolation level (the
 *       statements are locking reads, which see committed rows under READ COMMITTED and REPEATABLE
 *       READ alike), {@code SELECT name ... WHERE machine_type IN (...) AND up AND NOT locked LIMIT
 *       n FOR UPDATE SKIP LOCKED}, then the same conditional UPDATE on the names found, which
 *       returns the locked rows (PostgreSQL, H2) or is followed by one SELECT of them (MariaDB,
 *       which has no UPDATE ... RETURNING): O(1) round trips whatever n is. When fewer than n rows
 *       come back, a COUNT on committed state tells apart "not enough machines" (thrown at once)
 *       from "other requesters hold rows they may release" (retried with jittered backoff within a
 *       bounded time).
 *   <li><b>Heartbeat, unlock, destroy</b> find the lease's rows by their names and match on the
 *       lease token, which is fresh for every lock and changes with every generation: a holder
 *       whose lease expired and was taken over can never renew, unlock or mark down what is someone
 *       else's now.
 *   <li><b>Reaping</b> first claims an expired lease with {@code UPDATE ... SET lease_token = :new
 *       WHERE name IN (...) AND lease_token = :old AND lease_expires < now}, so that a late
 *       heartbeat of the old holder cannot race the clean-up, then releases it like any lease.
 * </ul>
 *
 * <p><b>No indexed column on the lock path</b> (schema version 5): the machine table's indexes hold
 * its name and, for the lookup of free machines, its type; lock, renew and unlock write neither. So
 * on PostgreSQL every one of them is a heap-only (HOT) update, which adds no index entry and whose
 * old row versions are pruned as pages fill, without VACUUM; on InnoDB and H2 they leave no
 * secondary index entry to purge. That is why a lease's rows are found by name (the primary key)
 * and only checked by token, which no index holds: each lock writes a new one. Only the two rare
 * paths that do not know the names read the table by token: finding out whether a lock whose
 * connection was lost committed, and releasing what it may hold.
 *
 * <p>All times come from the database clock ({@code CURRENT_TIMESTAMP}), never from the JVM's.
 */
public final class JdbcLockStore {
  private static final Logger log = LoggerFactory.getLogger(JdbcLockStore.class);

  private static final String UNLOCKED =
      " locked = FALSE, locked_by = NULL, locked_since = NULL, lease_token = NULL,"
          + " lease_expires = NULL";

  /** The most statement shapes kept built (per kind): shapes differ by how many names they bind. */
  private static final int SHAPES = 256;

  /**
   * Statements built once per shape, then the same string each time. H2 finds a statement in its
   * cache of prepared statements by the hash of its text, which a string built anew computes again:
   * hashing the lock's returning statement (some 600 characters) and the unlock was a twentieth of
   * the CPU time of a lock+unlock on H2 in memory. Looking the returning form up hashes the UPDATE
   * it is made of, half as long, unless that string too is the same each time.
   */
  private final Map<String, String> returningForms = new ConcurrentHashMap<>();

  private final Map<Integer, String> unlockByCount = new ConcurrentHashMap<>();

  /**
   * What a successful lock returns.
   *
   * @param machines the locked machines, sorted by name
   * @param expiresAt when the lease expires unless renewed; {@code null} for a lock without expiry
   * @param token the lock's token: the new one, or that of the lock a re-lock returned
   * @param startedNanos {@link System#nanoTime()} when the statement that took the lock was sent:
   *     the database clock read for the expiry cannot be earlier, so the lease is safe until this
   *     plus its duration
   */
  public record Acquired(
      List<Machine> machines, Instant expiresAt, String token, long startedNanos) {}

  /**
   * A lock whose statement was sent but whose outcome could not be learnt before the deadline: the
   * connection was lost, and the database could not be asked afterwards. Whatever it committed is
   * held under {@link #token()}.
   */
  public static final class OutcomeUnknownException extends io.machinepool.DatabaseException {
    private static final long serialVersionUID = 1L;
    private final String token;

    OutcomeUnknownException(String message, String token, Throwable cause) {
      super(message, cause);
      this.token = token;
    }

    /** The token the lock would hold its machines under, had it committed. */
    public String token() {
      return token;
    }
  }

  /**
   * A lease that expired without being renewed.
   *
   * @param token its token
   * @param machines the machines it holds
   */
  public record ExpiredLease(String token, List<Machine> machines) {
    /** The lease as the store finds its rows. */
    public Held held() {
      return new Held(token, machines.stream().map(Machine::name).toList());
    }
  }

  /**
   * A lock refused because requests wait in the queue: it must be served by {@link JdbcWaitQueue}'s
   * rules. Carries no stack trace: it is control flow, not a failure.
   */
  public static final class QueueAheadException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    QueueAheadException() {
      super("requests wait in the queue", null, false, false);
    }
  }

  /**
   * A lock by name refused only because machines are locked by other owners: a request that may
   * wait waits for them in the queue.
   */
  public static final class HeldByOthersException extends LockConflictException {
    private static final long serialVersionUID = 1L;

    HeldByOthersException(String message) {
      super(message);
    }
  }

  /** The least time worth giving a lock statement: less, and it fails on its deadline instead. */
  private static final Duration SHORTEST_ATTEMPT = Duration.ofMillis(50);

  private final Database db;
  private final Dialect dialect;
  private final String machine;
  private final String noLiveWaiter;
  private final String liveWaiters;

  /**
   * Creates the store.
   *
   * @param db the database, with its schema in place
   */
  public JdbcLockStore(Database db) {
    this.db = db;
    this.dialect = db.dialect();
    this.machine = db.table("machine");
    String live = " FROM " + db.table("waiter") + " WHERE expires > " + dialect.now();
    this.noLiveWaiter = "NOT EXISTS (SELECT 1" + live + ")";
    this.liveWaiters = "(SELECT COUNT(*)" + live + ")";
  }

  private String lockAssignments(Duration lease) {
    return " locked = TRUE, locked_by = ?, locked_since = "
        + dialect.now()
        + ", description = ?, lease_token = ?, lease_expires = "
        + (lease == null ? "NULL" : dialect.nowPlusMillis())
        + ", generation = generation + 1";
  }

  private static int bindLock(
      PreparedStatement update, LockRequest request, String token, Duration lease)
      throws SQLException {
    int i = 1;
    update.setString(i++, request.owner());
    update.setString(i++, request.description());
    update.setString(i++, token);
    if (lease != null) {
      update.setLong(i++, lease.toMillis());
    }
    return i;
  }

  /**
   * Locks the named machines, all or none. A row that another transaction holds is not waited for
   * long (PostgreSQL a query timeout of a second, MariaDB {@code innodb_lock_wait_timeout} of at
   * most a second, H2 its {@code LOCK_TIMEOUT}): the refusal counts as a collision and is retried
   * within the deadline.
   *
   * <p>A re-lock by the same owner with the same non-empty description (README, Locking) never
   * gives a held row a new token and generation, which would silently invalidate the lease that
   * holds it. When every named machine is held by one lock kept until unlocked (no lease expiry)
   * and the request too keeps its lock until unlocked, that lock is returned as it is, with its
   * token, and nothing is written; any other re-lock is a {@link LockConflictException}.
   *
   * @param request a request by name
   * @param token the new lease's token
   * @param lease the lease duration, or {@code null} for a lock without expiry
   * @param deadline when to give up retrying collisions and lost connections
   * @return the locked machines; for a re-lock, those of the lock it returns
   * @throws NoSuchMachineException when a name is not in the inventory
   * @throws LockConflictException when a machine is locked by someone else, or by the same owner in
   *     a way a re-lock may not return
   * @throws LockContentionException when collisions outlast the deadline
   * @throws OutcomeUnknownException when the connection was lost and the outcome stays unknown
   */
  public Acquired lockNames(LockRequest request, String token, Duration lease, Deadline deadline) {
    List<String> names = request.names();
    String rows = MachineRows.markers(names.size());
    String where =
        " AND (up = TRUE OR vpshost IS NULL)"
            // Free rows only: a re-lock must not give a held row a new token and generation (that
            // would invalidate the lease holding it); explainRefusal returns the lock it re-locks.
            + " AND locked = FALSE"
            // Nobody waits: else the queue's rules decide (explainRefusal says so).
            + " AND "
            + noLiveWaiter;
    String update = "UPDATE " + machine + " SET" + lockAssignments(lease) + " WHERE name IN ";
    String plain = update + rows + where;
    String what = "lock " + Texts.list(names);
    for (int attempt = 1; ; attempt++) {
      long started = System.nanoTime();
      // PostgreSQL: a query timeout of a second bounds the wait for a row another transaction
      // holds, at no cost; when less time is left than that, the rows are locked FOR UPDATE NOWAIT
      // in a subquery instead, which costs half the throughput but waits not at all.
      boolean nowait = dialect == Dialect.POSTGRESQL && deadline.remainingNanos() < 3_000_000_000L;
      String sql =
          nowait
              ? update
                  + "(SELECT name FROM "
                  + machine
                  + " WHERE name IN "
                  + rows
                  + " FOR UPDATE NOWAIT)"
                  + where
              : rowWaitBound(deadline) + plain;
      Database.Work<Acquired> work =
          c -> lockRows(c, sql, request, token, lease, names, List.of(), !nowait, started);
      Acquired acquired;
      try {
        // One row is locked or not by its single conditional UPDATE: it needs no transaction around
        // it, which saves the round trips of starting and committing one.
        // Half the time left at most, so that a lost connection leaves time to resolve the outcome.
        acquired =
            names.size() == 1
                ? db.autoCommit(what, deadline.halfway(), work)
                : db.inTransaction(what, deadline.halfway(), work);
      } catch (io.machinepool.DatabaseException e) {
        if (isRowBusy(e)) {
          pauseOrGiveUp(
              deadline, attempt, what, "a machine's row is held by an unfinished transaction");
          continue;
        }
        if (!db.isConnectionFailure(e)) {
          throw e;
        }
        acquired = resolve(what, token, names.size(), started, deadline, e);
        if (acquired == null) {
          pauseOrGiveUp(deadline, attempt, what, "the connection to the database was lost");
          continue;
        }
      }
      if (acquired != null) {
        return acquired;
      }
      Acquired relocked = explainRefusal(request, lease, deadline);
      if (relocked != null) {
        return relocked;
      }
      // Nothing wrong in committed state: a concurrent unlock or lock changed the rows under us.
      pauseOrGiveUp(deadline, attempt, what, "concurrent requesters kept colliding");
    }
  }

  /**
   * MariaDB: how long the lock-by-name statement may wait for a row another transaction holds. A
   * second when the deadline leaves time for it (a concurrent lock of the same row commits within
   * milliseconds, and waiting for it is cheaper than an error and a retry), else not at all. The
   * other dialects need no prefix: PostgreSQL's statement gets a query timeout, H2 has its
   * LOCK_TIMEOUT.
   */
  private String rowWaitBound(Deadline deadline) {
    if (dialect != Dialect.MARIADB) {
      return "";
    }
    int seconds = deadline.remainingNanos() > 4_000_000_000L ? 1 : 0;
    return "SET STATEMENT innodb_lock_wait_timeout = " + seconds + " FOR ";
  }

  private boolean isRowBusy(io.machinepool.DatabaseException e) {
    return e.getCause() instanceof SQLException sql && dialect.isRowBusy(sql);
  }

  /**
   * Finds out by its token whether a lock whose connection was lost committed: returns the lease
   * when it did, {@code null} when it did not (nothing is held under the token), and throws {@link
   * OutcomeUnknownException} when the database cannot be asked before the deadline.
   */
  Acquired resolve(
      String what,
      String token,
      int expected,
      long sentNanos,
      Deadline deadline,
      RuntimeException lost) {
    log.debug("{}: connection lost, asking by lease token {} whether it committed", what, token);
    for (int attempt = 1; ; attempt++) {
      try {
        // The names a lost lock-many picked are unknown: a plain read of the table by token, once
        // per lost connection.
        Acquired found =
            db.autoCommit(
                "find lease " + token,
                deadline,
                c -> acquired(selectRows(c, "m.lease_token = ?", List.of(token)), 0));
        if (found.machines().isEmpty()) {
          return null;
        }
        if (found.machines().size() == expected) {
          log.debug("{} committed although its acknowledgement was lost (lease {})", what, token);
          // The lease's safe time counts from when the lost statement was sent.
          return withStart(found, sentNanos);
        }
        throw new OutcomeUnknownException(
            "could not "
                + what
                + ": the database holds "
                + found.machines().size()
                + " of "
                + expected
                + " machines under lease "
                + token
                + "; releasing them",
            token,
            lost);
      } catch (OutcomeUnknownException e) {
        throw e;
      } catch (io.machinepool.DatabaseException e) {
        Duration pause =
            Database.Backoff.jittered(Duration.ofMillis(50), attempt, Duration.ofSeconds(1));
        if (!db.isConnectionFailure(e) || deadline.wouldPass(pause)) {
          lost.addSuppressed(e);
          throw new OutcomeUnknownException(
              "could not "
                  + what
                  + ": the connection to the lock database was lost after the lock was sent, and"
                  + " the database could not be asked in time whether it committed ("
                  + lost.getMessage()
                  + "); the pool keeps asking in the background and releases whatever lease "
                  + token
                  + " holds",
              token,
              lost);
        }
        Database.Backoff.sleep(pause);
      }
    }
  }

  /**
   * Runs one conditional lock UPDATE of the named rows and reads the lease back: in the same
   * statement where the dialect can return the changed rows, else with a SELECT. When it did not
   * lock every one of them, rolls back (in a transaction) and returns {@code null}. In auto-commit
   * the lock is committed before a separate SELECT reads it: should it have been unlocked or reaped
   * in between, the result is {@code null} as well, and the caller explains or retries.
   */
  private Acquired lockRows(
      Connection c,
      String sql,
      LockRequest request,
      String token,
      Duration lease,
      List<String> names,
      List<String> conditionParams,
      boolean boundRowWait,
      long started)
      throws SQLException {
    String returning = returningForm(sql);
    Acquired acquired = null;
    try (PreparedStatement update = Database.prepare(c, returning != null ? returning : sql)) {
      if (boundRowWait && dialect == Dialect.POSTGRESQL) {
        // A row another transaction holds is waited for at most a second: the driver then asks
        // the server to cancel the statement (57014), which leaves the connection usable and
        // nothing behind. A FOR UPDATE NOWAIT subquery in the UPDATE halved the throughput.
        update.setQueryTimeout(1);
      }
      int i = bindLock(update, request, token, lease);
      i = MachineRows.bind(update, i, names);
      MachineRows.bind(update, i, conditionParams);
      if (returning != null) {
        try (ResultSet rs = update.executeQuery()) {
          acquired = acquired(MachineRows.read(rs, dialect), started);
        }
      } else if (update.executeUpdate() == names.size()) {
        acquired = withStart(selectLease(c, token, names), started);
      }
    }
    if (acquired == null || acquired.machines().size() != names.size()) {
      if (!c.getAutoCommit()) {
        c.rollback();
      }
      return null;
    }
    return acquired;
  }

  /**
   * The lock UPDATE as one statement that returns the locked rows ({@link
   * Dialect#updateReturning}), the same string for the same UPDATE; {@code null} where the database
   * has no such statement.
   */
  private String returningForm(String update) {
    if (!dialect.returnsUpdatedRows()) {
      return null;
    }
    String form = returningForms.get(update);
    if (form == null) {
      form = dialect.updateReturning(update, db.table("host_key"));
      if (returningForms.size() < SHAPES) {
        returningForms.putIfAbsent(update, form);
      }
    }
    return form;
  }

  private static Acquired acquired(List<MachineRows.Row> rows, long started) {
    Instant expires = rows.isEmpty() ? null : rows.get(0).leaseExpires();
    String token = rows.isEmpty() ? null : rows.get(0).leaseToken();
    return new Acquired(
        rows.stream().map(MachineRows.Row::machine).toList(), expires, token, started);
  }

  private static Acquired withStart(Acquired acquired, long started) {
    return new Acquired(acquired.machines(), acquired.expiresAt(), acquired.token(), started);
  }

  /**
   * Reads why a lock by name locked nothing, and throws that; or returns the lock itself for the
   * re-lock {@link #lockNames} allows (it writes nothing: the read is the check); or throws {@link
   * QueueAheadException} when only the queue of waiting requests stands in the way; or returns
   * {@code null} when nothing in committed state does, after a concurrent change.
   */
  private Acquired explainRefusal(LockRequest request, Duration lease, Deadline deadline) {
    List<MachineRows.Row> found =
        db.autoCommit(
            "read " + Texts.list(request.names()),
            deadline,
            c ->
                selectRows(
                    c,
                    "m.name IN " + MachineRows.markers(request.names().size()),
                    request.names()));
    Map<String, Machine> byName = new HashMap<>();
    found.forEach(row -> byName.put(row.machine().name(), row.machine()));
    List<String> missing = request.names().stream().filter(n -> !byName.containsKey(n)).toList();
    if (!missing.isEmpty()) {
      throw new NoSuchMachineException(
          (missing.size() == 1 ? "no machine named " : "no machines named ")
              + Texts.list(missing)
              + " in the inventory; nothing was locked");
    }
    List<String> conflicts = new ArrayList<>();
    List<String> byOthers = new ArrayList<>();
    List<MachineRows.Row> relocks = new ArrayList<>();
    for (MachineRows.Row row : found) {
      Machine m = row.machine();
      if (m.isVirtual() && !m.up()) {
        conflicts.add(
            m.name()
                + " is a VM slot marked down"
                + describe(m.description())
                + "; its VM may still use its host: clean it up, then mark it up");
        continue;
      }
      if (!m.locked()) {
        continue;
      }
      if (m.lockedBy().equals(request.owner())) {
        String refusal = relockRefusal(row, request, lease);
        if (refusal == null) {
          relocks.add(row);
        } else {
          conflicts.add(refusal);
        }
      } else {
        byOthers.add(heldBy(m));
      }
    }
    if (!relocks.isEmpty()) {
      // Waiting cannot help a request that names machines its owner holds already.
      conflicts.addAll(byOthers);
      byOthers.clear();
    }
    if (conflicts.isEmpty() && !relocks.isEmpty()) {
      List<String> held = relocks.stream().map(r -> r.machine().name()).toList();
      long locks = relocks.stream().map(MachineRows.Row::leaseToken).distinct().count();
      if (relocks.size() < request.names().size()) {
        List<String> free = request.names().stream().filter(n -> !held.contains(n)).toList();
        conflicts.add(
            Texts.list(held)
                + (held.size() == 1 ? " is" : " are")
                + " already locked by "
                + request.owner()
                + describe(request.description())
                + ", and a re-lock returns that lock as it is: lock "
                + Texts.list(free)
                + " in a request of their own");
      } else if (locks > 1) {
        conflicts.add(
            Texts.list(held)
                + " are held by "
                + locks
                + " different locks of "
                + request.owner()
                + describe(request.description())
                + "; re-lock the machines of each lock in a request of their own");
      } else {
        return acquired(relocks, System.nanoTime());
      }
    }
    if (!conflicts.isEmpty()) {
      conflicts.addAll(byOthers);
      throw new LockConflictException(joinConflicts(conflicts) + "; nothing was locked");
    }
    if (!byOthers.isEmpty()) {
      throw new HeldByOthersException(joinConflicts(byOthers) + "; nothing was locked");
    }
    if (waitersLive(deadline)) {
      throw new QueueAheadException();
    }
    return null;
  }

  private static String heldBy(Machine m) {
    return m.name()
        + " is locked by "
        + m.lockedBy()
        + " since "
        + m.lockedSince()
        + describe(m.description());
  }

  /**
   * For each of the named machines that is locked, who holds it, as a lock conflict says it.
   *
   * @param c the connection of the caller's transaction
   * @param names the machines
   * @return one entry per locked machine, in name order
   */
  List<String> holders(Connection c, List<String> names) throws SQLException {
    return select(c, "m.name IN " + MachineRows.markers(names.size()), names).stream()
        .filter(Machine::locked)
        .map(JdbcLockStore::heldBy)
        .toList();
  }

  /** Whether any request waits in the queue. */
  private boolean waitersLive(Deadline deadline) {
    return db.autoCommit(
        "read the queue of waiting requests",
        deadline,
        c -> {
          try (PreparedStatement select = Database.prepare(c, "SELECT " + liveWaiters);
              ResultSet rs = select.executeQuery()) {
            return rs.next() && rs.getInt(1) > 0;
          }
        });
  }

  /**
   * Locks machines the queue chose for a request, in the caller's transaction: the conditional
   * UPDATE of every lock, on exactly these rows.
   *
   * @return the lock, or {@code null} (rolled back) when a chosen row changed since it was read
   */
  Acquired lockChosen(
      Connection c,
      LockRequest request,
      String token,
      Duration lease,
      List<String> names,
      long started)
      throws SQLException {
    String sql =
        lockFreeRows(
            lease,
            names.size(),
            request.byName() ? " AND (up = TRUE OR vpshost IS NULL)" : " AND up = TRUE");
    return lockRows(c, sql, request, token, lease, names, List.of(), false, started);
  }

  /** The conditional lock UPDATE of the free rows among named ones, and a further condition. */
  private String lockFreeRows(Duration lease, int names, String condition) {
    return "UPDATE "
        + machine
        + " SET"
        + lockAssignments(lease)
        + " WHERE name IN "
        + MachineRows.markers(names)
        + " AND locked = FALSE"
        + condition;
  }

  /**
   * Why the owner's own lock of a machine may not be re-locked by this request, or {@code null}
   * when it may: only a lock kept until unlocked, with the same non-empty description, by a request
   * that keeps its lock until unlocked too. A lock with an expiry is an open lease's, which a
   * re-lock would take from under it.
   */
  private static String relockRefusal(MachineRows.Row row, LockRequest request, Duration lease) {
    Machine m = row.machine();
    if (m.description() == null
        || m.description().isEmpty()
        || !m.description().equals(request.description())) {
      return m.name()
          + " is already locked by "
          + m.lockedBy()
          + describe(m.description())
          + "; a re-lock needs the same non-empty description";
    }
    if (row.leaseExpires() != null) {
      return m.name()
          + " is held by an open lease of "
          + m.lockedBy()
          + describe(m.description())
          + "; close that lease, or wait for it to expire, before locking it again";
    }
    if (lease != null) {
      return m.name()
          + " is locked by "
          + m.lockedBy()
          + describe(m.description())
          + " until unlocked; a re-lock of it must keep it until unlocked too, or unlock it first";
    }
    return null;
  }

  private static String joinConflicts(List<String> conflicts) {
    if (conflicts.size() <= Texts.LISTED) {
      return String.join("; ", conflicts);
    }
    return String.join("; ", conflicts.subList(0, Texts.LISTED))
        + "; and "
        + (conflicts.size() - Texts.LISTED)
        + " more machines cannot be locked";
  }

  private static String describe(String description) {
    return description == null || description.isEmpty()
        ? " (no description)"
        : " (description '" + Texts.echo(description) + "')";
  }

  /**
   * Locks {@code request.count()} free, up machines of the request's types, all or none.
   *
   * @param request a request by type
   * @param token the new lease's token
   * @param lease the lease duration, or {@code null} for a lock without expiry
   * @param deadline when to give up retrying collisions and lost connections
   * @return the locked machines
   * @throws NotEnoughMachinesException when fewer are free in committed state
   * @throws InvalidRequestException when no machine has any of the types
   * @throws LockContentionException when collisions outlast the deadline
   * @throws OutcomeUnknownException when the connection was lost and the outcome stays unknown
   */
  public Acquired lockMany(LockRequest request, String token, Duration lease, Deadline deadline) {
    Filter filter = Filter.of(request);
    String pick =
        "SELECT name FROM "
            + machine
            + " WHERE "
            + filter.sql
            + " AND up = TRUE AND locked = FALSE AND "
            + noLiveWaiter
            + dialect.lockFreeRowsTail();
    String what = "lock " + request.count() + " " + filter.types;
    for (int attempt = 1; ; attempt++) {
      long started = System.nanoTime();
      Acquired acquired;
      try {
        acquired =
            db.inTransaction(
                what,
                deadline.halfway(),
                c -> {
                  List<String> names = new ArrayList<>(request.count());
                  try (PreparedStatement select = Database.prepare(c, pick)) {
                    int i = MachineRows.bind(select, 1, filter.params);
                    select.setInt(i, request.count());
                    try (ResultSet rs = select.executeQuery()) {
                      while (rs.next()) {
                        names.add(rs.getString(1));
                      }
                    }
                  }
                  if (names.size() < request.count()) {
                    c.rollback();
                    return null;
                  }
                  String sql = lockFreeRows(lease, names.size(), "");
                  return lockRows(c, sql, request, token, lease, names, List.of(), false, started);
                });
      } catch (io.machinepool.DatabaseException e) {
        if (!db.isConnectionFailure(e)) {
          throw e;
        }
        acquired = resolve(what, token, request.count(), started, deadline, e);
        if (acquired == null) {
          pauseOrGiveUp(deadline, attempt, what, "the connection to the database was lost");
          continue;
        }
      }
      if (acquired != null) {
        return acquired;
      }
      int free = countFree(request, filter, deadline);
      if (free < 0) {
        throw new QueueAheadException();
      }
      if (free < request.count()) {
        throw new NotEnoughMachinesException(
            "only "
                + free
                + " "
                + String.join("/", request.machineTypes())
                + " machine"
                + (free == 1 ? "" : "s")
                + " available"
                + filter.describe
                + ", "
                + request.count()
                + " requested; nothing was locked");
      }
      pauseOrGiveUp(deadline, attempt, what, "concurrent requesters kept colliding");
    }
  }

  /**
   * How many machines the request could take in committed state, or -1 when requests wait in the
   * queue (whose rules then decide).
   */
  private int countFree(LockRequest request, Filter filter, Deadline deadline) {
    String sql =
        "SELECT COUNT(*), SUM(CASE WHEN "
            + filter.sql
            + " AND up = TRUE AND locked = FALSE THEN 1 ELSE 0 END), "
            + liveWaiters
            + " FROM "
            + machine
            + " WHERE machine_type IN "
            + MachineRows.markers(request.machineTypes().size());
    int[] counts =
        db.autoCommit(
            "count free machines",
            deadline,
            c -> {
              try (PreparedStatement select = Database.prepare(c, sql)) {
                int i = MachineRows.bind(select, 1, filter.params);
                MachineRows.bind(select, i, request.machineTypes());
                try (ResultSet rs = select.executeQuery()) {
                  rs.next();
                  return new int[] {rs.getInt(1), rs.getInt(2), rs.getInt(3)};
                }
              }
            });
    if (counts[0] == 0) {
      throw new InvalidRequestException(
          "unknown machine type "
              + String.join("/", request.machineTypes())
              + ": the inventory has no such machine; known types: "
              + knownTypes());
    }
    if (counts[0] < request.count()) {
      // More than there are: no wait can serve it.
      throw new InvalidRequestException(
          "only "
              + counts[0]
              + " "
              + String.join("/", request.machineTypes())
              + " machine"
              + (counts[0] == 1 ? "" : "s")
              + " in the inventory, "
              + request.count()
              + " requested; nothing was locked");
    }
    return counts[2] > 0 ? -1 : counts[1];
  }

  private List<String> knownTypes() {
    String sql = "SELECT DISTINCT machine_type FROM " + machine + " ORDER BY machine_type";
    return db.autoCommit(
        "list machine types",
        c -> {
          List<String> types = new ArrayList<>();
          try (PreparedStatement select = Database.prepare(c, sql);
              ResultSet rs = select.executeQuery()) {
            while (rs.next()) {
              types.add(rs.getString(1));
            }
          }
          return types;
        });
  }

  private static void pauseOrGiveUp(Deadline deadline, int attempt, String what, String why) {
    Duration pause =
        Database.Backoff.jittered(Duration.ofMillis(2), attempt, Duration.ofMillis(100));
    // The next attempt's statement gets half the time left: give up when that half would be too
    // short for an answer, rather than fail on the deadline in the middle of the attempt.
    if (deadline.wouldPass(pause.plus(SHORTEST_ATTEMPT).plus(SHORTEST_ATTEMPT))) {
      throw new LockContentionException(
          "could not "
              + what
              + ": "
              + why
              + " for "
              + attempt
              + (attempt == 1 ? " attempt" : " attempts")
              + " until the deadline; nothing was locked, try again");
    }
    log.debug("{}: {} (attempt {}), retrying", what, why, attempt);
    Database.Backoff.sleep(pause);
  }

  private Acquired selectLease(Connection c, String token, List<String> names) throws SQLException {
    return acquired(selectRows(c, heldUnder(names.size()), leaseParams(token, names)), 0);
  }

  /** The condition on the machine rows named and still held under a token, found by name. */
  private static String heldUnder(int names) {
    return "m.name IN " + MachineRows.markers(names) + " AND m.lease_token = ?";
  }

  /** The parameters of {@link #heldUnder}: the names, then the token. */
  private static List<String> leaseParams(String token, List<String> names) {
    List<String> params = new ArrayList<>(names.size() + 1);
    params.addAll(names);
    params.add(token);
    return params;
  }

  private List<Machine> select(Connection c, String where, List<String> params)
      throws SQLException {
    return selectRows(c, where, params).stream().map(MachineRows.Row::machine).toList();
  }

  private List<MachineRows.Row> selectRows(Connection c, String where, List<String> params)
      throws SQLException {
    try (PreparedStatement select = Database.prepare(c, MachineRows.select(db, where))) {
      MachineRows.bind(select, 1, params);
      try (ResultSet rs = select.executeQuery()) {
        return MachineRows.read(rs, dialect);
      }
    }
  }

  /**
   * A lease as the store finds its rows: by their names, through the primary key, and its token,
   * which is checked but indexed by nothing (see the class comment).
   *
   * @param token the lease's token
   * @param names the machines it locked; one it has released since may still be named
   */
  public record Held(String token, List<String> names) {
    /** Copies the names. */
    public Held {
      names = List.copyOf(names);
    }
  }

  /**
   * Extends leases, all in one transaction: one UPDATE of every row they hold, one SELECT of the
   * new expiries. The rows are found by name; a row is extended only while it is still held under
   * one of the tokens, so a name whose row was released or taken over changes nothing.
   *
   * @param leases the leases, with the names of their machines
   * @param lease the new duration from now
   * @param deadline when to give up
   * @return the new expiry of each lease that still holds a machine; a token missing from it has
   *     lost its machines (released, or taken over after it expired)
   */
  public Map<String, Instant> renew(Collection<Held> leases, Duration lease, Deadline deadline) {
    if (leases.isEmpty()) {
      return Map.of();
    }
    List<String> tokens = leases.stream().map(Held::token).toList();
    List<String> names = leases.stream().flatMap(h -> h.names().stream()).distinct().toList();
    String held =
        " WHERE name IN "
            + MachineRows.markers(names.size())
            + " AND locked = TRUE AND lease_token IN "
            + MachineRows.markers(tokens.size());
    String update = "UPDATE " + machine + " SET lease_expires = " + dialect.nowPlusMillis() + held;
    String select =
        "SELECT lease_token, MIN(lease_expires) FROM " + machine + held + " GROUP BY lease_token";
    return db.inTransaction(
        "renew " + tokens.size() + (tokens.size() == 1 ? " lease" : " leases"),
        deadline,
        c -> {
          try (PreparedStatement renew = Database.prepare(c, update)) {
            renew.setLong(1, lease.toMillis());
            MachineRows.bind(renew, MachineRows.bind(renew, 2, names), tokens);
            if (renew.executeUpdate() == 0) {
              return Map.of();
            }
          }
          Map<String, Instant> renewed = new HashMap<>();
          try (PreparedStatement read = Database.prepare(c, select)) {
            MachineRows.bind(read, MachineRows.bind(read, 1, names), tokens);
            try (ResultSet rs = read.executeQuery()) {
              while (rs.next()) {
                renewed.put(rs.getString(1), dialect.instant(rs, 2));
              }
            }
          }
          return renewed;
        });
  }

  /**
   * Unlocks every machine still held under a token, whatever it is: what a lock whose outcome was
   * unknown may have taken. Its names are not known, and no index holds the token: a plain read of
   * the whole table finds them (this runs once per lost connection, never on the hot path), then
   * the usual conditional UPDATE by name and token unlocks them.
   *
   * @param token the token
   * @param deadline when to give up
   * @return how many machines were unlocked
   */
  public int unlockToken(String token, Deadline deadline) {
    String find = "SELECT name FROM " + machine + " WHERE lease_token = ?";
    List<String> names =
        db.autoCommit(
            "find what lease " + token + " holds",
            deadline,
            c -> {
              List<String> found = new ArrayList<>();
              try (PreparedStatement select = Database.prepare(c, find)) {
                select.setString(1, token);
                try (ResultSet rs = select.executeQuery()) {
                  while (rs.next()) {
                    found.add(rs.getString(1));
                  }
                }
              }
              return found;
            });
    return unlock(token, names, deadline);
  }

  /**
   * Unlocks machines of a lease.
   *
   * @param token the lease's token
   * @param names the machines to unlock
   * @return how many were unlocked; fewer than asked when some were lost
   */
  public int unlock(String token, Collection<String> names, Deadline deadline) {
    if (names.isEmpty()) {
      return 0;
    }
    String sql = unlockSql(names.size());
    return db.autoCommit(
        "unlock " + names,
        deadline,
        c -> {
          try (PreparedStatement update = Database.prepare(c, sql)) {
            update.setString(1, token);
            MachineRows.bind(update, 2, names);
            return update.executeUpdate();
          }
        });
  }

  /** The UPDATE that unlocks some names of a lease, the same string for the same count. */
  private String unlockSql(int count) {
    String sql = unlockByCount.get(count);
    if (sql == null) {
      sql =
          "UPDATE "
              + machine
              + " SET"
              + UNLOCKED
              + " WHERE lease_token = ? AND name IN "
              + MachineRows.markers(count);
      if (unlockByCount.size() < SHAPES) {
        unlockByCount.putIfAbsent(count, sql);
      }
    }
    return sql;
  }

  /**
   * Unlocks the machines a lease still holds among some names, and says which they were: in one
   * transaction, the rows still held under the token are locked and read, then unlocked.
   *
   * @param token the lease's token
   * @param names the machines to unlock
   * @param deadline when to give up
   * @return the names unlocked, sorted; those missing were no longer held under the token
   */
  public List<String> unlockHeld(String token, Collection<String> names, Deadline deadline) {
    if (names.isEmpty()) {
      return List.of();
    }
    String select =
        "SELECT name FROM "
            + machine
            + " WHERE lease_token = ? AND name IN "
            + MachineRows.markers(names.size())
            + " ORDER BY name FOR UPDATE";
    return db.inTransaction(
        "unlock " + names,
        deadline,
        c -> {
          List<String> held = new ArrayList<>();
          try (PreparedStatement read = Database.prepare(c, select)) {
            read.setString(1, token);
            MachineRows.bind(read, 2, names);
            try (ResultSet rs = read.executeQuery()) {
              while (rs.next()) {
                held.add(rs.getString(1));
              }
            }
          }
          if (held.isEmpty()) {
            return List.of();
          }
          String sql =
              "UPDATE "
                  + machine
                  + " SET"
                  + UNLOCKED
                  + " WHERE lease_token = ? AND name IN "
                  + MachineRows.markers(held.size());
          try (PreparedStatement update = Database.prepare(c, sql)) {
            update.setString(1, token);
            MachineRows.bind(update, 2, held);
            update.executeUpdate();
          }
          return List.copyOf(held);
        });
  }

  /**
   * Unlocks a machine that the owner held at the given generation (the explicit unlock path).
   *
   * @param name the machine
   * @param owner who holds it
   * @param generation the generation the caller checked
   * @return whether it was unlocked
   */
  public boolean unlockGeneration(String name, String owner, long generation) {
    String sql =
        "UPDATE "
            + machine
            + " SET"
            + UNLOCKED
            + " WHERE name = ? AND locked = TRUE AND locked_by = ? AND generation = ?";
    return update("unlock " + name, sql, name, owner, generation) == 1;
  }

  /**
   * Whether a lease still holds a machine and has not expired: an expired lease is the reaper's to
   * clean up, even before it is reaped.
   *
   * @param name the machine
   * @param token the lease's token
   * @return {@code true} while it holds it
   */
  public boolean holds(String name, String token, Deadline deadline) {
    String sql =
        "SELECT 1 FROM "
            + machine
            + " WHERE name = ? AND lease_token = ? AND locked = TRUE"
            + " AND (lease_expires IS NULL OR lease_expires > "
            + dialect.now()
            + ")";
    return db.autoCommit(
        "check the lease on " + name,
        deadline,
        c -> {
          try (PreparedStatement select = Database.prepare(c, sql)) {
            select.setString(1, name);
            select.setString(2, token);
            try (ResultSet rs = select.executeQuery()) {
              return rs.next();
            }
          }
        });
  }

  /**
   * Marks a machine down with a reason, only while it is still locked at the given generation.
   *
   * @param name the machine
   * @param generation the generation of the lock the caller holds
   * @param reason why, stored as its description
   * @return whether it was marked
   */
  public boolean markDownIfHeld(String name, long generation, String reason) {
    String sql =
        "UPDATE "
            + machine
            + " SET up = FALSE, description = ? WHERE name = ? AND generation = ? AND locked = TRUE";
    return update("mark " + name + " down", sql, reason, name, generation) == 1;
  }

  /**
   * Clears the recorded OS of a VM slot the caller holds, before it is re-imaged.
   *
   * @param name the machine
   * @param generation the generation of the caller's lock
   */
  public void clearOs(String name, long generation) {
    String sql =
        "UPDATE "
            + machine
            + " SET os_type = NULL, os_version = NULL WHERE name = ? AND generation = ?"
            + " AND locked = TRUE";
    update("clear the OS of " + name, sql, name, generation);
  }

  /**
   * Records what was installed on a VM slot the caller holds, and resets its failure count.
   *
   * @param provisioned the machine as provisioned, with the generation of the caller's lock
   */
  public void recordProvisioned(Machine provisioned) {
    String sql =
        "UPDATE "
            + machine
            + " SET os_type = ?, os_version = ?, arch = COALESCE(?, arch), provision_failures = 0"
            + " WHERE name = ? AND generation = ? AND locked = TRUE";
    update(
        "record the OS of " + provisioned.name(),
        sql,
        provisioned.osType(),
        provisioned.osVersion(),
        provisioned.arch(),
        provisioned.name(),
        provisioned.generation());
  }

  /**
   * Counts a failed provisioning of a machine the caller holds; the {@code limit}-th failure in a
   * row marks it down with the reason as its description.
   *
   * @param name the machine
   * @param generation the generation of the caller's lock
   * @param limit how many failures in a row mark it down
   * @param reason the description a machine marked down gets
   * @return whether this failure marked it down
   */
  public boolean recordProvisioningFailure(String name, long generation, int limit, String reason) {
    String count =
        "UPDATE "
            + machine
            + " SET provision_failures = provision_failures + 1"
            + " WHERE name = ? AND generation = ? AND locked = TRUE";
    String markDown =
        "UPDATE "
            + machine
            + " SET up = FALSE, description = ? WHERE name = ? AND generation = ?"
            + " AND provision_failures >= ?";
    return db.inTransaction(
        "count a provisioning failure of " + name,
        c -> {
          try (PreparedStatement update = Database.prepare(c, count)) {
            update.setString(1, name);
            update.setLong(2, generation);
            if (update.executeUpdate() == 0) {
              return false;
            }
          }
          try (PreparedStatement update = Database.prepare(c, markDown)) {
            update.setString(1, reason);
            update.setString(2, name);
            update.setLong(3, generation);
            update.setInt(4, limit);
            return update.executeUpdate() == 1;
          }
        });
  }

  /**
   * The leases whose expiry has passed, by the database clock.
   *
   * @return each expired lease with its machines
   */
  public List<ExpiredLease> expired(Deadline deadline) {
    String where =
        "m.locked = TRUE AND m.lease_expires IS NOT NULL AND m.lease_expires < " + dialect.now();
    List<MachineRows.Row> rows =
        db.autoCommit("find expired leases", deadline, c -> selectRows(c, where, List.of()));
    Map<String, List<Machine>> byToken = new java.util.LinkedHashMap<>();
    for (MachineRows.Row row : rows) {
      byToken.computeIfAbsent(row.leaseToken(), t -> new ArrayList<>()).add(row.machine());
    }
    List<ExpiredLease> leases = new ArrayList<>();
    byToken.forEach((token, machines) -> leases.add(new ExpiredLease(token, machines)));
    return leases;
  }

  /**
   * Takes over an expired lease so that its old holder can no longer touch it.
   *
   * @param expired the expired lease's token and the names of its machines
   * @param newToken the reaper's token
   * @param lease how long the reaper may take to clean up; its keeper renews the claim meanwhile
   * @param physicalOnly whether to leave the VM slots of the lease alone (a pool that cannot
   *     destroy their VMs must not free them)
   * @param deadline when to give up
   * @return the machines taken over (their generation incremented)
   */
  public List<Machine> claimExpired(
      Held expired, String newToken, Duration lease, boolean physicalOnly, Deadline deadline) {
    String sql =
        "UPDATE "
            + machine
            + " SET lease_token = ?, lease_expires = "
            + dialect.nowPlusMillis()
            + ", generation = generation + 1 WHERE name IN "
            + MachineRows.markers(expired.names().size())
            + " AND lease_token = ? AND locked = TRUE"
            + (physicalOnly ? " AND vpshost IS NULL" : "")
            + " AND lease_expires < "
            + dialect.now();
    return db.inTransaction(
        "claim expired lease " + expired.token(),
        deadline,
        c -> {
          try (PreparedStatement update = Database.prepare(c, sql)) {
            update.setString(1, newToken);
            update.setLong(2, lease.toMillis());
            int i = MachineRows.bind(update, 3, expired.names());
            update.setString(i, expired.token());
            if (update.executeUpdate() == 0) {
              return List.of();
            }
          }
          return select(
              c, heldUnder(expired.names().size()), leaseParams(newToken, expired.names()));
        });
  }

  /**
   * Runs one UPDATE in auto-commit mode with string and long parameters in order.
   *
   * @return the update count
   */
  private int update(String what, String sql, Object... params) {
    return db.autoCommit(
        what,
        c -> {
          try (PreparedStatement update = Database.prepare(c, sql)) {
            for (int i = 0; i < params.length; i++) {
              if (params[i] instanceof Long number) {
                update.setLong(i + 1, number);
              } else {
                update.setString(i + 1, (String) params[i]);
              }
            }
            return update.executeUpdate();
          }
        });
  }

  /** The WHERE clause of a lock-many request and its parameters. */
  /**
   * The OS and arch filters of a request by type, as messages show them.
   *
   * @param request the request
   * @return e.g. {@code " with os ubuntu, version 22.04"}, or empty without filters
   */
  public static String describeFilters(LockRequest request) {
    List<String> wanted = new ArrayList<>();
    if (request.osType() != null) {
      wanted.add("os " + request.osType());
    }
    if (request.osVersion() != null) {
      wanted.add("version " + request.osVersion());
    }
    if (request.arch() != null) {
      wanted.add("arch " + request.arch());
    }
    return wanted.isEmpty() ? "" : " with " + String.join(", ", wanted);
  }

  private record Filter(String sql, List<String> params, List<String> types, String describe) {
    static Filter of(LockRequest request) {
      StringBuilder sql =
          new StringBuilder("machine_type IN ")
              .append(MachineRows.markers(request.machineTypes().size()));
      List<String> params = new ArrayList<>(request.machineTypes());
      // For VM slots os and arch are what gets installed; for physical machines they filter.
      if (request.osType() != null) {
        sql.append(" AND (vpshost IS NOT NULL OR os_type = ?)");
        params.add(request.osType());
      }
      if (request.osVersion() != null) {
        sql.append(" AND (vpshost IS NOT NULL OR os_version = ?)");
        params.add(request.osVersion());
      }
      if (request.arch() != null) {
        sql.append(" AND (vpshost IS NOT NULL OR arch = ?)");
        params.add(request.arch());
      }
      return new Filter(sql.toString(), params, request.machineTypes(), describeFilters(request));
    }
  }
}
