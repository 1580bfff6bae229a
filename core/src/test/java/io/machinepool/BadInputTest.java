package io.machinepool;

import io.machinepool.testing.TestDatabase;
import org.junit.jupiter.api.Nested;

/**
 * Bad input of every kind gets a typed exception with a clear message, and the database is
 * unchanged — {@link BadInputCases} on each database, named in the class, so that the reports (and
 * {@code .ci/run}) count them per database.
 */
class BadInputTest {
  @Nested
  class OnH2 extends BadInputCases {
    OnH2() {
      super(TestDatabase.Kind.H2);
    }
  }

  @Nested
  class OnPostgreSQL extends BadInputCases {
    OnPostgreSQL() {
      super(TestDatabase.Kind.POSTGRESQL);
    }
  }

  @Nested
  class OnMariaDb extends BadInputCases {
    OnMariaDb() {
      super(TestDatabase.Kind.MARIADB);
    }
  }
}
