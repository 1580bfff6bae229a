package io.machinepool.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.SQLException;
import java.sql.SQLTransactionRollbackException;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class DialectTest {

  @Test
  void serializationFailuresAndDeadlocksAreRetryableEverywhere() {
    for (Dialect dialect : Dialect.values()) {
      assertThat(dialect.isRetryable(new SQLException("could not serialize", "40001"))).isTrue();
      assertThat(dialect.isRetryable(new SQLException("deadlock detected", "40P01"))).isTrue();
      assertThat(dialect.isRetryable(new SQLTransactionRollbackException("rolled back"))).isTrue();
    }
  }

  @Test
  void vendorCodesForDeadlocksAndLockTimeoutsAreRetryable() {
    assertThat(Dialect.MARIADB.isRetryable(new SQLException("Deadlock found", "HY000", 1213)))
        .isTrue();
    assertThat(Dialect.MARIADB.isRetryable(new SQLException("Lock wait timeout", "HY000", 1205)))
        .isTrue();
    assertThat(Dialect.H2.isRetryable(new SQLException("Timeout trying to lock", "HYT00", 50200)))
        .isTrue();
    assertThat(Dialect.H2.isRetryable(new SQLException("Concurrent update", "90131", 90131)))
        .isTrue();
  }

  @Test
  void otherFailuresAreNotRetried() {
    for (Dialect dialect : Dialect.values()) {
      assertThat(dialect.isRetryable(new SQLException("Connection refused", "08001"))).isFalse();
      assertThat(dialect.isRetryable(new SQLException("syntax error", "42000"))).isFalse();
      assertThat(dialect.isRetryable(new SQLException("duplicate key", "23505"))).isFalse();
    }
  }

  @Test
  void aRetryableCauseInsideAWrapperIsFound() {
    SQLException wrapper = new SQLException("batch failed", "HY000");
    wrapper.initCause(new SQLException("deadlock", "40P01"));
    assertThat(Dialect.POSTGRESQL.isRetryable(wrapper)).isTrue();
  }

  @ParameterizedTest
  @EnumSource(Dialect.class)
  void everyDialectShipsEveryVersionWithTheVersionRecordedLast(Dialect dialect) {
    for (int version = 1; version <= Schema.CURRENT_VERSION; version++) {
      var statements = Schema.statements(dialect, version, "p_");
      assertThat(statements).as("a version may only record itself").isNotEmpty();
      assertThat(statements.get(statements.size() - 1))
          .startsWith("INSERT INTO p_schema_version")
          .contains("VALUES (" + version + ",");
      assertThat(String.join("\n", statements)).doesNotContain("${prefix}").doesNotContain("--");
    }
    assertThat(Schema.statements(dialect, 1, "p_").get(0))
        .startsWith("CREATE TABLE")
        .contains("p_schema_version");
  }

  @Test
  void backoffIsJitteredAndCapped() {
    for (int attempt = 1; attempt < 40; attempt++) {
      Duration pause =
          Database.Backoff.jittered(Duration.ofMillis(10), attempt, Duration.ofMillis(200));
      long ceiling = Math.min(10L << Math.min(attempt - 1, 20), 200);
      assertThat(pause.toNanos()).isBetween(ceiling * 1_000_000 / 2, ceiling * 1_000_000);
    }
  }
}
