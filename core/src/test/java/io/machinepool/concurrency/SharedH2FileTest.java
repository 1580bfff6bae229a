package io.machinepool.concurrency;

import static org.assertj.core.api.Assertions.assertThat;

import io.machinepool.Machine;
import io.machinepool.MachinePool;
import io.machinepool.MachineQuery;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three JVMs, four threads each, on one H2 file in automatic mixed mode ({@code AUTO_SERVER=TRUE},
 * with {@code DB_CLOSE_DELAY=-1} so that the JVM that opened it first keeps serving it), each with
 * H2's own unpooled {@code JdbcDataSource}, as the command-line tool and the JUnit extension open
 * an H2 file. No JVM of the test holds the file for them, and all three open it at the same moment,
 * so that some meet it while another is still taking it and starting its server. Every open must
 * succeed (the library opens again while H2 says another process holds the file), and the ledger, a
 * set of files locked with {@code FileChannel.tryLock}, must never see a machine held twice.
 */
class SharedH2FileTest {
  private static final int CHILDREN = 3;
  private static final int THREADS_PER_CHILD = 4;
  private static final Duration RUN_FOR = Duration.ofSeconds(5);
  private static final String PREFIX = "shared_";

  @Test
  @Timeout(value = 180, unit = TimeUnit.SECONDS)
  void threeJvmsOpeningOneAutoServerFileAtOnceAllSucceedAndNeverShareAMachine(@TempDir Path dir)
      throws Exception {
    Path file = dir.resolve("lab");
    String shared = "jdbc:h2:file:" + file + ";AUTO_SERVER=TRUE;DB_CLOSE_DELAY=-1";
    List<String> names = Lab.names(6, 4);
    try (MachinePool pool = pool("jdbc:h2:file:" + file)) {
      Lab.add(pool, names); // closed again before the children start: nobody holds the file
    }
    Path ledger = dir.resolve("ledger");
    Files.createDirectories(ledger);
    List<ChildJvm> children = new ArrayList<>();
    try {
      for (int c = 0; c < CHILDREN; c++) {
        children.add(
            ChildJvm.start(
                "child" + c,
                dir,
                List.of(
                    "race",
                    shared,
                    PREFIX,
                    ledger.toString(),
                    "child" + c,
                    Integer.toString(THREADS_PER_CHILD),
                    Long.toString(RUN_FOR.toMillis()),
                    "unpooled")));
      }
      for (ChildJvm child : children) {
        child.awaitLine("STARTED", Duration.ofSeconds(60));
      }
      for (ChildJvm child : children) {
        child.send("OPEN"); // all build their pools, and so open the file, at once
      }
      for (ChildJvm child : children) {
        child.awaitLine("READY", Duration.ofSeconds(90));
      }
      for (ChildJvm child : children) {
        child.send("GO");
      }
      for (ChildJvm child : children) {
        child.awaitLine("DONE", RUN_FOR.plusSeconds(90));
      }
      for (ChildJvm child : children) {
        child.send("EXIT");
      }
      long total = 0;
      for (ChildJvm child : children) {
        int status = child.awaitExit(Duration.ofSeconds(60));
        assertThat(status)
            .as("exit status of %s, which printed:%n%s", child, child.transcript())
            .isZero();
        Tally tally = Tally.parse(child.awaitLine("TALLY", Duration.ofSeconds(5)));
        System.out.println("H2 AUTO_SERVER unpooled " + child + ": " + tally);
        assertThat(tally.locks()).as("successful locks of %s (%s)", child, tally).isPositive();
        total += tally.machinesLocked.sum();
      }
      try (MachinePool pool = pool("jdbc:h2:file:" + file)) { // closed when the pool is
        List<Machine> machines = pool.machines(MachineQuery.all());
        assertThat(machines).extracting(Machine::name).containsExactlyInAnyOrderElementsOf(names);
        assertThat(machines).filteredOn(Machine::locked).as("machines left locked").isEmpty();
        assertThat(machines.stream().mapToLong(Machine::generation).sum())
            .as("sum of fencing generations")
            .isEqualTo(total);
      }
    } finally {
      children.forEach(ChildJvm::close);
    }
  }

  private static MachinePool pool(String url) {
    JdbcDataSource h2 = new JdbcDataSource();
    h2.setURL(url);
    return MachinePool.builder()
        .dataSource(h2)
        .tablePrefix(PREFIX)
        .releaseOnShutdown(false)
        .build();
  }
}
