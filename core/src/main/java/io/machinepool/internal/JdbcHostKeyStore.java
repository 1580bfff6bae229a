package io.machinepool.internal;

import io.machinepool.HostKey;
import io.machinepool.HostKeyStore;
import io.machinepool.InvalidRequestException;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;

/**
 * The host keys of every machine, in the lock database: one row per machine and key type, removed
 * with the machine. {@link #replace} swaps a machine's keys in one transaction, so a reader sees
 * the old set or the new one, never a mix.
 */
public final class JdbcHostKeyStore implements HostKeyStore {
  private final Database db;
  private final String hostKey;
  private final String machine;

  /**
   * Creates the store over a database whose schema is in place.
   *
   * @param db the database
   */
  public JdbcHostKeyStore(Database db) {
    this.db = db;
    this.hostKey = db.table("host_key");
    this.machine = db.table("machine");
  }

  @Override
  public List<HostKey> keys(String name) {
    String sql =
        "SELECT key_type, key_base64 FROM " + hostKey + " WHERE machine_name = ? ORDER BY key_type";
    return db.autoCommit(
        "read the host keys of " + name,
        c -> {
          List<HostKey> keys = new ArrayList<>();
          try (PreparedStatement select = Database.prepare(c, sql)) {
            select.setString(1, name);
            try (ResultSet rs = select.executeQuery()) {
              while (rs.next()) {
                keys.add(new HostKey(rs.getString(1), rs.getString(2)));
              }
            }
          }
          return keys;
        });
  }

  @Override
  public void replace(String name, List<HostKey> keys) {
    if (keys == null || keys.stream().anyMatch(java.util.Objects::isNull)) {
      throw new InvalidRequestException("host keys of " + name + " must not be null");
    }
    if (keys.stream().map(HostKey::type).distinct().count() != keys.size()) {
      throw new InvalidRequestException("host keys of " + name + " list a key type twice: " + keys);
    }
    db.inTransaction(
        "store the host keys of " + name,
        c -> {
          // Locking the machine row serialises concurrent replacements of one machine's keys.
          try (PreparedStatement lock =
              Database.prepare(c, "SELECT name FROM " + machine + " WHERE name = ? FOR UPDATE")) {
            lock.setString(1, name);
            try (ResultSet rs = lock.executeQuery()) {
              if (!rs.next()) {
                throw JdbcInventory.noSuchMachine(name);
              }
            }
          }
          try (PreparedStatement delete =
              Database.prepare(c, "DELETE FROM " + hostKey + " WHERE machine_name = ?")) {
            delete.setString(1, name);
            delete.executeUpdate();
          }
          try (PreparedStatement insert =
              Database.prepare(
                  c,
                  "INSERT INTO "
                      + hostKey
                      + " (machine_name, key_type, key_base64) VALUES (?, ?, ?)")) {
            for (HostKey key : keys) {
              insert.setString(1, name);
              insert.setString(2, key.type());
              insert.setString(3, key.base64());
              insert.addBatch();
            }
            insert.executeBatch();
          }
          return null;
        });
  }

  @Override
  public void forget(String name) {
    db.autoCommit(
        "forget the host keys of " + name,
        c -> {
          try (PreparedStatement delete =
              Database.prepare(c, "DELETE FROM " + hostKey + " WHERE machine_name = ?")) {
            delete.setString(1, name);
            return delete.executeUpdate();
          }
        });
  }
}
