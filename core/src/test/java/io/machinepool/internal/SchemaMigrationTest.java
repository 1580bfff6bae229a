package io.machinepool.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariDataSource;
import io.machinepool.DatabaseException;
import io.machinepool.HostKey;
import io.machinepool.Lease;
import io.machinepool.LockConflictException;
import io.machinepool.LockRequest;
import io.machinepool.Machine;
import io.machinepool.MachinePool;
import io.machinepool.MachineSpec;
import io.machinepool.testing.TestDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class SchemaMigrationTest {
  private TestDatabase db;

  @BeforeEach
  void setUp() {
    db = TestDatabase.open(TestDatabase.Kind.H2);
  }

  @AfterEach
  void tearDown() {
    db.close();
  }

  private MachinePool build() {
    return MachinePool.builder()
        .dataSource(db.dataSource())
        .tablePrefix(db.prefix())
        .releaseOnShutdown(false)
        .build();
  }

  @Test
  void aVersionOneSchemaIsMigratedAndKeepsItsMachines() {
    Schema.statements(Dialect.H2, 1, db.prefix()).forEach(db::execute);
    db.execute(
        "INSERT INTO "
            + db.prefix()
            + "machine (name, machine_type, up, locked) VALUES ('old.front', 'smithi', TRUE, FALSE)");
    try (MachinePool pool = build()) {
      assertThat(pool.machine("old.front")).isPresent();
    }
    assertThat(db.query("SELECT version FROM " + db.prefix() + "schema_version ORDER BY version"))
        .containsExactly(List.of("1"), List.of("2"), List.of("3"), List.of("4"), List.of("5"));
    assertThat(db.query("SELECT provision_failures FROM " + db.prefix() + "machine"))
        .containsExactly(List.of("0"));
  }

  @Test
  void aSchemaNewerThanThisCodeIsRefused() {
    build().close();
    db.execute(
        "INSERT INTO "
            + db.prefix()
            + "schema_version (version, description) VALUES (99, 'from the future')");
    assertThatThrownBy(this::build)
        .isInstanceOf(DatabaseException.class)
        .hasMessageContaining(
            "version 99, newer than this machinepool supports (" + Schema.CURRENT_VERSION + ")");
  }

  /**
   * A version 2 schema as machinepool 0.1 left it, with locks and host keys, migrated to version 3
   * by a pool whose sessions (on MariaDB) are in another time zone than UTC: the stored instants
   * stay the same, identity becomes exact, and the indexes and the host keys' foreign key are kept.
   */
  @ParameterizedTest
  @EnumSource(TestDatabase.Kind.class)
  void aVersionTwoSchemaWithLocksIsMigratedToExactIdentityAndUtcTimes(TestDatabase.Kind kind)
      throws SQLException {
    Assumptions.assumeTrue(kind.available(), kind::skipReason);
    Dialect dialect = Dialect.valueOf(kind.name());
    boolean mariaDb = kind == TestDatabase.Kind.MARIADB;
    try (TestDatabase v2 = TestDatabase.open(kind);
        HikariDataSource offUtc = v2.newDataSource(mariaDb ? "SET time_zone = '+05:30'" : null)) {
      String p = v2.prefix();
      for (int version = 1; version <= 2; version++) {
        execute(offUtc, Schema.statements(dialect, version, p));
      }
      String since =
          mariaDb
              ? "FROM_UNIXTIME(1767225600.123)"
              : "TIMESTAMP WITH TIME ZONE '2026-01-01 00:00:00.123+00:00'";
      String now = mariaDb ? "CURRENT_TIMESTAMP(3)" : "CURRENT_TIMESTAMP";
      String columns =
          p
              + "machine (name, machine_type, up, locked, locked_by, locked_since, description,"
              + " lease_token, lease_expires, generation) VALUES ";
      execute(
          offUtc,
          List.of(
              "INSERT INTO "
                  + columns
                  + "('old.front', 'smithi', TRUE, TRUE, 'alice@h', "
                  + since
                  + ", 'job-1', 'held-token', "
                  + now
                  + " + INTERVAL '2' HOUR, 4)",
              "INSERT INTO "
                  + columns
                  + "('stale.front', 'smithi', TRUE, TRUE, 'bob@h', "
                  + since
                  + ", 'job-2', 'stale-token', "
                  + now
                  + " - INTERVAL '2' HOUR, 7)",
              "INSERT INTO "
                  + p
                  + "machine (name, machine_type, up, locked) VALUES ('free.front', 'mira', TRUE,"
                  + " FALSE)",
              "INSERT INTO "
                  + p
                  + "host_key (machine_name, key_type, key_base64) VALUES ('old.front', 'ssh-rsa',"
                  + " 'AAAAB3NzaC1yc2EAAAADAQABAAAAgQC7')",
              "INSERT INTO "
                  + p
                  + "host_key (machine_name, key_type, key_base64) VALUES ('free.front', 'ssh-rsa',"
                  + " 'AAAAB3NzaC1yc2EAAAADAQABAAAAgQC8')"));

      try (MachinePool pool =
          MachinePool.builder()
              .dataSource(offUtc)
              .tablePrefix(p)
              .releaseOnShutdown(false)
              .leaseDuration(Duration.ofDays(365 * 30))
              .build()) {
        assertThat(v2.query("SELECT version FROM " + p + "schema_version ORDER BY version"))
            .containsExactly(List.of("1"), List.of("2"), List.of("3"), List.of("4"), List.of("5"));
        Machine old = pool.machine("old.front").orElseThrow();
        assertThat(old.lockedSince())
            .as("the lock time is the same instant after the migration")
            .isEqualTo(Instant.parse("2026-01-01T00:00:00.123Z"));
        assertThat(List.of(old.lockedBy(), old.description())).containsExactly("alice@h", "job-1");
        assertThat(old.generation()).isEqualTo(4);
        assertThat(old.hostKeys()).extracting(HostKey::type).containsExactly("ssh-rsa");
        assertThat(pool.reapExpired())
            .as("only the lease that expired two hours ago has expired, by the UTC clock")
            .extracting(Machine::name)
            .containsExactly("stale.front");

        assertThatThrownBy(
                () ->
                    pool.lock(
                        LockRequest.builder()
                            .owner("ALICE@H")
                            .description("job-1")
                            .names("old.front")
                            .build()))
            .isInstanceOf(LockConflictException.class);
        assertThatThrownBy(
                () ->
                    pool.lock(
                        LockRequest.builder()
                            .owner("alice@h ")
                            .description("job-1 ")
                            .names("old.front")
                            .build()))
            .isInstanceOf(LockConflictException.class);
        pool.inventory().add(MachineSpec.physical("OLD.front", "smithi"));
        try (Lease lease =
            pool.lock(LockRequest.builder().owner("bob@h").names("OLD.front").build())) {
          assertThat(lease.names()).containsExactly("OLD.front");
          assertThat(lease.expiresAt().orElseThrow())
              .isAfter(Instant.parse("2050-01-01T00:00:00Z"));
          assertThat(pool.machine("old.front").orElseThrow().lockedBy()).isEqualTo("alice@h");
        }

        assertThat(IndexCatalog.indexColumns(offUtc, p + "machine").keySet())
            .contains(p + "machine_by_type")
            .doesNotContain(p + "machine_free", p + "machine_lease");
        if (kind == TestDatabase.Kind.POSTGRESQL) {
          assertThat(v2.query("SELECT reloptions FROM pg_class WHERE relname = '" + p + "machine'"))
              .as("the migrated table keeps room in its pages for new row versions")
              .containsExactly(List.of("{fillfactor=70}"));
        }
        pool.inventory().remove("free.front");
        assertThat(
                v2.query(
                    "SELECT key_type FROM " + p + "host_key WHERE machine_name = 'free.front'"))
            .as("the host keys' foreign key still cascades")
            .isEmpty();
        assertThatThrownBy(
                () ->
                    v2.execute(
                        "INSERT INTO "
                            + p
                            + "host_key (machine_name, key_type, key_base64) VALUES"
                            + " ('Old.front', 'ssh-rsa', 'AAAA')"))
            .as("the host keys' foreign key still holds, byte for byte")
            .isInstanceOf(IllegalStateException.class);

        List<String> again = Schema.statements(dialect, 3, p);
        execute(offUtc, again.subList(0, again.size() - 1));
        assertThat(pool.machine("old.front").orElseThrow().lockedSince())
            .as("version 3 may run again, should a migration stop half way")
            .isEqualTo(Instant.parse("2026-01-01T00:00:00.123Z"));
      }
    }
  }

  private static void execute(DataSource dataSource, List<String> statements) throws SQLException {
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement()) {
      for (String sql : statements) {
        s.execute(sql);
      }
    }
  }
}
