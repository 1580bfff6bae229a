package io.machinepool.examples.cli;

import static io.machinepool.examples.cli.Lab.BOB;
import static io.machinepool.examples.cli.Lab.KEY;
import static io.machinepool.examples.cli.Lab.ME;
import static io.machinepool.examples.cli.Lab.name;
import static org.assertj.core.api.Assertions.assertThat;

import io.machinepool.Lease;
import io.machinepool.LockRequest;
import io.machinepool.Machine;
import io.machinepool.MachinePool;
import io.machinepool.testing.LogCapture;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;

/** {@code --lock}, {@code --unlock}, {@code --lock-many}, {@code --update}, {@code --reap}. */
class LockCommandsTest {
  /**
   * The tool scans the host keys of the machines it locks, whose names do not resolve here. One
   * test cuts a holder off from the database.
   */
  @RegisterExtension
  final LogCapture log =
      new LogCapture()
          .expect("io.machinepool.Provisioning", "is locked without host keys")
          .expect("io.machinepool.LeaseKeeper", "could not renew")
          .expect("io.machinepool.Reaper", "background reaper failed");

  private Lab lab;

  @BeforeEach
  void lab() {
    lab = new Lab();
  }

  @AfterEach
  void close() {
    lab.close();
  }

  private static void succeeded(Lab.Result result) {
    assertThat(result.status()).as("%s", result).isZero();
    assertThat(result.err()).as("%s", result).isEmpty();
  }

  private static void failed(Lab.Result result, String message) {
    assertThat(result.status()).as("%s", result).isEqualTo(1);
    assertThat(result.out()).as("%s", result).isEmpty();
    assertThat(result.errLines()).as("%s", result).anyMatch(l -> l.contains(message));
    assertThat(result.errLines()).allMatch(l -> l.startsWith("machinepool: "));
    assertThat(result.err()).doesNotContain("\tat ");
  }

  @Test
  void lockByShortNameIsDurableAndOutlivesThePoolOfTheTool() {
    Lab.Result result = lab.run("--lock", "--desc", "run-1", "smithi001", name("smithi002"));
    succeeded(result);
    assertThat(result.out()).isEmpty();

    for (String shortName : List.of("smithi001", "smithi002")) {
      Machine m = lab.machine(shortName);
      assertThat(m.locked()).isTrue();
      assertThat(m.lockedBy()).isEqualTo(ME);
      assertThat(m.description()).isEqualTo("run-1");
    }
    assertThat(lab.pool.reapExpired()).as("a durable lock never expires").isEmpty();
    Lab.Result reap = lab.run("--reap");
    assertThat(reap.status()).isZero();
    assertThat(reap.out()).isEmpty();
    assertThat(lab.machine("smithi001").locked()).isTrue();

    Lab.Result again = lab.run("--lock", "--desc", "run-1", "smithi001");
    succeeded(again);
    assertThat(lab.machine("smithi001").lockedBy())
        .as("the same owner and description re-lock")
        .isEqualTo(ME);
  }

  @Test
  void lockLocksAllTheMachinesOrNone() {
    lab.lockAs(BOB, "bob's", "smithi002");
    List<Machine> before = lab.snapshot();

    Lab.Result result = lab.run("--lock", "smithi001", "smithi002");

    failed(result, name("smithi002"));
    assertThat(result.err()).contains(BOB);
    assertThat(lab.snapshot()).isEqualTo(before);
  }

  @Test
  void lockWithFLocksTheOthersAndStillFails() {
    lab.lockAs(BOB, "bob's", "smithi002");

    Lab.Result result = lab.run("--lock", "-f", "smithi001", "smithi002", "smithi003");

    assertThat(result.status()).isEqualTo(1);
    assertThat(result.errLines()).hasSize(1);
    assertThat(result.err())
        .contains(name("smithi002"))
        .as("the others were locked")
        .doesNotContain("nothing was locked")
        .endsWith("; " + name("smithi002") + " was not locked\n");
    assertThat(lab.machine("smithi001").lockedBy()).isEqualTo(ME);
    assertThat(lab.machine("smithi002").lockedBy()).isEqualTo(BOB);
    assertThat(lab.machine("smithi003").lockedBy()).isEqualTo(ME);
  }

  @Test
  void aMachineLockedWithoutHostKeysGetsOnePlainWarningLine() {
    Lab.Result result =
        lab.runShowingScanWarnings(PoolOpener.DEFAULT, "--lock", "smithi002", "smithi003");

    assertThat(result.status()).as("%s", result).isZero();
    assertThat(result.out()).isEmpty();
    assertThat(result.errLines())
        .satisfiesExactly(
            l ->
                assertThat(l)
                    .startsWith(
                        "machinepool: warning: "
                            + name("smithi002")
                            + " is locked without host keys: could not scan the host keys of "
                            + name("smithi002")
                            + ":22: the name does not resolve")
                    .endsWith(
                        "; machinepool --update-keys "
                            + name("smithi002")
                            + " stores them once it answers"),
            l -> assertThat(l).startsWith("machinepool: warning: " + name("smithi003") + " is"));
    assertThat(lab.machine("smithi002").lockedBy()).isEqualTo(ME);
  }

  @Test
  void anUnreachableDatabaseFailsWithinSecondsSayingWhy() {
    long started = System.nanoTime();
    Lab.Result result = lab.run("--brief", "--db", "jdbc:postgresql://127.0.0.1:1/lab?user=nobody");
    Duration took = Duration.ofNanos(System.nanoTime() - started);

    assertThat(result.status()).isEqualTo(1);
    assertThat(result.errLines())
        .singleElement()
        .asString()
        .startsWith(
            "machinepool: cannot open the lock database jdbc:postgresql://127.0.0.1:1/lab?...")
        .containsIgnoringCase("refused");
    assertThat(took).isLessThan(Duration.ofSeconds(15));
  }

  @Test
  void lockForAnotherOwnerAndOfAMachineThatIsDown() {
    succeeded(lab.run("--lock", "--owner", "carol@build3", "mira002"));
    Machine m = lab.machine("mira002");
    assertThat(m.lockedBy()).isEqualTo("carol@build3");
    assertThat(m.up()).as("locking by name takes a machine that is down").isFalse();
  }

  @Test
  void verboseReportsWhatWasLockedAndUnlockedOnStandardError() {
    Lab.Result locked = lab.run("-v", "--lock", "smithi003");
    assertThat(locked.status()).isZero();
    assertThat(locked.out()).isEmpty();
    assertThat(locked.errLines()).containsExactly("locked " + name("smithi003") + " for " + ME);

    Lab.Result unlocked = lab.run("--verbose", "--unlock", "smithi003");
    assertThat(unlocked.status()).isZero();
    assertThat(unlocked.errLines()).containsExactly("unlocked " + name("smithi003"));
  }

  @Test
  void unlockFreesTheCallersMachinesAndKeepsTheDescription() {
    succeeded(lab.run("--lock", "--desc", "run-2", "smithi001", "smithi003"));

    succeeded(lab.run("--unlock", "smithi001", "smithi003"));

    for (String shortName : List.of("smithi001", "smithi003")) {
      Machine m = lab.machine(shortName);
      assertThat(m.locked()).isFalse();
      assertThat(m.lockedBy()).isNull();
      assertThat(m.lockedSince()).isNull();
      assertThat(m.description()).isEqualTo("run-2");
    }
  }

  @Test
  void unlockRefusesAnotherOwnersMachineUnlessOwnerNamesThem() {
    lab.lockAs(BOB, "bob's", "smithi002");
    List<Machine> before = lab.snapshot();

    Lab.Result mine = lab.run("--unlock", "smithi002");
    failed(mine, name("smithi002") + " is locked by " + BOB + ", not by " + ME);
    assertThat(lab.snapshot()).isEqualTo(before);

    succeeded(lab.run("--unlock", "--owner", BOB, "smithi002"));
    assertThat(lab.machine("smithi002").locked()).isFalse();
  }

  @Test
  void unlockChecksEveryMachineFirstAndFGoesOn() {
    succeeded(lab.run("--lock", "smithi001"));
    List<Machine> before = lab.snapshot();

    Lab.Result all = lab.run("--unlock", "smithi001", "smithi003", "smithi999");
    assertThat(all.status()).isEqualTo(1);
    assertThat(all.errLines())
        .containsExactly(
            "machinepool: " + name("smithi003") + " is not locked; there is nothing to unlock",
            "machinepool: no machine named " + name("smithi999") + " in the inventory",
            "machinepool: nothing was unlocked (-f unlocks the others)");
    assertThat(lab.snapshot()).isEqualTo(before);

    Lab.Result keepGoing = lab.run("--unlock", "-f", "smithi003", "smithi001");
    assertThat(keepGoing.status()).isEqualTo(1);
    assertThat(keepGoing.errLines()).hasSize(1);
    assertThat(lab.machine("smithi001").locked()).isFalse();
  }

  @Test
  void unlockWithADescriptionChecksIt() {
    succeeded(lab.run("--lock", "--desc", "run-3", "smithi001"));
    List<Machine> before = lab.snapshot();

    failed(
        lab.run("--unlock", "--desc", "run-4", "smithi001"),
        "is locked with description 'run-3', not 'run-4'");
    assertThat(lab.snapshot()).isEqualTo(before);

    succeeded(lab.run("--unlock", "--desc", "run-3", "smithi001"));
    assertThat(lab.machine("smithi001").locked()).isFalse();
  }

  @Test
  void lockManyPrintsTheTargetsOfWhatItLocked() {
    Lab.Result result = lab.run("--lock-many", "3", "-m", "smithi", "--desc", "suite-7");
    succeeded(result);

    Map<String, Map<String, String>> document = new Yaml().load(result.out());
    Map<String, String> targets = document.get("targets");
    assertThat(targets.keySet())
        .containsExactly(name("smithi001"), name("smithi002"), name("smithi003"));
    assertThat(targets.get(name("smithi001"))).isEqualTo(KEY);
    assertThat(targets.get(name("smithi002"))).isNull();
    for (String target : targets.keySet()) {
      Machine m = lab.pool.machine(target).orElseThrow();
      assertThat(m.lockedBy()).isEqualTo(ME);
      assertThat(m.description()).isEqualTo("suite-7");
    }
    assertThat(lab.pool.reapExpired()).isEmpty();
  }

  @Test
  void lockManyTakesSeveralTypesSeparatedByCommasSpacesTabsOrBars() {
    lab.lockAs(BOB, "bob's", "smithi001", "smithi002", "smithi003");
    lab.pool.inventory().markUp(name("mira002")); // the only free machine of either type
    for (String types : List.of("smithi,mira", "smithi mira", "smithi\tmira", "smithi|mira")) {
      Lab.Result result = lab.run("--lock-many", "1", "-m", types);
      succeeded(result);
      assertThat(result.out()).as(types).contains(name("mira002"));
      succeeded(lab.run("--unlock", "mira002"));
    }
  }

  @Test
  void lockManyFiltersPhysicalMachinesByOs() {
    Lab.Result result =
        lab.run("--lock-many", "1", "-m", "smithi", "--os-type", "ubuntu", "--os-version", "20.04");
    succeeded(result);
    assertThat(result.out()).isEqualTo("targets:\n  " + name("smithi003") + ": null\n");
  }

  @Test
  void osVersionAloneFiltersPhysicalMachinesAsTeuthologyLock() {
    Lab.Result result = lab.run("--lock-many", "1", "-m", "smithi", "--os-version", "20.04");
    succeeded(result);
    assertThat(result.out()).isEqualTo("targets:\n  " + name("smithi003") + ": null\n");
    succeeded(lab.run("--lock", "--os-version", "22.04", "smithi002"));
    assertThat(lab.machine("smithi002").lockedBy()).isEqualTo(ME);
  }

  @Test
  void lockManyOfMoreThanAreFreeLocksNothing() {
    lab.lockAs(BOB, "bob's", "smithi002");
    List<Machine> before = lab.snapshot();

    failed(lab.run("--lock-many", "3", "-m", "smithi"), "only 2 smithi machines available");
    assertThat(lab.snapshot()).isEqualTo(before);

    failed(lab.run("--lock-many", "1", "-m", "nosuch"), "nosuch");
    assertThat(lab.snapshot()).isEqualTo(before);
  }

  @Test
  void updateSetsTheDescriptionAndTheStatus() {
    succeeded(lab.run("--update", "--desc", "reserved for upgrades", "smithi003"));
    assertThat(lab.machine("smithi003").description()).isEqualTo("reserved for upgrades");
    assertThat(lab.machine("smithi003").up()).isTrue();

    succeeded(lab.run("--update", "--status", "down", "smithi003"));
    assertThat(lab.machine("smithi003").up()).isFalse();
    assertThat(lab.machine("smithi003").description()).isEqualTo("reserved for upgrades");

    succeeded(lab.run("--update", "--status", "up", "smithi003"));
    assertThat(lab.machine("smithi003").up()).isTrue();

    succeeded(lab.run("--update", "--status", "down", "--desc", "fan failure", "smithi003"));
    assertThat(lab.machine("smithi003").up()).isFalse();
    assertThat(lab.machine("smithi003").description()).isEqualTo("fan failure");

    succeeded(lab.run("--update", "--status", "up", "--desc", "fan replaced", "smithi003"));
    assertThat(lab.machine("smithi003").up()).isTrue();
    assertThat(lab.machine("smithi003").description()).isEqualTo("fan replaced");
  }

  @Test
  void markingALockedMachineDownWithoutDescKeepsTheHoldersDescriptionForTheirUnlock() {
    lab.lockAs(BOB, "run-42/job-3", "smithi002");

    succeeded(lab.run("--update", "--status", "down", "smithi002"));

    Machine down = lab.machine("smithi002");
    assertThat(down.up()).isFalse();
    assertThat(down.lockedBy()).isEqualTo(BOB);
    assertThat(down.description()).isEqualTo("run-42/job-3");
    succeeded(lab.run("--unlock", "--owner", BOB, "--desc", "run-42/job-3", "smithi002"));
    assertThat(lab.machine("smithi002").locked()).isFalse();
  }

  @Test
  void updateOfAnUnknownMachineChangesNothing() {
    List<Machine> before = lab.snapshot();
    Lab.Result result = lab.run("--update", "--status", "down", "smithi003", "smithi999");
    assertThat(result.status()).isEqualTo(1);
    assertThat(result.errLines())
        .containsExactly(
            "machinepool: no machine named " + name("smithi999") + " in the inventory",
            "machinepool: nothing was updated");
    assertThat(lab.snapshot()).isEqualTo(before);
  }

  @Test
  void aTargetsFileNamesTheMachinesInEveryDocument(@TempDir Path dir) throws Exception {
    Path targets = dir.resolve("targets.yaml");
    Files.writeString(
        targets,
        "targets:\n  "
            + name("smithi001")
            + ": "
            + KEY
            + "\n---\nroles: [[mon.a]]\n---\ntargets:\n  ubuntu@"
            + name("smithi003")
            + ": null\n");

    succeeded(lab.run("--lock", "--desc", "from-file", "-t", targets.toString()));
    assertThat(lab.machine("smithi001").lockedBy()).isEqualTo(ME);
    assertThat(lab.machine("smithi003").lockedBy()).isEqualTo(ME);
    assertThat(lab.machine("smithi002").locked()).isFalse();

    Map<String, Map<String, String>> listed =
        new Yaml().load(lab.run("--list-targets", "--targets", targets.toString()).out());
    assertThat(listed.get("targets").keySet())
        .containsExactly(name("smithi001"), name("smithi003"));

    succeeded(lab.run("--unlock", "-t", targets.toString(), "smithi001"));
    assertThat(lab.machine("smithi001").locked()).isFalse();
    assertThat(lab.machine("smithi003").locked()).isFalse();
  }

  @Test
  void reapReleasesTheLeasesWhoseHolderStoppedRenewingThem() throws Exception {
    Severable database = new Severable(lab.url);
    MachinePool holder =
        MachinePool.builder()
            .dataSource(database)
            .leaseDuration(Duration.ofMillis(400))
            .heartbeatInterval(Duration.ofMillis(390)) // few failed heartbeats to log
            .releaseOnShutdown(false)
            .build();
    try {
      Lease lease =
          holder.lock(LockRequest.builder().owner("dave@crashed").names(name("smithi003")).build());
      assertThat(lease.expiresAt()).isPresent();
      database.severed = true; // the holder's heartbeat fails from now on, as if it had died
      Thread.sleep(800);

      Lab.Result reaped = lab.run("--reap");
      succeeded(reaped);
      assertThat(reaped.out())
          .isEqualTo(
              "released " + name("smithi003") + " (locked by dave@crashed): its lease expired\n");
      assertThat(lab.machine("smithi003").locked()).isFalse();

      Lab.Result nothing = lab.run("--reap");
      assertThat(nothing.status()).isZero();
      assertThat(nothing.out()).isEmpty();
      assertThat(nothing.err()).isEqualTo("no lease has expired; nothing was released\n");
    } finally {
      database.severed = false;
      holder.close();
    }
  }

  /** A data source that refuses connections once severed: a holder that lost its database. */
  private static final class Severable implements DataSource {
    private final JdbcDataSource h2 = new JdbcDataSource();
    volatile boolean severed;

    Severable(String url) {
      h2.setURL(url);
    }

    private void check() throws SQLException {
      if (severed) {
        throw new SQLException("severed by the test", "08001");
      }
    }

    @Override
    public Connection getConnection() throws SQLException {
      check();
      return h2.getConnection();
    }

    @Override
    public Connection getConnection(String user, String password) throws SQLException {
      check();
      return h2.getConnection(user, password);
    }

    @Override
    public PrintWriter getLogWriter() {
      return null;
    }

    @Override
    public void setLogWriter(PrintWriter out) {}

    @Override
    public void setLoginTimeout(int seconds) {}

    @Override
    public int getLoginTimeout() {
      return 0;
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
      throw new SQLFeatureNotSupportedException();
    }

    @Override
    public <T> T unwrap(Class<T> type) throws SQLException {
      throw new SQLException("not a wrapper");
    }

    @Override
    public boolean isWrapperFor(Class<?> type) {
      return false;
    }
  }
}
