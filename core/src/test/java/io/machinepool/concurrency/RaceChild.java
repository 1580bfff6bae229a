package io.machinepool.concurrency;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.machinepool.Lease;
import io.machinepool.LockRequest;
import io.machinepool.Machine;
import io.machinepool.MachinePool;
import io.machinepool.MachineQuery;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.h2.jdbcx.JdbcDataSource;

/**
 * The program the cross-process tests run in child JVMs. Two modes:
 *
 * <ul>
 *   <li>{@code race URL PREFIX LEDGER_DIR NAME THREADS MILLIS [unpooled]}: builds a pool on the
 *       database, prints {@code READY}, waits for {@code GO} on stdin, then runs {@link
 *       RaceWorker}s for that long with a {@link FileLedger} shared with the other children. Prints
 *       {@code TALLY ...}, then each {@code VIOLATION} and {@code PROBLEM}; exits 0 when there were
 *       none, 1 otherwise. With {@code unpooled} the pool is built on H2's own {@code
 *       JdbcDataSource}, which opens a connection (and so the database) for every unit of work;
 *       then the child first prints {@code STARTED} and waits for {@code OPEN} before it builds the
 *       pool (so that children open the file at the same moment), and at the end prints {@code
 *       DONE} when its workers are done and waits for {@code EXIT} before it closes the pool, so
 *       that a child that serves the file to the others ({@code AUTO_SERVER=TRUE}) does not leave
 *       while they still work on it, and it ends with {@code System.exit}, whose hooks let H2 close
 *       the database it serves.
 *   <li>{@code hold URL PREFIX OWNER TYPE COUNT LEASE_MILLIS}: locks COUNT machines of TYPE with
 *       that lease duration, prints {@code HOLDING TOKEN NAME,NAME,...} and keeps the lease (its
 *       heartbeat renewing it) until it is killed, or releases it and exits 0 on {@code RELEASE}.
 * </ul>
 *
 * Any failure exits 2; a closed stdin (the test is gone) exits 4; a watchdog ends a child that
 * outlives its purpose with 3.
 */
public final class RaceChild {
  private static final Duration WATCHDOG = Duration.ofMinutes(3);

  private RaceChild() {}

  /**
   * Runs one mode.
   *
   * @param args the mode and its arguments
   */
  public static void main(String[] args) {
    startWatchdog();
    int status;
    try {
      status =
          switch (args.length > 0 ? args[0] : "") {
            case "race" -> race(args);
            case "hold" -> hold(args);
            default -> {
              System.out.println("PROBLEM unknown mode; see the javadoc of RaceChild");
              yield 2;
            }
          };
    } catch (Throwable e) {
      System.out.println("PROBLEM " + RaceWorker.stackTrace(e));
      status = 2;
    }
    System.out.flush();
    if (args.length > 7 && args[0].equals("race") && args[7].equals("unpooled")) {
      System.exit(status); // H2's shutdown hook closes a database this JVM still serves
    }
    Runtime.getRuntime().halt(status);
  }

  private static int race(String[] args) throws Exception {
    String url = args[1];
    String prefix = args[2];
    Path ledgerDir = Path.of(args[3]);
    String name = args[4];
    int threads = Integer.parseInt(args[5]);
    Duration runFor = Duration.ofMillis(Long.parseLong(args[6]));
    boolean unpooled = args.length > 7 && args[7].equals("unpooled");
    Tally tally = new Tally();
    List<String> violations;
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    if (unpooled) {
      System.out.println("STARTED " + name);
      String open = in.readLine();
      if (!"OPEN".equals(open)) {
        System.out.println("PROBLEM expected OPEN on stdin, got " + open);
        return 4;
      }
    }
    try (HikariDataSource pooled = unpooled ? null : dataSource(url, threads + 3);
        MachinePool pool =
            MachinePool.builder()
                .dataSource(unpooled ? h2DataSource(url) : pooled)
                .tablePrefix(prefix)
                .build()) {
      List<Machine> machines = pool.machines(MachineQuery.all());
      List<String> names = machines.stream().map(Machine::name).toList();
      List<String> types = machines.stream().map(Machine::machineType).distinct().toList();
      try (FileLedger ledger = new FileLedger(ledgerDir, names)) {
        System.out.println("READY " + name + " " + names.size() + " machines");
        String go = in.readLine();
        if (!"GO".equals(go)) {
          System.out.println("PROBLEM expected GO on stdin, got " + go);
          return 4;
        }
        ExecutorService executor = Executors.newFixedThreadPool(threads);
        try {
          List<Future<?>> workers = new ArrayList<>();
          for (int t = 0; t < threads; t++) {
            workers.add(
                executor.submit(
                    new RaceWorker(
                        pool,
                        name + "-t" + t + "@race",
                        names,
                        types,
                        ledger,
                        tally,
                        System.nanoTime() ^ ((long) name.hashCode() << 16) ^ t,
                        runFor,
                        Integer.MAX_VALUE)));
          }
          for (Future<?> worker : workers) {
            worker.get(runFor.toMillis() + 60_000, TimeUnit.MILLISECONDS);
          }
        } finally {
          executor.shutdownNow();
        }
        violations = ledger.violations();
      }
      if (!pool.leases().isEmpty()) {
        tally.problem("leases still open at the end: " + pool.leases());
      }
      if (unpooled) {
        System.out.println("DONE " + name);
        String exit = in.readLine();
        if (!"EXIT".equals(exit)) {
          System.out.println("PROBLEM expected EXIT on stdin, got " + exit);
          return 4;
        }
      }
    }
    System.out.println("TALLY " + tally.line());
    violations.forEach(v -> System.out.println("VIOLATION " + v));
    tally.problems().forEach(p -> System.out.println("PROBLEM " + p));
    return violations.isEmpty() && tally.problems().isEmpty() ? 0 : 1;
  }

  private static int hold(String[] args) throws IOException {
    String url = args[1];
    String prefix = args[2];
    String owner = args[3];
    String type = args[4];
    int count = Integer.parseInt(args[5]);
    Duration lease = Duration.ofMillis(Long.parseLong(args[6]));
    try (HikariDataSource ds = dataSource(url, 3);
        MachinePool pool =
            MachinePool.builder().dataSource(ds).tablePrefix(prefix).leaseDuration(lease).build()) {
      Lease held =
          pool.lock(
              LockRequest.builder()
                  .owner(owner)
                  .description("held until killed")
                  .machineType(type)
                  .count(count)
                  .build());
      System.out.println("HOLDING " + held.token() + " " + String.join(",", held.names()));
      String command =
          new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
      if (!"RELEASE".equals(command)) {
        System.out.println("PROBLEM expected RELEASE or SIGKILL, got " + command);
        return 4;
      }
      held.close();
      return 0;
    }
  }

  private static DataSource h2DataSource(String url) {
    JdbcDataSource h2 = new JdbcDataSource();
    h2.setURL(url);
    return h2;
  }

  /** A connection pool of a child, on the database the test gives. */
  static HikariDataSource dataSource(String url, int size) {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(url);
    config.setMaximumPoolSize(size);
    config.setMinimumIdle(1);
    config.setConnectionTimeout(30_000);
    return new HikariDataSource(config);
  }

  /** Ends the child with status 3 should it outlive its purpose. */
  static void startWatchdog() {
    Thread watchdog =
        new Thread(
            () -> {
              try {
                Thread.sleep(WATCHDOG.toMillis());
              } catch (InterruptedException e) {
                return;
              }
              System.out.println("PROBLEM still running after " + WATCHDOG + "; giving up");
              System.out.flush();
              Runtime.getRuntime().halt(3);
            },
            "watchdog");
    watchdog.setDaemon(true);
    watchdog.start();
  }
}
