package io.machinepool.examples.benchmark;

import com.zaxxer.hikari.HikariDataSource;
import io.machinepool.Lease;
import io.machinepool.LockRequest;
import io.machinepool.MachinePool;
import io.machinepool.MachineQuery;
import io.machinepool.MachineSpec;
import io.machinepool.NotEnoughMachinesException;
import io.machinepool.Waiter;
import io.machinepool.examples.support.Directories;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.stream.IntStream;

/**
 * Measures whether a request for many machines starves while requests for one machine each keep the
 * lab busy: on H2 and on the PostgreSQL and MariaDB servers given by URL, and prints one row per
 * database.
 *
 * <p>The lab has {@value #MACHINES} physical machines of type {@value #TYPE}, in tables of their
 * own ({@value #PREFIX}<i>run</i>{@code _}, random for each run, dropped at the end, also when the
 * run is interrupted). {@value #SMALL_THREADS} small requesters each lock 1 machine ({@code
 * waitUpTo} {@value #SMALL_WAIT_SECONDS} s), hold it a uniformly random {@value #SMALL_HOLD_MIN_MS}
 * to {@value #SMALL_HOLD_MAX_MS} ms, close the lease and ask again at once. One big requester asks
 * for {@value #BIG} machines ({@code waitUpTo} from the settings, 20 s by default), holds them
 * {@value #BIG_HOLD_MS} ms when it gets them, closes the lease, pauses {@value #BIG_PAUSE_MS} ms
 * and asks again, until it has made its number of requests (10 by default); then the scenario ends.
 * The big requester starts once every small requester has had a machine, so that its first request
 * meets a busy lab, as every later one does; the scenario's time and the small requesters' count
 * start then too. All requests have the same priority unless the settings give the big ones
 * another.
 *
 * <p>Each requester has a {@link MachinePool} of its own, on a HikariCP data source of its own of
 * {@value #CONNECTIONS_PER_POOL} connections, as requesters in separate JVMs would; none shares
 * anything with another but the database.
 *
 * <p>Recorded: for each big request its wait (from calling {@code lock} to the lease or the
 * exception) and its outcome (granted, {@code NotEnoughMachinesException}, another exception); the
 * small requesters' locks granted during the scenario, and per second. One more pool reads the
 * queue ({@code MachinePool.waiters()}) every {@value #QUEUE_POLL_MS} ms, and a big request's
 * <i>time at head</i> is from the first answer that shows its owner at position 1 until the request
 * ends (granted or not).
 *
 * <p>Settings: see {@link StarvationSettings}. The table goes to standard output and is appended to
 * a file ({@code target/starvation-benchmark.md} by default).
 */
public final class StarvationBenchmark {
  /** Start of the table prefix, before the run's random part. */
  public static final String PREFIX = "bench_starve_";

  /** The machine type of the lab. */
  public static final String TYPE = "smithi";

  /** How many machines the lab has. */
  public static final int MACHINES = 6;

  /** How many small requesters run. */
  public static final int SMALL_THREADS = 4;

  /** How many machines a big request asks for. */
  public static final int BIG = 5;

  /** The {@code waitUpTo} of a small request, in seconds. */
  public static final int SMALL_WAIT_SECONDS = 60;

  /** The shortest time a small requester holds its machine, in milliseconds. */
  public static final int SMALL_HOLD_MIN_MS = 100;

  /** The longest time a small requester holds its machine, in milliseconds. */
  public static final int SMALL_HOLD_MAX_MS = 300;

  /** How long the big requester holds its machines, in milliseconds. */
  public static final int BIG_HOLD_MS = 200;

  /** How long the big requester pauses after closing its lease or failing, in milliseconds. */
  public static final int BIG_PAUSE_MS = 100;

  /** How often the queue is read, where the library has one, in milliseconds. */
  public static final int QUEUE_POLL_MS = 10;

  /** Rounds of the wake-up measurement. */
  public static final int WAKE_UPS = 20;

  /** The size of each requester's connection pool. */
  public static final int CONNECTIONS_PER_POOL = 2;

  /** The owner of the big requests. */
  public static final String BIG_OWNER = "big@bench";

  /** How a big request ended. */
  enum Outcome {
    GRANTED,
    NOT_ENOUGH,
    OTHER
  }

  /**
   * One big request.
   *
   * @param number from 1
   * @param outcome how it ended
   * @param waitNanos from calling lock to the lease or the exception
   * @param atHeadNanos from the first sight of it at the head of the queue to its end; -1 when it
   *     was never seen there or the queue cannot be read
   * @param error the exception, or {@code null}
   */
  record BigRequest(int number, Outcome outcome, long waitNanos, long atHeadNanos, String error) {}

  /**
   * One database's row.
   *
   * @param database its label
   * @param big the big requests, in order
   * @param smallGranted small locks granted during the scenario
   * @param smallFailed small requests that threw
   * @param seconds the scenario's length
   * @param firstSmallError the first small failure, or {@code null}
   * @param queueErrors reads of the queue that failed
   */
  record Row(
      String database,
      List<BigRequest> big,
      long smallGranted,
      long smallFailed,
      double seconds,
      String firstSmallError,
      long queueErrors) {
    long count(Outcome outcome) {
      return big.stream().filter(r -> r.outcome() == outcome).count();
    }
  }

  /** The big request in flight, for the queue reader: when it began, when it was first at head. */
  private static final class Watch {
    final long startNanos;
    final AtomicLong headSince = new AtomicLong(Long.MIN_VALUE);

    Watch(long startNanos) {
      this.startNanos = startNanos;
    }
  }

  private final StarvationSettings settings;
  private final BenchDatabase database;
  private final PrintStream out;
  private final String prefix;

  private StarvationBenchmark(
      StarvationSettings settings, BenchDatabase database, PrintStream out) {
    this.settings = settings;
    this.database = database;
    this.out = out;
    this.prefix = PREFIX + BenchDatabase.runId() + "_";
  }

  /**
   * Runs the benchmark.
   *
   * @param args settings, each {@code --key=value}; see {@link StarvationSettings}, and {@code
   *     --only} of {@link Selection}
   * @throws Exception when a database fails
   */
  public static void main(String[] args) throws Exception {
    Selection selection = Selection.parse(args);
    if (!selection.runs(Selection.STARVATION)) {
      System.out.println(
          "machinepool starvation benchmark: skipped, only " + selection.only() + " runs");
      return;
    }
    StarvationSettings settings = StarvationSettings.parse(selection.args());
    BenchmarkArguments.defaultLogLevel(settings.servers().logLevel());
    PrintStream out = System.out;
    String title =
        String.format(
            Locale.ROOT,
            "machinepool starvation benchmark, %s: %d cores, Java %s, %s %s; %d %s, %d small"
                + " requesters (1 machine, hold %d-%d ms), 1 big requester (%d machines, %d"
                + " requests, waitUpTo %s s, hold %d ms, pause %d ms, priority %s); a pool of %d"
                + " connections per requester; load average %.1f",
            Instant.now().truncatedTo(ChronoUnit.SECONDS),
            Runtime.getRuntime().availableProcessors(),
            System.getProperty("java.version"),
            System.getProperty("os.name"),
            System.getProperty("os.arch"),
            MACHINES,
            TYPE,
            SMALL_THREADS,
            SMALL_HOLD_MIN_MS,
            SMALL_HOLD_MAX_MS,
            BIG,
            settings.requests(),
            settings.bigWait().toMillis() / 1000.0,
            BIG_HOLD_MS,
            BIG_PAUSE_MS,
            settings.bigPriority() == null ? "default" : settings.bigPriority(),
            CONNECTIONS_PER_POOL,
            loadAverage());
    out.println(title);
    List<Row> rows = new ArrayList<>();
    for (String name : settings.servers().databases()) {
      switch (name) {
        case "h2" -> rows.add(runH2(settings, out));
        default -> {
          BenchDatabase server = settings.servers().server(name, out);
          if (server != null) {
            rows.add(new StarvationBenchmark(settings, server, out).run());
          }
        }
      }
    }
    List<String> table = new ArrayList<>();
    table.add(HEADER);
    table.add(RULE);
    rows.forEach(row -> table.add(format(row)));
    out.println();
    table.forEach(out::println);
    append(settings.output(), title, table);
    out.println("appended to " + settings.output());
  }

  private static Row runH2(StarvationSettings settings, PrintStream out) throws Exception {
    BenchDatabase given = settings.servers().givenH2();
    if (given != null) {
      return new StarvationBenchmark(settings, given, out).run();
    }
    Path dir = Files.createTempDirectory("machinepool-starve");
    try (ShutdownHook hook =
        ShutdownHook.add("bench-h2-cleanup", () -> Directories.deleteTree(dir))) {
      String url = "jdbc:h2:file:" + dir.resolve("bench").toAbsolutePath();
      return new StarvationBenchmark(
              settings, new BenchDatabase("h2", url, BenchDatabase.Kind.H2), out)
          .run();
    } finally {
      Directories.deleteTree(dir);
    }
  }

  private Row run() throws Exception {
    List<HikariDataSource> dataSources = new ArrayList<>();
    List<MachinePool> pools = new ArrayList<>();
    try (HikariDataSource admin = database.pool("starve-admin", 1, false)) {
      out.printf(
          Locale.ROOT,
          "%n%s: %s, tables %s*; load average %.1f%n",
          database.label(),
          BenchDatabase.version(admin),
          prefix,
          loadAverage());
      try (ShutdownHook hook = ShutdownHook.add("bench-table-cleanup", () -> dropQuietly(admin))) {
        MachinePool big = pool("starve-big", dataSources, pools);
        big.inventory()
            .addAll(
                IntStream.rangeClosed(1, MACHINES)
                    .mapToObj(i -> MachineSpec.physical(machineName(i), TYPE))
                    .toList());
        List<MachinePool> small = new ArrayList<>();
        for (int i = 1; i <= SMALL_THREADS; i++) {
          small.add(pool("starve-small-" + i, dataSources, pools));
        }
        Supplier<List<Waiter>> queue = pool("starve-queue", dataSources, pools)::waiters;
        out.println(
            "  the queue is read every " + QUEUE_POLL_MS + " ms through MachinePool.waiters()");
        Row row = scenario(big, small, queue);
        wakeUp(small.get(0), big);
        long locked = big.machines(MachineQuery.builder().locked(true).build()).size();
        if (locked != 0) {
          out.printf("  %d machines left locked at the end%n", locked);
        }
        out.println(HEADER);
        out.println(RULE);
        out.println(format(row));
        return row;
      } finally {
        for (MachinePool pool : pools) {
          pool.close();
        }
        dataSources.forEach(HikariDataSource::close);
        database.dropTables(admin, prefix);
      }
    }
  }

  /** A pool of its own for one requester, on a data source of its own. */
  private MachinePool pool(
      String name, List<HikariDataSource> dataSources, List<MachinePool> pools) {
    HikariDataSource dataSource = database.pool(name, CONNECTIONS_PER_POOL, false);
    dataSources.add(dataSource);
    MachinePool pool = MachinePool.builder().dataSource(dataSource).tablePrefix(prefix).build();
    pools.add(pool);
    return pool;
  }

  /**
   * How soon a waiter at the head of the queue learns that another process freed a machine: the
   * waiter and the holder use different pools (no pool wakes the other's waiters; only the queue's
   * polling does), so the time from the holder's {@code close()} returning to the waiter's {@code
   * lock} returning is the cross-process wake-up plus one lock. {@value #WAKE_UPS} rounds.
   */
  private void wakeUp(MachinePool holder, MachinePool waiter) throws Exception {
    List<Long> latencies = new ArrayList<>();
    ExecutorService thread = Executors.newSingleThreadExecutor();
    try {
      for (int round = 0; round < WAKE_UPS; round++) {
        List<Lease> held = new ArrayList<>();
        for (int i = 1; i <= MACHINES; i++) {
          held.add(
              holder.lock(
                  LockRequest.builder().owner("holder@bench").names(machineName(i)).build()));
        }
        Future<Long> granted =
            thread.submit(
                () -> {
                  try (Lease lease =
                      waiter.lock(
                          LockRequest.builder()
                              .owner("waiter@bench")
                              .machineType(TYPE)
                              .count(1)
                              .waitUpTo(Duration.ofSeconds(30))
                              .build())) {
                    return System.nanoTime();
                  }
                });
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (holder.waiters().isEmpty() && System.nanoTime() < until) {
          Thread.sleep(5);
        }
        // A random moment within the waiter's poll cycle.
        Thread.sleep(ThreadLocalRandom.current().nextInt(50));
        held.get(0).close();
        long freed = System.nanoTime();
        latencies.add(granted.get(30, TimeUnit.SECONDS) - freed);
        held.subList(1, held.size()).forEach(Lease::close);
      }
    } finally {
      thread.shutdownNow();
    }
    List<Long> sorted = latencies.stream().sorted().toList();
    out.printf(
        Locale.ROOT,
        "  wake-up across pools (%d rounds): min %.1f ms, median %.1f ms, max %.1f ms%n",
        WAKE_UPS,
        sorted.get(0) / 1e6,
        median(sorted) / 1e6,
        sorted.get(sorted.size() - 1) / 1e6);
  }

  private Row scenario(MachinePool big, List<MachinePool> small, Supplier<List<Waiter>> queue)
      throws InterruptedException {
    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong smallGranted = new AtomicLong();
    AtomicLong smallFailed = new AtomicLong();
    AtomicReference<String> firstSmallError = new AtomicReference<>();
    AtomicReference<Watch> watch = new AtomicReference<>();
    AtomicLong queueErrors = new AtomicLong();
    CountDownLatch go = new CountDownLatch(1);
    CountDownLatch busy = new CountDownLatch(small.size());
    CountDownLatch started = new CountDownLatch(1);
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < small.size(); i++) {
      MachinePool pool = small.get(i);
      LockRequest request =
          LockRequest.builder()
              .owner("small-" + (i + 1) + "@bench")
              .machineType(TYPE)
              .count(1)
              .waitUpTo(Duration.ofSeconds(SMALL_WAIT_SECONDS))
              .build();
      threads.add(
          new Thread(
              () -> {
                await(go);
                ThreadLocalRandom random = ThreadLocalRandom.current();
                while (!stop.get()) {
                  try (Lease lease = pool.lock(request)) {
                    if (started.getCount() == 0 && !stop.get()) {
                      smallGranted.incrementAndGet();
                    }
                    busy.countDown();
                    Thread.sleep(random.nextInt(SMALL_HOLD_MIN_MS, SMALL_HOLD_MAX_MS + 1));
                  } catch (InterruptedException e) {
                    return;
                  } catch (RuntimeException e) {
                    smallFailed.incrementAndGet();
                    firstSmallError.compareAndSet(null, e.toString());
                    try {
                      Thread.sleep(BIG_PAUSE_MS); // no busy loop on a database that fails at once
                    } catch (InterruptedException interrupted) {
                      return;
                    }
                  }
                }
              },
              "starve-small-" + (i + 1)));
    }
    Supplier<List<Waiter>> reader = queue;
    threads.add(
        new Thread(
            () -> {
              await(go);
              while (!stop.get()) {
                long asked = System.nanoTime();
                try {
                  List<Waiter> entries = reader.get();
                  long answered = System.nanoTime();
                  Watch current = watch.get();
                  if (current != null
                      && asked >= current.startNanos
                      && entries.stream()
                          .anyMatch(e -> e.position() == 1 && BIG_OWNER.equals(e.owner()))) {
                    current.headSince.compareAndSet(Long.MIN_VALUE, answered);
                  }
                } catch (RuntimeException e) {
                  if (queueErrors.getAndIncrement() == 0) {
                    out.println("  reading the queue failed: " + e);
                  }
                }
                long left = asked + QUEUE_POLL_MS * 1_000_000L - System.nanoTime();
                if (left > 0) {
                  try {
                    Thread.sleep(left / 1_000_000L, (int) (left % 1_000_000L));
                  } catch (InterruptedException e) {
                    return;
                  }
                }
              }
            },
            "starve-queue"));
    LockRequest.Builder builder =
        LockRequest.builder()
            .owner(BIG_OWNER)
            .machineType(TYPE)
            .count(BIG)
            .waitUpTo(settings.bigWait());
    if (settings.bigPriority() != null) {
      builder.priority(settings.bigPriority());
    }
    LockRequest bigRequest = builder.build();
    threads.forEach(Thread::start);
    List<BigRequest> requests = new ArrayList<>();
    go.countDown();
    long start;
    try {
      // The big requester starts once every small one has had a machine: into a busy lab.
      if (!busy.await(SMALL_WAIT_SECONDS, TimeUnit.SECONDS)) {
        throw new IllegalStateException("the small requesters got no machines in time");
      }
      start = System.nanoTime();
      started.countDown();
      for (int n = 1; n <= settings.requests(); n++) {
        Watch current = new Watch(System.nanoTime());
        watch.set(current);
        Outcome outcome;
        String error = null;
        Lease lease = null;
        try {
          lease = big.lock(bigRequest);
          outcome = Outcome.GRANTED;
        } catch (NotEnoughMachinesException e) {
          outcome = Outcome.NOT_ENOUGH;
        } catch (RuntimeException e) {
          outcome = Outcome.OTHER;
          error = e.toString();
        }
        long end = System.nanoTime();
        watch.set(null);
        long headSince = current.headSince.get();
        long atHead = headSince == Long.MIN_VALUE ? -1 : Math.max(0, end - headSince);
        BigRequest request = new BigRequest(n, outcome, end - current.startNanos, atHead, error);
        requests.add(request);
        out.printf(
            Locale.ROOT,
            "  big request %2d: %-10s after %6d ms, at head %s%s%n",
            n,
            outcome.name().toLowerCase(Locale.ROOT).replace('_', ' '),
            millis(request.waitNanos()),
            atHead < 0 ? "never seen" : millis(atHead) + " ms",
            error == null ? "" : ": " + error);
        if (lease != null) {
          Thread.sleep(BIG_HOLD_MS);
          lease.close();
        }
        if (n < settings.requests()) {
          Thread.sleep(BIG_PAUSE_MS);
        }
      }
    } finally {
      stop.set(true);
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    for (Thread thread : threads) {
      thread.join();
    }
    return new Row(
        database.label(),
        requests,
        smallGranted.get(),
        smallFailed.get(),
        seconds,
        firstSmallError.get(),
        queueErrors.get());
  }

  private static void await(CountDownLatch go) {
    try {
      go.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static String machineName(int i) {
    return String.format(Locale.ROOT, "%s%03d", TYPE, i);
  }

  /**
   * For the shutdown hook of an interrupted run: drops the tables, reporting instead of throwing.
   */
  private void dropQuietly(HikariDataSource admin) {
    try {
      database.dropTables(admin, prefix);
      System.err.println("benchmark interrupted; dropped its tables on " + database.label());
    } catch (SQLException | RuntimeException e) {
      System.err.println(
          "benchmark interrupted; could not drop its tables "
              + prefix
              + "* on "
              + database.label()
              + ": "
              + e);
    }
  }

  private static void append(Path file, String title, List<String> table) throws IOException {
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    List<String> lines = new ArrayList<>();
    lines.add("");
    lines.add(title);
    lines.add("");
    lines.addAll(table);
    Files.write(
        file, lines, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
  }

  private static final String HEADER =
      "| database   | big requests | granted | not enough | other | wait min ms | wait median ms |"
          + " wait max ms | at head min ms | at head median ms | at head max ms | small locks/s |"
          + " small locks | small failed | seconds |";
  private static final String RULE =
      "|------------|-------------:|--------:|-----------:|------:|------------:|---------------:|"
          + "------------:|---------------:|------------------:|---------------:|--------------:|"
          + "------------:|-------------:|--------:|";

  private static String format(Row row) {
    List<Long> waits = row.big().stream().map(BigRequest::waitNanos).sorted().toList();
    List<Long> atHead =
        row.big().stream().map(BigRequest::atHeadNanos).filter(t -> t >= 0).sorted().toList();
    String[] head =
        atHead.isEmpty()
            ? new String[] {"-", "-", "-"}
            : new String[] {
              Long.toString(millis(atHead.get(0))),
              Long.toString(millis(median(atHead))),
              Long.toString(millis(atHead.get(atHead.size() - 1)))
            };
    return String.format(
        Locale.ROOT,
        "| %-10s | %12d | %7d | %10d | %5d | %11d | %14d | %11d | %14s | %17s | %14s | %13.1f |"
            + " %11d | %12d | %7.1f |%s",
        row.database(),
        row.big().size(),
        row.count(Outcome.GRANTED),
        row.count(Outcome.NOT_ENOUGH),
        row.count(Outcome.OTHER),
        millis(waits.get(0)),
        millis(median(waits)),
        millis(waits.get(waits.size() - 1)),
        head[0],
        head[1],
        head[2],
        row.smallGranted() / row.seconds(),
        row.smallGranted(),
        row.smallFailed(),
        row.seconds(),
        notes(row));
  }

  private static String notes(Row row) {
    StringBuilder notes = new StringBuilder();
    row.big().stream()
        .filter(r -> r.error() != null)
        .findFirst()
        .ifPresent(r -> notes.append(" first big error: ").append(r.error()));
    if (row.firstSmallError() != null) {
      notes.append(" first small error: ").append(row.firstSmallError());
    }
    if (row.queueErrors() > 0) {
      notes.append(" queue reads failed: ").append(row.queueErrors());
    }
    return notes.toString();
  }

  /** The median of sorted values: the middle one, or the mean of the two in the middle. */
  private static long median(List<Long> sorted) {
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }

  private static long millis(long nanos) {
    return Math.round(nanos / 1e6);
  }

  /** The system load average of the last minute, or -1 where the platform does not tell. */
  private static double loadAverage() {
    return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
  }
}
