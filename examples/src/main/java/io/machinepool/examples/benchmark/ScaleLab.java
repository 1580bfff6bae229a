package io.machinepool.examples.benchmark;

import io.machinepool.LockRequest;
import io.machinepool.MachinePool;
import io.machinepool.MachineSpec;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.UUID;
import javax.sql.DataSource;

/**
 * The lab of the scale and churn cells: its machines, their types, and the ones another owner holds
 * for the whole cell; and how to put it into a pool, through the API, or into a floor table, with
 * plain SQL. Machine {@code i} has type {@code i % types}, so the types are evenly filled; the held
 * machines are picked with a fixed seed, so that every run (and the floor) holds the same ones.
 */
final class ScaleLab {
  /** The owner of the held machines. */
  static final String HOLDER = "holder@bench";

  /** How many machines one {@code inventory().addAll} and one held lock take. */
  static final int BATCH = 500;

  private static final long SEED = 13;

  private final int types;
  private final List<String> names = new ArrayList<>();
  private final List<String> typeOf = new ArrayList<>();
  private final List<String> held;

  /**
   * Describes a lab.
   *
   * @param machines how many machines
   * @param types how many machine types
   * @param held how many machines another owner holds, picked at random
   * @param needFree how many machines of each type must stay free
   * @throws IllegalArgumentException when a type would have fewer free machines
   */
  ScaleLab(int machines, int types, int held, int needFree) {
    this.types = types;
    for (int i = 0; i < machines; i++) {
      String type = type(i % types);
      typeOf.add(type);
      names.add(String.format(Locale.ROOT, "%s-%05d", type, i / types));
    }
    List<String> shuffled = new ArrayList<>(names);
    Collections.shuffle(shuffled, new Random(SEED));
    this.held = List.copyOf(shuffled.subList(0, held));
    for (int t = 0; t < types; t++) {
      String type = type(t);
      long free =
          typeOf.stream().filter(type::equals).count()
              - this.held.stream().filter(n -> n.startsWith(type + "-")).count();
      if (free < needFree) {
        throw new IllegalArgumentException(
            type + " would have " + free + " free machines, fewer than " + needFree);
      }
    }
  }

  /**
   * The name of a machine type.
   *
   * @param index from 0
   * @return e.g. {@code scale07}
   */
  static String type(int index) {
    return String.format(Locale.ROOT, "scale%02d", index);
  }

  /**
   * How many machine types the lab has.
   *
   * @return the count
   */
  int types() {
    return types;
  }

  /**
   * How many machines the lab has.
   *
   * @return the count
   */
  int machines() {
    return names.size();
  }

  /**
   * How many machines another owner holds.
   *
   * @return the count
   */
  int held() {
    return held.size();
  }

  /**
   * Adds the machines to a pool's inventory, {@value #BATCH} per {@code addAll}, then locks the
   * held ones for {@value #HOLDER} until unlocked (no expiry, so nothing renews them), {@value
   * #BATCH} names per lock.
   *
   * @param pool the pool, on fresh tables
   */
  void fill(MachinePool pool) {
    List<MachineSpec> specs = new ArrayList<>();
    for (int i = 0; i < names.size(); i++) {
      specs.add(MachineSpec.physical(names.get(i), typeOf.get(i)));
    }
    for (int from = 0; from < specs.size(); from += BATCH) {
      pool.inventory().addAll(specs.subList(from, Math.min(specs.size(), from + BATCH)));
    }
    for (int from = 0; from < held.size(); from += BATCH) {
      pool.lock(
          LockRequest.builder()
              .owner(HOLDER)
              .description("held for the whole cell")
              .names(held.subList(from, Math.min(held.size(), from + BATCH)))
              .keepUntilUnlocked()
              .build());
    }
  }

  /**
   * Inserts the machines into a floor table made from the same DDL, free and up, then locks the
   * held ones for {@value #HOLDER} without expiry, as {@link #fill(MachinePool)} does.
   *
   * @param dataSource a pool on the database
   * @param table the machine table
   * @param kind the database, for its clock
   * @throws SQLException when a statement fails
   */
  void fill(DataSource dataSource, String table, BenchDatabase.Kind kind) throws SQLException {
    String insert =
        "INSERT INTO "
            + table
            + " (name, machine_type, up, locked, generation) VALUES (?, ?, TRUE, FALSE, 0)";
    String hold =
        "UPDATE "
            + table
            + " SET locked = TRUE, locked_by = ?, locked_since = "
            + kind.now()
            + ", description = ?, lease_token = ?, lease_expires = NULL,"
            + " generation = generation + 1 WHERE name = ? AND locked = FALSE";
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try (PreparedStatement statement = c.prepareStatement(insert)) {
        for (int i = 0; i < names.size(); i++) {
          statement.setString(1, names.get(i));
          statement.setString(2, typeOf.get(i));
          statement.addBatch();
          if ((i + 1) % BATCH == 0) {
            statement.executeBatch();
          }
        }
        statement.executeBatch();
      }
      try (PreparedStatement statement = c.prepareStatement(hold)) {
        String token = UUID.randomUUID().toString();
        for (String name : held) {
          statement.setString(1, HOLDER);
          statement.setString(2, "held for the whole cell");
          statement.setString(3, token);
          statement.setString(4, name);
          statement.addBatch();
        }
        statement.executeBatch();
      }
      c.commit();
      c.setAutoCommit(true);
    }
  }
}
