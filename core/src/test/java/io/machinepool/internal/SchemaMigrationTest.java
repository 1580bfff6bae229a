package io.machinepool.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.machinepool.DatabaseException;
import io.machinepool.MachinePool;
import io.machinepool.testing.TestDatabase;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

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
        .containsExactly(List.of("1"), List.of("2"));
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
        .hasMessageContaining("version 99, newer than this machinepool supports (2)");
  }
}
