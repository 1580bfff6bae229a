package io.machinepool.internal;

import io.machinepool.LockRequest;
import io.machinepool.Waiter;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The queue of lock requests that wait, kept in the {@code waiter} table so that every process on
 * the database shares it. The algorithm:
 *
 * <ul>
 *   <li><b>Order.</b> A waiting request is one row: what it asks for, its priority, and its
 *       arrival, a number from the database's own sequence (identity column). The queue is the live
 *       rows in the order {@code (priority, arrival)}; no JVM clock takes part.
 *   <li><b>Liveness.</b> Each row has an expiry on the database clock, {@link #TTL} ahead, which
 *       the waiting pool renews every {@link #HEARTBEAT}. A row whose expiry passed belongs to a
 *       process that died or stalled: every reader ignores it, and every serving attempt deletes
 *       such rows first. A waiter that finds its own row gone joins again, at the back.
 *   <li><b>Serving.</b> One transaction reads the live queue and the unlocked machines of the types
 *       it involves, then walks the requests ahead of this one in order: each holds back the free
 *       machines it could take, up to its count, in name order (all of its named machines that are
 *       free, for a request by name), whether or not that is enough to serve it yet. This request
 *       gets only machines nobody ahead holds back, so it can never delay a request ahead of it:
 *       the head accumulates the machines it needs as they are freed, and a later request backfills
 *       only with machines the head cannot use. When enough are left, the chosen rows are locked
 *       with the same conditional UPDATE as every lock ({@code ... AND locked = FALSE}, all or
 *       none) and the request's row is deleted in the same transaction; a concurrent change of a
 *       chosen row rolls it back, and the next poll tries again.
 *   <li><b>Requests that do not wait</b> ({@code waitUpTo} zero) take no row: they are served by
 *       the same walk, behind every waiting request of the same or a better priority, or refused at
 *       once.
 * </ul>
 *
 * <p>Locks that find no live waiter never come here: each lock statement of {@link JdbcLockStore}
 * carries "no live row in the queue" as a condition, and only a refusal by that condition sends a
 * request to the queue. A lock costs nothing more while nobody waits.
 */
public final class JdbcWaitQueue {
  private static final Logger log = LoggerFactory.getLogger(JdbcWaitQueue.class);

  /** How long a waiter's row lives without a heartbeat. */
  public static final Duration TTL = Duration.ofSeconds(5);

  /** How often a waiting pool renews its row. */
  public static final Duration HEARTBEAT = Duration.ofSeconds(1);

  private static final String COLUMNS =
      "arrival, token, owner, description, priority, machine_count, machine_types, names,"
          + " os_type, os_version, arch, joined";

  /**
   * A request's place in the queue.
   *
   * @param token the request's token (its lease's, should it be served)
   * @param arrival its number in the order of arrival
   */
  public record Place(String token, long arrival) {}

  /**
   * Why a request was not served this time.
   *
   * @param free unlocked machines the request could take but for the queue (for a request by name:
   *     how many of its machines are free)
   * @param heldBack how many of those are held back for requests ahead of it
   * @param ahead how many requests wait ahead of it
   * @param first the first request ahead of it that holds back a machine it wants, or {@code null}
   * @param busy for a request by name, its machines locked by someone, each with its holder
   * @param collided whether it was refused only because another transaction changed a chosen row
   */
  public record Refusal(
      int free, int heldBack, int ahead, Waiter first, List<String> busy, boolean collided) {}

  /**
   * What one serving attempt came to: the lock, or why not and where the request stands.
   *
   * @param acquired the lock, or {@code null}
   * @param refusal why not, or {@code null} when served
   * @param place the request's place now (a new one when its row had expired), or {@code null} for
   *     a request that does not wait
   */
  public record Outcome(JdbcLockStore.Acquired acquired, Refusal refusal, Place place) {}

  private final Database db;
  private final Dialect dialect;
  private final JdbcLockStore locks;
  private final String waiter;
  private final String machine;

  /**
   * Creates the queue.
   *
   * @param db the database, with its schema in place
   * @param locks the lock store whose conditional UPDATE serves a request
   */
  public JdbcWaitQueue(Database db, JdbcLockStore locks) {
    this.db = db;
    this.dialect = db.dialect();
    this.locks = locks;
    this.waiter = db.table("waiter");
    this.machine = db.table("machine");
  }

  /**
   * Puts a request in the queue, at the back of its priority.
   *
   * @param request what it asks for
   * @param token its token
   * @param deadline when to give up
   * @return its place
   */
  public Place join(LockRequest request, String token, Deadline deadline) {
    return db.inTransaction(
        "join the queue of waiting requests", deadline, c -> insert(c, request, token));
  }

  private Place insert(Connection c, LockRequest request, String token) throws SQLException {
    List<String> types = request.byName() ? typesOf(c, request.names()) : request.machineTypes();
    String sql =
        "INSERT INTO "
            + waiter
            + " (token, owner, description, priority, machine_count, machine_types, names,"
            + " os_type, os_version, arch, joined, expires) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
            + dialect.now()
            + ", "
            + dialect.nowPlusMillis()
            + ")";
    try (PreparedStatement insert = Database.prepare(c, sql)) {
      int i = 1;
      insert.setString(i++, token);
      insert.setString(i++, request.owner());
      insert.setString(i++, request.description());
      insert.setInt(i++, request.priority());
      insert.setInt(i++, request.count());
      insert.setString(i++, String.join(" ", types));
      insert.setString(i++, request.byName() ? String.join(" ", request.names()) : null);
      insert.setString(i++, request.osType());
      insert.setString(i++, request.osVersion());
      insert.setString(i++, request.arch());
      insert.setLong(i, TTL.toMillis());
      insert.executeUpdate();
    }
    try (PreparedStatement select =
        Database.prepare(c, "SELECT arrival FROM " + waiter + " WHERE token = ?")) {
      select.setString(1, token);
      try (ResultSet rs = select.executeQuery()) {
        rs.next();
        return new Place(token, rs.getLong(1));
      }
    }
  }

  private List<String> typesOf(Connection c, List<String> names) throws SQLException {
    String sql =
        "SELECT DISTINCT machine_type FROM "
            + machine
            + " WHERE name IN "
            + MachineRows.markers(names.size());
    List<String> types = new ArrayList<>();
    try (PreparedStatement select = Database.prepare(c, sql)) {
      MachineRows.bind(select, 1, names);
      try (ResultSet rs = select.executeQuery()) {
        while (rs.next()) {
          types.add(rs.getString(1));
        }
      }
    }
    return types;
  }

  /**
   * Takes a request out of the queue; does nothing when it is not in it.
   *
   * @param token the request's token
   * @param deadline when to give up
   */
  public void leave(String token, Deadline deadline) {
    db.autoCommit("leave the queue of waiting requests", deadline, c -> delete(c, token));
  }

  private Void delete(Connection c, String token) throws SQLException {
    try (PreparedStatement delete =
        Database.prepare(c, "DELETE FROM " + waiter + " WHERE token = ?")) {
      delete.setString(1, token);
      delete.executeUpdate();
    }
    return null;
  }

  /**
   * The live queue, in the order it is served.
   *
   * @return the waiting requests, the first served first
   */
  public List<Waiter> list() {
    return db.autoCommit("list the queue of waiting requests", c -> waiters(c));
  }

  /**
   * Tries once to serve a request by the queue's rules, in one transaction.
   *
   * @param request what it asks for
   * @param token the lease token it locks under
   * @param lease the lease duration, or {@code null} for a lock without expiry
   * @param place its place in the queue, or {@code null} for a request that does not wait
   * @param heartbeat whether to renew its row's expiry, when not served
   * @param deadline when to give up
   * @return the lock, or why not
   */
  public Outcome serve(
      LockRequest request,
      String token,
      Duration lease,
      Place place,
      boolean heartbeat,
      Deadline deadline) {
    long started = System.nanoTime();
    String what =
        "lock "
            + (request.byName()
                ? Texts.list(request.names())
                : request.count() + " " + String.join("/", request.machineTypes()))
            + " from the queue";
    try {
      return db.inTransaction(
          what,
          deadline.halfway(),
          c -> serve(c, request, token, lease, place, heartbeat, started));
    } catch (io.machinepool.DatabaseException e) {
      if (!db.isConnectionFailure(e)) {
        throw e;
      }
      JdbcLockStore.Acquired acquired =
          locks.resolve(what, token, request.count(), started, deadline, e);
      if (acquired == null) {
        // Nothing committed: the next poll tries again; the row lives on, or expires by itself.
        return new Outcome(null, new Refusal(0, 0, 0, null, List.of(), true), place);
      }
      return new Outcome(acquired, null, place);
    }
  }

  private Outcome serve(
      Connection c,
      LockRequest request,
      String token,
      Duration lease,
      Place place,
      boolean heartbeat,
      long started)
      throws SQLException {
    List<String> expired = new ArrayList<>();
    List<Entry> queue = entries(c, expired);
    purge(c, expired);
    Place mine = place;
    int myIndex = place == null ? -1 : indexOf(queue, token);
    if (place != null && myIndex < 0) {
      log.info(
          "the queue entry of {} ({}) expired without a heartbeat; joining the queue again, at the"
              + " back",
          request.owner(),
          token);
      mine = insert(c, request, token);
      queue = entries(c, new ArrayList<>());
      myIndex = indexOf(queue, token);
    }
    List<Entry> ahead = new ArrayList<>();
    for (int i = 0; i < queue.size(); i++) {
      Entry e = queue.get(i);
      if (myIndex >= 0 ? i < myIndex : e.priority() <= request.priority()) {
        ahead.add(e);
      }
    }
    List<FreeMachine> free = freeMachines(c, request, ahead);
    Entry me = Entry.of(request);
    Set<String> heldBack = new HashSet<>();
    Entry first = null;
    for (Entry e : ahead) {
      // Each request ahead holds back what it could take, up to its count, in name order.
      int holds = 0;
      for (FreeMachine m : free) {
        if (holds == e.count()) {
          break;
        }
        if (!heldBack.contains(m.name()) && e.wants(m)) {
          heldBack.add(m.name());
          holds++;
          if (first == null && me.wants(m)) {
            first = e;
          }
        }
      }
    }
    List<FreeMachine> wanted = free.stream().filter(me::wants).toList();
    List<String> chosen =
        wanted.stream()
            .map(FreeMachine::name)
            .filter(n -> !heldBack.contains(n))
            .limit(request.count())
            .toList();
    if (chosen.size() == request.count()) {
      JdbcLockStore.Acquired acquired = locks.lockChosen(c, request, token, lease, chosen, started);
      if (acquired != null) {
        if (mine != null) {
          delete(c, token);
        }
        c.commit();
        return new Outcome(acquired, null, mine);
      }
      // lockChosen rolled back: a chosen machine changed after the read; the next poll retries.
      return new Outcome(null, new Refusal(0, 0, ahead.size(), null, List.of(), true), mine);
    }
    int held = (int) wanted.stream().filter(m -> heldBack.contains(m.name())).count();
    List<String> busy = request.byName() ? locks.holders(c, request.names()) : List.of();
    if (mine != null && heartbeat) {
      renew(c, token);
    }
    c.commit();
    Waiter firstAhead = first == null ? null : first.waiter(queue.indexOf(first) + 1);
    return new Outcome(
        null, new Refusal(wanted.size(), held, ahead.size(), firstAhead, busy, false), mine);
  }

  private static int indexOf(List<Entry> queue, String token) {
    for (int i = 0; i < queue.size(); i++) {
      if (queue.get(i).token().equals(token)) {
        return i;
      }
    }
    return -1;
  }

  /**
   * Deletes the rows whose expiry passed, by their tokens: through the token's unique index, so
   * that a database that locks what a DELETE scans (InnoDB) locks only those rows.
   */
  private void purge(Connection c, List<String> expired) throws SQLException {
    if (expired.isEmpty()) {
      return;
    }
    String sql =
        "DELETE FROM "
            + waiter
            + " WHERE token IN "
            + MachineRows.markers(expired.size())
            + " AND expires <= "
            + dialect.now();
    try (PreparedStatement delete = Database.prepare(c, sql)) {
      MachineRows.bind(delete, 1, expired);
      int purged = delete.executeUpdate();
      if (purged > 0) {
        log.info(
            "removed {} waiting request{} whose process stopped renewing {} place in the queue",
            purged,
            purged == 1 ? "" : "s",
            purged == 1 ? "its" : "their");
      }
    }
  }

  private void renew(Connection c, String token) throws SQLException {
    String sql =
        "UPDATE " + waiter + " SET expires = " + dialect.nowPlusMillis() + " WHERE token = ?";
    try (PreparedStatement update = Database.prepare(c, sql)) {
      update.setLong(1, TTL.toMillis());
      update.setString(2, token);
      update.executeUpdate();
    }
  }

  private List<Waiter> waiters(Connection c) throws SQLException {
    List<Entry> queue = entries(c, new ArrayList<>());
    List<Waiter> waiters = new ArrayList<>(queue.size());
    for (int i = 0; i < queue.size(); i++) {
      waiters.add(queue.get(i).waiter(i + 1));
    }
    return waiters;
  }

  /** The live rows of the queue, in order; the tokens of expired rows go to {@code expired}. */
  private List<Entry> entries(Connection c, List<String> expired) throws SQLException {
    String sql =
        "SELECT "
            + COLUMNS
            + ", CASE WHEN expires > "
            + dialect.now()
            + " THEN 1 ELSE 0 END FROM "
            + waiter
            + " ORDER BY priority, arrival";
    List<Entry> queue = new ArrayList<>();
    try (PreparedStatement select = Database.prepare(c, sql);
        ResultSet rs = select.executeQuery()) {
      while (rs.next()) {
        if (rs.getInt(13) == 0) {
          expired.add(rs.getString(2));
          continue;
        }
        queue.add(
            new Entry(
                rs.getLong(1),
                rs.getString(2),
                rs.getString(3),
                rs.getString(4),
                rs.getInt(5),
                rs.getInt(6),
                words(rs.getString(7)),
                words(rs.getString(8)),
                rs.getString(9),
                rs.getString(10),
                rs.getString(11),
                dialect.instant(rs, 12)));
      }
    }
    return queue;
  }

  private static List<String> words(String text) {
    return text == null || text.isEmpty() ? List.of() : Arrays.asList(text.split(" "));
  }

  /**
   * The unlocked machines of every type the request and the requests ahead of it involve, and the
   * request's own named machines, in name order.
   */
  private List<FreeMachine> freeMachines(Connection c, LockRequest request, List<Entry> ahead)
      throws SQLException {
    Set<String> types = new LinkedHashSet<>(request.machineTypes());
    ahead.forEach(e -> types.addAll(e.machineTypes()));
    StringBuilder where = new StringBuilder();
    List<String> params = new ArrayList<>();
    if (!types.isEmpty()) {
      where.append("machine_type IN ").append(MachineRows.markers(types.size()));
      params.addAll(types);
    }
    if (request.byName()) {
      where.append(where.length() == 0 ? "" : " OR ");
      where.append("name IN ").append(MachineRows.markers(request.names().size()));
      params.addAll(request.names());
    }
    String sql =
        "SELECT name, machine_type, vpshost, up, os_type, os_version, arch FROM "
            + machine
            + " WHERE locked = FALSE AND ("
            + where
            + ")";
    List<FreeMachine> free = new ArrayList<>();
    try (PreparedStatement select = Database.prepare(c, sql)) {
      MachineRows.bind(select, 1, params);
      try (ResultSet rs = select.executeQuery()) {
        while (rs.next()) {
          free.add(
              new FreeMachine(
                  rs.getString(1),
                  rs.getString(2),
                  rs.getString(3) != null,
                  rs.getBoolean(4),
                  rs.getString(5),
                  rs.getString(6),
                  rs.getString(7)));
        }
      }
    }
    free.sort(java.util.Comparator.comparing(FreeMachine::name));
    return free;
  }

  /** An unlocked machine, with what a request's filter looks at. */
  record FreeMachine(
      String name,
      String machineType,
      boolean virtual,
      boolean up,
      String osType,
      String osVersion,
      String arch) {}

  /** One live row of the queue, or a request that does not wait, as the walk sees it. */
  record Entry(
      long arrival,
      String token,
      String owner,
      String description,
      int priority,
      int count,
      List<String> machineTypes,
      List<String> names,
      String osType,
      String osVersion,
      String arch,
      Instant joined) {

    static Entry of(LockRequest request) {
      return new Entry(
          0,
          "",
          request.owner(),
          request.description(),
          request.priority(),
          request.count(),
          request.machineTypes(),
          request.names(),
          request.osType(),
          request.osVersion(),
          request.arch(),
          null);
    }

    /**
     * Whether the request could take this unlocked machine: one of its names that is up or physical
     * (as a lock by name allows), or for a request by type an up machine of its types that passes
     * its OS and arch filters (which VM slots ignore: there the OS is installed).
     */
    boolean wants(FreeMachine m) {
      if (!names.isEmpty()) {
        return names.contains(m.name()) && (m.up() || !m.virtual());
      }
      return m.up()
          && machineTypes.contains(m.machineType())
          && (m.virtual()
              || (matches(osType, m.osType())
                  && matches(osVersion, m.osVersion())
                  && matches(arch, m.arch())));
    }

    private static boolean matches(String wanted, String value) {
      return wanted == null || wanted.equals(value);
    }

    Waiter waiter(int position) {
      return ApiValues.factory()
          .waiter(
              position,
              owner,
              description,
              names,
              machineTypes,
              count,
              osType,
              osVersion,
              arch,
              priority,
              joined);
    }
  }
}
