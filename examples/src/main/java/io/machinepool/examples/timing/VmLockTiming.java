package io.machinepool.examples.timing;

import io.machinepool.Lease;
import io.machinepool.LockRequest;
import io.machinepool.MachinePool;
import io.machinepool.MachineQuery;
import io.machinepool.MachineSpec;
import io.machinepool.config.TeuthologyConfig;
import io.machinepool.downburst.DownburstProvisioner;
import io.machinepool.examples.support.Directories;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import org.h2.jdbcx.JdbcDataSource;

/**
 * Measures the wall time of locking VM slots whose {@code downburst create} takes a fixed time: 1
 * VM, then 10 VMs spread over 5 VM hosts in one request. The pool provisions the VMs of a request
 * in parallel, at most {@code perVmHostLimit} (default 4) at once on one VM host, so 10 VMs (2 per
 * host) should take about as long as 1, not 10 times as long.
 *
 * <p>It needs no lab: it writes a stand-in {@code downburst} (a small shell script whose {@code
 * create} sleeps, whose {@code destroy} succeeds at once and whose {@code list-json} prints a few
 * Ubuntu releases) into a temporary directory, and keeps the pool in an in-memory H2 database. Each
 * measurement runs several times after one warm-up lock; the table gives median, min and max.
 *
 * <p>Run it with {@code mvn -q -pl examples -am verify -Pvm-timing -DskipTests}. Arguments: {@code
 * --repetitions N} (default 5) and {@code --create-seconds S} (default 2).
 */
public final class VmLockTiming {
  static final String DOMAIN = ".front.sepia.ceph.com";
  static final int VM_HOSTS = 5;
  static final int VMS = 10;

  private VmLockTiming() {}

  /**
   * Runs the measurement and prints the table.
   *
   * @param args {@code --repetitions N}, {@code --create-seconds S}
   * @throws IOException when the stand-in downburst cannot be written
   */
  public static void main(String[] args) throws IOException {
    int repetitions = 5;
    double createSeconds = 2;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--repetitions" -> repetitions = Integer.parseInt(value(args, ++i));
        case "--create-seconds" -> createSeconds = Double.parseDouble(value(args, ++i));
        default ->
            throw new IllegalArgumentException(
                "unknown argument " + args[i] + "; use --repetitions N, --create-seconds S");
      }
    }
    if (repetitions < 1 || createSeconds < 0) {
      throw new IllegalArgumentException("--repetitions must be at least 1, --create-seconds >= 0");
    }
    run(repetitions, createSeconds, System.out);
  }

  private static String value(String[] args, int i) {
    if (i >= args.length) {
      throw new IllegalArgumentException(args[i - 1] + " needs a value");
    }
    return args[i];
  }

  static void run(int repetitions, double createSeconds, PrintStream out) throws IOException {
    Path work = Files.createTempDirectory("machinepool-vm-timing-");
    try {
      Path downburst = writeFakeDownburst(work, createSeconds);
      JdbcDataSource dataSource = new JdbcDataSource();
      dataSource.setURL("jdbc:h2:mem:vm-timing-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
      DownburstProvisioner provisioner =
          DownburstProvisioner.builder()
              .config(TeuthologyConfig.parse("downburst:\n  path: '" + downburst + "'\n", null))
              .checkLibvirtAliases(false)
              .createAttempts(1)
              .createTimeout(Duration.ofMinutes(1))
              .build();
      try (MachinePool pool =
          MachinePool.builder()
              .dataSource(dataSource)
              .provisioner(provisioner)
              .releaseOnShutdown(false)
              .build()) {
        List<MachineSpec> slots = new ArrayList<>();
        for (int n = 1; n <= VMS; n++) {
          int host = (n - 1) % VM_HOSTS + 1;
          slots.add(
              MachineSpec.vm(String.format("vpm%03d", n) + DOMAIN, "vps", mira(host))
                  .withMacAddress(String.format("52:54:00:00:%02x:%02x", host, n)));
        }
        pool.inventory().addAll(slots);

        out.printf(
            Locale.ROOT,
            "machinepool VM lock timing: a stand-in downburst whose create takes %.1f s;%n"
                + "%d VM slots on %d VM hosts, perVmHostLimit 4 (the default), embedded H2.%n"
                + "Each figure is the wall time of pool.lock(...) returning the lease"
                + " (and of lease.close());%n"
                + "%d repetitions after one warm-up lock.%n%n",
            createSeconds,
            VMS,
            VM_HOSTS,
            repetitions);

        time(pool, 1); // warm-up: class loading, JIT, the cached list-json
        List<Duration> lockOne = new ArrayList<>();
        List<Duration> closeOne = new ArrayList<>();
        List<Duration> lockTen = new ArrayList<>();
        List<Duration> closeTen = new ArrayList<>();
        for (int r = 0; r < repetitions; r++) {
          Duration[] one = time(pool, 1);
          lockOne.add(one[0]);
          closeOne.add(one[1]);
          Duration[] ten = time(pool, VMS);
          lockTen.add(ten[0]);
          closeTen.add(ten[1]);
        }

        out.printf(Locale.ROOT, "%-34s %9s %9s %9s%n", "wall time", "median", "min", "max");
        row(out, "lock 1 VM", lockOne);
        row(out, "lock 10 VMs on 5 VM hosts", lockTen);
        row(out, "close 1 VM (destroy, unlock)", closeOne);
        row(out, "close 10 VMs (destroy, unlock)", closeTen);
        out.println();
        out.printf(
            Locale.ROOT,
            "10 VMs one after the other would take at least %.1f s; in parallel they took %.2fx"
                + " the time of 1 VM (medians).%n",
            VMS * createSeconds,
            seconds(median(lockTen)) / seconds(median(lockOne)));
        int locked = pool.machines(MachineQuery.builder().locked(true).build()).size();
        if (locked != 0) {
          throw new IllegalStateException(locked + " machines still locked after the run");
        }
      }
    } finally {
      Directories.deleteTree(work);
    }
  }

  private static String mira(int n) {
    return String.format("mira%03d", n) + DOMAIN;
  }

  /** Locks {@code count} VM slots and closes the lease; returns both wall times. */
  private static Duration[] time(MachinePool pool, int count) {
    LockRequest request =
        LockRequest.builder()
            .owner("timing@localhost")
            .description("vm-timing")
            .machineType("vps")
            .count(count)
            .os("ubuntu", "22.04")
            .build();
    long started = System.nanoTime();
    Lease lease = pool.lock(request);
    long locked = System.nanoTime();
    if (lease.machines().size() != count) {
      throw new IllegalStateException("locked " + lease.names() + ", wanted " + count);
    }
    lease.close();
    long closed = System.nanoTime();
    return new Duration[] {Duration.ofNanos(locked - started), Duration.ofNanos(closed - locked)};
  }

  private static void row(PrintStream out, String what, List<Duration> times) {
    List<Duration> sorted = times.stream().sorted().toList();
    out.printf(
        Locale.ROOT,
        "%-34s %7.2f s %7.2f s %7.2f s%n",
        what,
        seconds(median(sorted)),
        seconds(sorted.get(0)),
        seconds(sorted.get(sorted.size() - 1)));
  }

  private static Duration median(List<Duration> times) {
    List<Duration> sorted = times.stream().sorted().toList();
    int n = sorted.size();
    return n % 2 == 1
        ? sorted.get(n / 2)
        : sorted.get(n / 2 - 1).plus(sorted.get(n / 2)).dividedBy(2);
  }

  private static double seconds(Duration d) {
    return d.toNanos() / 1e9;
  }

  /**
   * Writes the stand-in downburst: {@code create} sleeps, then exits 0; {@code destroy} exits 0;
   * {@code list-json} prints the Ubuntu releases downburst knows. Like the real tool, it prints
   * nothing on success.
   */
  static Path writeFakeDownburst(Path directory, double createSeconds) {
    String script =
        """
        #!/bin/sh
        # A stand-in for downburst that provisions nothing: create takes @SECONDS@ s.
        skip=
        for a in "$@"; do
          if [ -n "$skip" ]; then skip=; continue; fi
          case "$a" in
            -c|-l|--connect|--logfile) skip=1 ;;
            -*) ;;
            *) sub="$a"; break ;;
          esac
        done
        case "$sub" in
          create) sleep @SECONDS@; exit 0 ;;
          destroy) exit 0 ;;
          list-json) echo '{"ubuntu": ["20.04(focal)", "22.04(jammy)", "24.04(noble)"]}'; exit 0 ;;
          *) echo "usage: downburst [-h] [-v] [-c URI] COMMAND ..." >&2; exit 2 ;;
        esac
        """
            .replace("@SECONDS@", String.format(Locale.ROOT, "%.3f", createSeconds));
    Path executable = directory.resolve("downburst");
    try {
      Files.writeString(executable, script, StandardCharsets.UTF_8);
      Files.setPosixFilePermissions(executable, PosixFilePermissions.fromString("rwx------"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return executable;
  }
}
