package io.machinepool.concurrency;

import com.zaxxer.hikari.HikariDataSource;
import io.machinepool.Lease;
import io.machinepool.LockRequest;
import io.machinepool.MachinePool;
import io.machinepool.PoolListener;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;

/**
 * The program the queue's cross-process tests run in child JVMs. Two modes:
 *
 * <ul>
 *   <li>{@code wait URL PREFIX OWNER TYPE COUNT}: asks for COUNT machines of TYPE, waiting up to
 *       two minutes; prints {@code WAITING} once its request is in the queue and {@code GRANTED
 *       NAME,NAME,...} when served, then holds the lease until {@code RELEASE} on stdin (exits 0)
 *       or until it is killed.
 *   <li>{@code fair URL PREFIX NAME THREADS MILLIS TYPE}: for that long, each thread asks for 1 to
 *       3 machines of TYPE at a priority of 100 or 1000, waiting as long as it takes, holds them 10
 *       to 60 ms and closes the lease; every step is written to the table {@code PREFIX ledger}
 *       (see {@link QueueLedger}) in its own statement, before the call it records when it is a
 *       call, after it when it is an outcome. Prints {@code DONE N} with the number of requests
 *       served and exits 0, or prints {@code PROBLEM ...} and exits 1.
 * </ul>
 *
 * Any failure exits 2; a watchdog ends a child that outlives its purpose with 3 (see {@link
 * RaceChild#startWatchdog()}).
 */
public final class QueueChild {
  private QueueChild() {}

  /**
   * Runs one mode.
   *
   * @param args the mode and its arguments
   */
  public static void main(String[] args) {
    RaceChild.startWatchdog();
    int status;
    try {
      status =
          switch (args.length > 0 ? args[0] : "") {
            case "wait" -> waitFor(args);
            case "fair" -> fair(args);
            default -> {
              System.out.println("PROBLEM unknown mode; see the javadoc of QueueChild");
              yield 2;
            }
          };
    } catch (Throwable e) {
      System.out.println("PROBLEM " + RaceWorker.stackTrace(e));
      status = 2;
    }
    System.out.flush();
    Runtime.getRuntime().halt(status);
  }

  private static int waitFor(String[] args) throws Exception {
    try (HikariDataSource ds = RaceChild.dataSource(args[1], 3);
        MachinePool pool =
            MachinePool.builder()
                .dataSource(ds)
                .tablePrefix(args[2])
                .listener(
                    new PoolListener() {
                      @Override
                      public void waiting(LockRequest request) {
                        System.out.println("WAITING");
                      }
                    })
                .build()) {
      Lease held =
          pool.lock(
              LockRequest.builder()
                  .owner(args[3])
                  .machineType(args[4])
                  .count(Integer.parseInt(args[5]))
                  .waitUpTo(Duration.ofMinutes(2))
                  .build());
      System.out.println("GRANTED " + String.join(",", held.names()));
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

  private static int fair(String[] args) throws Exception {
    String url = args[1];
    String prefix = args[2];
    String name = args[3];
    int threads = Integer.parseInt(args[4]);
    long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Long.parseLong(args[5]));
    String type = args[6];
    AtomicInteger served = new AtomicInteger();
    try (HikariDataSource ds = RaceChild.dataSource(url, threads * 2 + 2);
        MachinePool pool =
            MachinePool.builder()
                .dataSource(ds)
                .tablePrefix(prefix)
                .listener(
                    new PoolListener() {
                      @Override
                      public void waiting(LockRequest request) {
                        record(ds, prefix, request.description(), "joined", request, null);
                      }
                    })
                .build()) {
      ExecutorService executor = Executors.newFixedThreadPool(threads);
      try {
        List<Future<?>> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          String requester = name + "-t" + t;
          SplittableRandom random = new SplittableRandom(System.nanoTime() ^ requester.hashCode());
          workers.add(
              executor.submit(
                  () -> {
                    for (int n = 0; System.nanoTime() < until; n++) {
                      LockRequest request =
                          LockRequest.builder()
                              .owner(requester + "@fair")
                              .description(requester + "-" + n)
                              .machineType(type)
                              .count(1 + random.nextInt(3))
                              .priority(random.nextInt(4) == 0 ? 100 : 1000)
                              .waitUpTo(Duration.ofSeconds(90))
                              .build();
                      record(ds, prefix, request.description(), "asked", request, null);
                      Lease lease = pool.lock(request);
                      record(
                          ds,
                          prefix,
                          request.description(),
                          "granted",
                          request,
                          String.join(",", lease.names()));
                      Thread.sleep(10 + random.nextInt(50));
                      record(ds, prefix, request.description(), "releasing", request, null);
                      lease.close();
                      served.incrementAndGet();
                    }
                    return null;
                  }));
        }
        for (Future<?> worker : workers) {
          worker.get(3, TimeUnit.MINUTES);
        }
      } finally {
        executor.shutdownNow();
      }
    }
    System.out.println("DONE " + served.get());
    return 0;
  }

  private static void record(
      DataSource ds,
      String prefix,
      String requestId,
      String event,
      LockRequest request,
      String machines) {
    String sql =
        "INSERT INTO "
            + prefix
            + "ledger (request, event, priority, machine_count, machines) VALUES (?, ?, ?, ?, ?)";
    try (Connection c = ds.getConnection();
        PreparedStatement insert = c.prepareStatement(sql)) {
      insert.setString(1, requestId);
      insert.setString(2, event);
      insert.setInt(3, request.priority());
      insert.setInt(4, request.count());
      insert.setString(5, machines);
      insert.executeUpdate();
    } catch (SQLException e) {
      throw new IllegalStateException("cannot write the ledger", e);
    }
  }
}
