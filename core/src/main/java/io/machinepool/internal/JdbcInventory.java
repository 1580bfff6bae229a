package io.machinepool.internal;

import io.machinepool.InvalidRequestException;
import io.machinepool.LockConflictException;
import io.machinepool.LockRequest;
import io.machinepool.Machine;
import io.machinepool.MachineQuery;
import io.machinepool.MachineSpec;
import io.machinepool.NoSuchMachineException;
import io.machinepool.Summary;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

/** The inventory rows: adding, changing and removing machines, and every read of them. */
public final class JdbcInventory {
  private final Database db;
  private final String machine;

  /**
   * Creates the inventory over a database whose schema is in place.
   *
   * @param db the database
   */
  public JdbcInventory(Database db) {
    this.db = db;
    this.machine = db.table("machine");
  }

  /**
   * Adds machines in one transaction: all or none.
   *
   * @param specs the machines
   * @throws InvalidRequestException when a name is in the inventory already
   */
  public void add(List<MachineSpec> specs) {
    String sql =
        "INSERT INTO "
            + machine
            + " (name, machine_type, vpshost, up, locked, os_type, os_version, arch, mac_address,"
            + " ssh_port, generation) VALUES (?, ?, ?, ?, FALSE, ?, ?, ?, ?, ?, 0)";
    List<String> names = specs.stream().map(MachineSpec::name).toList();
    Set<String> seen = new HashSet<>();
    List<String> twice = names.stream().filter(n -> !seen.add(n)).distinct().toList();
    if (!twice.isEmpty()) {
      throw new InvalidRequestException(
          "the machines to add name one machine twice: " + Texts.list(twice));
    }
    try {
      db.inTransaction(
          "add " + Texts.list(names),
          c -> {
            try (PreparedStatement insert = Database.prepare(c, sql)) {
              for (MachineSpec spec : specs) {
                insert.setString(1, spec.name());
                insert.setString(2, spec.machineType());
                insert.setString(3, spec.vpsHost());
                insert.setBoolean(4, spec.up());
                insert.setString(5, spec.osType());
                insert.setString(6, spec.osVersion());
                insert.setString(7, spec.arch());
                insert.setString(8, spec.macAddress());
                setPort(insert, 9, spec.sshPort());
                insert.addBatch();
              }
              insert.executeBatch();
            }
            return null;
          });
    } catch (io.machinepool.DatabaseException e) {
      List<String> present = existing(names);
      if (!present.isEmpty()) {
        throw new InvalidRequestException(
            "already in the inventory: "
                + Texts.list(present)
                + "; use update() to change a machine; nothing was added",
            e);
      }
      throw e;
    }
  }

  private List<String> existing(List<String> names) {
    List<String> present = new ArrayList<>();
    // in slices: a query names at most 1000 machines
    for (int from = 0; from < names.size(); from += 1000) {
      List<String> slice = names.subList(from, Math.min(names.size(), from + 1000));
      query(MachineQuery.builder().names(slice).build()).forEach(m -> present.add(m.name()));
    }
    return present;
  }

  private static void setPort(PreparedStatement statement, int index, Integer port)
      throws SQLException {
    if (port == null) {
      statement.setNull(index, Types.INTEGER);
    } else {
      statement.setInt(index, port);
    }
  }

  /**
   * Changes the inventory fields of a machine; its lock is untouched.
   *
   * @param spec the machine as it should be
   * @throws NoSuchMachineException when it is not in the inventory
   */
  public void update(MachineSpec spec) {
    String sql =
        "UPDATE "
            + machine
            + " SET machine_type = ?, vpshost = ?, up = ?, os_type = ?, os_version = ?, arch = ?,"
            + " mac_address = ?, ssh_port = ? WHERE name = ?";
    int count =
        db.autoCommit(
            "update " + spec.name(),
            c -> {
              try (PreparedStatement update = Database.prepare(c, sql)) {
                update.setString(1, spec.machineType());
                update.setString(2, spec.vpsHost());
                update.setBoolean(3, spec.up());
                update.setString(4, spec.osType());
                update.setString(5, spec.osVersion());
                update.setString(6, spec.arch());
                update.setString(7, spec.macAddress());
                setPort(update, 8, spec.sshPort());
                update.setString(9, spec.name());
                return update.executeUpdate();
              }
            });
    requireFound(count, spec.name());
  }

  /**
   * Removes a free machine and its host keys.
   *
   * @param name the machine
   * @throws NoSuchMachineException when it is not in the inventory
   * @throws LockConflictException when it is locked
   */
  public void remove(String name) {
    String sql = "DELETE FROM " + machine + " WHERE name = ? AND locked = FALSE";
    int count =
        db.autoCommit(
            "remove " + name,
            c -> {
              try (PreparedStatement delete = Database.prepare(c, sql)) {
                delete.setString(1, name);
                return delete.executeUpdate();
              }
            });
    if (count == 0) {
      Machine found = find(name).orElseThrow(() -> noSuchMachine(name));
      throw new LockConflictException(
          found.name() + " is locked by " + found.lockedBy() + "; unlock it before removing it");
    }
  }

  /**
   * Marks a machine up or down; marking down records the reason as its description.
   *
   * @param name the machine
   * @param up whether it may be handed out
   * @param reason the reason for marking it down, or {@code null} to keep the description
   */
  public void setUp(String name, boolean up, String reason) {
    String sql =
        "UPDATE "
            + machine
            + " SET up = ?"
            + (reason == null ? "" : ", description = ?")
            + " WHERE name = ?";
    int count =
        db.autoCommit(
            "mark " + name + (up ? " up" : " down"),
            c -> {
              try (PreparedStatement update = Database.prepare(c, sql)) {
                int i = 1;
                update.setBoolean(i++, up);
                if (reason != null) {
                  update.setString(i++, reason);
                }
                update.setString(i, name);
                return update.executeUpdate();
              }
            });
    requireFound(count, name);
  }

  /**
   * Sets a machine's description (teuthology-lock {@code --update --desc}).
   *
   * @param name the machine
   * @param description the new description, or {@code null} to clear it
   */
  public void setDescription(String name, String description) {
    String sql = "UPDATE " + machine + " SET description = ? WHERE name = ?";
    int count =
        db.autoCommit(
            "describe " + name,
            c -> {
              try (PreparedStatement update = Database.prepare(c, sql)) {
                update.setString(1, description);
                update.setString(2, name);
                return update.executeUpdate();
              }
            });
    requireFound(count, name);
  }

  private static void requireFound(int count, String name) {
    if (count == 0) {
      throw noSuchMachine(name);
    }
  }

  static NoSuchMachineException noSuchMachine(String name) {
    return new NoSuchMachineException(
        "no machine named " + name + " in the inventory; add it with inventory().add(...)");
  }

  /**
   * Reads one machine with its host keys.
   *
   * @param name the machine
   * @return it, or empty
   */
  public Optional<Machine> find(String name) {
    List<Machine> found = query(MachineQuery.builder().names(name).build());
    return found.stream().findFirst();
  }

  /**
   * Reads the machines that match a query, sorted by name, each with its host keys.
   *
   * @param query the criteria
   * @return the machines
   */
  public List<Machine> query(MachineQuery query) {
    StringBuilder where = new StringBuilder("1 = 1");
    List<Object> params = new ArrayList<>();
    if (!query.names().isEmpty()) {
      where.append(" AND m.name IN ").append(MachineRows.markers(query.names().size()));
      params.addAll(query.names());
    }
    if (!query.machineTypes().isEmpty()) {
      where
          .append(" AND m.machine_type IN ")
          .append(MachineRows.markers(query.machineTypes().size()));
      params.addAll(query.machineTypes());
    }
    if (query.locked() != null) {
      where.append(" AND m.locked = ?");
      params.add(query.locked());
    }
    if (query.up() != null) {
      where.append(" AND m.up = ?");
      params.add(query.up());
    }
    equal(where, params, "m.locked_by", query.owner());
    equal(where, params, "m.description", query.description());
    equal(where, params, "m.os_type", query.osType());
    equal(where, params, "m.os_version", query.osVersion());
    equal(where, params, "m.vpshost", query.vpsHost());
    if (query.descriptionContains() != null) {
      where.append(" AND m.description LIKE ? ESCAPE '!'");
      params.add("%" + escapeLike(query.descriptionContains()) + "%");
    }
    String sql = MachineRows.select(db, where.toString());
    return db.autoCommit(
        "list machines",
        c -> {
          try (PreparedStatement select = Database.prepare(c, sql)) {
            for (int i = 0; i < params.size(); i++) {
              Object value = params.get(i);
              if (value instanceof Boolean b) {
                select.setBoolean(i + 1, b);
              } else {
                select.setString(i + 1, (String) value);
              }
            }
            try (ResultSet rs = select.executeQuery()) {
              return MachineRows.machines(rs, db.dialect());
            }
          }
        });
  }

  private static void equal(StringBuilder where, List<Object> params, String column, String value) {
    if (value != null) {
      where.append(" AND ").append(column).append(" = ?");
      params.add(value);
    }
  }

  private static String escapeLike(String text) {
    return text.replace("!", "!!").replace("%", "!%").replace("_", "!_");
  }

  /**
   * The VM hosts whose slots could serve a lock request: those of the named VM slots, or of every
   * VM slot of the requested types.
   *
   * @param request the request
   * @return the VM hosts, sorted, possibly empty
   */
  public SortedSet<String> vmHosts(LockRequest request) {
    List<String> keys = request.byName() ? request.names() : request.machineTypes();
    String sql =
        "SELECT DISTINCT vpshost FROM "
            + machine
            + " WHERE "
            + (request.byName() ? "name" : "machine_type")
            + " IN "
            + MachineRows.markers(keys.size())
            + " AND vpshost IS NOT NULL";
    return db.autoCommit(
        "find the VM hosts of a request",
        c -> {
          SortedSet<String> hosts = new TreeSet<>();
          try (PreparedStatement select = Database.prepare(c, sql)) {
            MachineRows.bind(select, 1, keys);
            try (ResultSet rs = select.executeQuery()) {
              while (rs.next()) {
                hosts.add(rs.getString(1));
              }
            }
          }
          return hosts;
        });
  }

  /**
   * Counts machines by type and owner.
   *
   * @return the summary
   */
  public Summary summary() {
    String sql =
        "SELECT machine_type, CASE WHEN locked = TRUE THEN locked_by END AS owner, COUNT(*),"
            + " SUM(CASE WHEN up = TRUE THEN 1 ELSE 0 END) FROM "
            + machine
            + " GROUP BY machine_type, CASE WHEN locked = TRUE THEN locked_by END"
            + " ORDER BY machine_type, 2";
    return db.autoCommit("summarise the inventory", c -> readSummary(c, sql));
  }

  private static Summary readSummary(Connection c, String sql) throws SQLException {
    List<Summary.Entry> entries = new ArrayList<>();
    try (PreparedStatement select = Database.prepare(c, sql);
        ResultSet rs = select.executeQuery()) {
      while (rs.next()) {
        entries.add(
            ApiValues.factory()
                .summaryEntry(rs.getString(1), rs.getString(2), rs.getInt(3), rs.getInt(4)));
      }
    }
    return ApiValues.factory().summary(entries, List.of());
  }
}
