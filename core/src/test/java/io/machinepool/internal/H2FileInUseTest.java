package io.machinepool.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.machinepool.DatabaseException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Opening an H2 file that another holder keeps: the file's lock is taken here with {@link
 * FileChannel#lock()}, as another process's H2 takes it, so H2 answers as it does to a second
 * process (error 90020, "Database may be already in use").
 */
class H2FileInUseTest {
  @TempDir Path dir;

  private JdbcDataSource h2File() throws SQLException {
    JdbcDataSource h2 = new JdbcDataSource();
    h2.setURL("jdbc:h2:file:" + dir.resolve("locks"));
    h2.getConnection().close(); // creates the file, and closes the database again
    return h2;
  }

  /** Locks the database file as another process's H2 does; closing the channel lets go. */
  private FileChannel holdFile() throws IOException {
    FileChannel channel =
        FileChannel.open(
            dir.resolve("locks.mv.db"), StandardOpenOption.READ, StandardOpenOption.WRITE);
    channel.lock();
    return channel;
  }

  @Test
  void anOpenWaitsUntilTheHolderLetsGoOfTheFile() throws Exception {
    DataSource retrying = new H2FileInUse(h2File(), Duration.ofSeconds(20));
    FileChannel held = holdFile();
    CompletableFuture<Void> release =
        CompletableFuture.runAsync(
            () -> {
              try {
                Thread.sleep(500);
                held.close();
              } catch (IOException | InterruptedException e) {
                throw new IllegalStateException(e);
              }
            });

    long start = System.nanoTime();
    try (Connection connection = retrying.getConnection()) {
      assertThat(connection.isValid(1)).isTrue();
    }
    release.get(5, TimeUnit.SECONDS);
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThan(Duration.ofMillis(400));
  }

  @Test
  void anOpenStopsRetryingAtTheDeadlineOfTheCallThatAsked() throws Exception {
    DataSource retrying = new H2FileInUse(h2File(), Duration.ofSeconds(30));
    try (FileChannel held = holdFile()) {
      H2FileInUse.CALLER.set(Deadline.after(Duration.ofMillis(300)));
      long start = System.nanoTime();
      try {
        assertThatThrownBy(retrying::getConnection).isInstanceOf(H2FileInUse.StillInUse.class);
      } finally {
        H2FileInUse.CALLER.remove();
      }
      assertThat(Duration.ofNanos(System.nanoTime() - start))
          .as("bounded by the caller's deadline, not by the 30 s wait")
          .isLessThan(Duration.ofSeconds(3));
    }
  }

  @Test
  void anOpenThatOutlastsTheWaitNamesTheFileAndTheOtherProcess() throws Exception {
    DataSource retrying = new H2FileInUse(h2File(), Duration.ofMillis(300));
    try (FileChannel held = holdFile()) {
      assertThatThrownBy(retrying::getConnection)
          .isInstanceOf(H2FileInUse.StillInUse.class)
          .hasMessageStartingWith(
              "another process has the H2 database file "
                  + dir.resolve("locks.mv.db")
                  + " open and did not let go within 1 s (H2: Database may be already in use")
          .hasMessageContaining("use a PostgreSQL or MariaDB server")
          .satisfies(
              e -> {
                SQLException failure = (SQLException) e;
                assertThat(failure.getErrorCode()).isEqualTo(90020);
                assertThat(failure.getSQLState()).isEqualTo("90020");
                assertThat(failure.getCause()).isInstanceOf(SQLException.class);
              });
    }
  }

  @Test
  void theLockDatabaseFailureNamesTheHolderNotTheUrlOrPassword() {
    SQLException lockFile =
        new SQLNonTransientConnectionException(
            "Error opening database: \"Lock file recently modified\" [8000-232]", "08000", 8000);
    SQLException stillInUse =
        new H2FileInUse.StillInUse(
            "the H2 database file /lab/locks.mv.db", Duration.ofMillis(30_400), lockFile);

    DatabaseException failure = Database.failure("lock smithi001", stillInUse);

    assertThat(failure)
        .hasMessageStartingWith(
            "could not lock smithi001: another process has the H2 database file /lab/locks.mv.db"
                + " open and did not let go within 30 s (H2: Error opening database: \"Lock file"
                + " recently modified\" [8000-232])")
        .hasMessageNotContaining("password");
    assertThat(Database.failure("connect", lockFile)).hasMessageContaining("password");
  }

  @Test
  void onlyH2sOpeningErrorsAreTriedAgain() {
    assertThat(
            H2FileInUse.isTransient(new SQLException("Lock file recently modified", "08000", 8000)))
        .isTrue();
    assertThat(H2FileInUse.isTransient(new SQLException("already in use", "90020", 90020)))
        .isTrue();
    assertThat(H2FileInUse.isTransient(new SQLException("Connection is broken", "90067", 90067)))
        .isTrue();
    assertThat(
            H2FileInUse.isTransient(
                new SQLException(
                    "Could not save properties", "08000", 8000, new IOException("read-only"))))
        .as("a lock file that cannot be written")
        .isFalse();
    assertThat(
            H2FileInUse.isTransient(
                new SQLException("Wrong user name or password", "28000", 28000)))
        .isFalse();
    assertThat(H2FileInUse.isTransient(new SQLException("Connection refused", "08001", 0)))
        .as("PostgreSQL's refused connection")
        .isFalse();
  }

  @Test
  void otherFailuresPassThroughAtOnce() throws Exception {
    h2File();
    JdbcDataSource wrongPassword = new JdbcDataSource();
    wrongPassword.setURL("jdbc:h2:file:" + dir.resolve("locks"));
    wrongPassword.setPassword("not the password");

    long start = System.nanoTime();
    assertThatThrownBy(() -> new H2FileInUse(wrongPassword, Duration.ofSeconds(20)).getConnection())
        .isInstanceOfSatisfying(
            SQLException.class, e -> assertThat(e.getErrorCode()).isEqualTo(28000));
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
  }

  @Test
  void theFileIsNamedFromTheUrlOfAnEmbeddedDatabase() {
    assertThat(H2FileInUse.h2File("jdbc:h2:file:/var/lib/lab/locks;AUTO_SERVER=TRUE"))
        .isEqualTo("/var/lib/lab/locks.mv.db");
    assertThat(H2FileInUse.h2File("jdbc:h2:~/lab/locks")).isEqualTo("~/lab/locks.mv.db");
    assertThat(H2FileInUse.h2File("jdbc:h2:mem:lab;DB_CLOSE_DELAY=-1")).isNull();
    assertThat(H2FileInUse.h2File("jdbc:h2:tcp://lockdb/lab")).isNull();
    assertThat(H2FileInUse.h2File("jdbc:postgresql://lockdb/lab")).isNull();
  }
}
