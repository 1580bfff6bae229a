package io.machinepool.examples.timing;

import io.machinepool.ssh.HostKeyScanException;
import io.machinepool.ssh.JschHostKeyScanner;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Counts the host key scans of {@link JschHostKeyScanner} that fail against a real OpenSSH {@code
 * sshd} because of its {@code MaxStartups} limit of unauthenticated connections, and times them:
 *
 * <ul>
 *   <li><b>MaxStartups 1, one after another</b>: 20 scans of one sshd, each started when the one
 *       before returned; a scan takes four connections, each of which is unauthenticated until it
 *       is closed.
 *   <li><b>default MaxStartups (10:30:100), in parallel</b>: 30 scans of one sshd started at once,
 *       as {@code refreshHostKeys} of 30 names that reach the same server does.
 * </ul>
 *
 * <p>Each case prints how many scans failed, how many connections sshd turned away ({@code drop
 * connection ... past MaxStartups} in its log), and the median and longest time of the scans that
 * succeeded.
 *
 * <p>sshd runs as a child of this program, on a free loopback port, with fresh ed25519, ECDSA and
 * RSA host keys made by {@code ssh-keygen} in a temporary directory, and is stopped by its process
 * handle at the end. Without {@code /usr/sbin/sshd} the program says so and measures nothing.
 *
 * <p>Run it with {@code mvn -q -pl examples -am verify -Pscan-openssh -DskipTests}. Arguments:
 * {@code --rounds N} (default 3: each case runs N times, each time against a new sshd), {@code
 * --timeout SECONDS} (the timeout of each scan, default 20).
 */
public final class OpenSshScanTiming {
  private static final Path SSHD = Path.of("/usr/sbin/sshd");
  private static final Path SSH_KEYGEN = Path.of("/usr/bin/ssh-keygen");
  private static final Path PRIVSEP = Path.of("/run/sshd");

  private OpenSshScanTiming() {}

  /**
   * Runs both cases and prints the table.
   *
   * @param args {@code --rounds N}, {@code --timeout SECONDS}
   * @throws Exception when sshd cannot start
   */
  public static void main(String[] args) throws Exception {
    int rounds = 3;
    int timeout = 20;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--rounds" -> rounds = Integer.parseInt(value(args, ++i));
        case "--timeout" -> timeout = Integer.parseInt(value(args, ++i));
        default ->
            throw new IllegalArgumentException(
                "unknown argument " + args[i] + "; use --rounds N, --timeout SECONDS");
      }
    }
    if (rounds < 1 || timeout < 1) {
      throw new IllegalArgumentException("--rounds and --timeout must be at least 1");
    }
    if (!Files.isExecutable(SSHD) || !Files.isExecutable(SSH_KEYGEN)) {
      System.out.println(
          "nothing measured: no " + SSHD + " (install openssh-server to measure against it)");
      return;
    }
    Files.createDirectories(PRIVSEP);
    run(rounds, Duration.ofSeconds(timeout), System.out);
  }

  private static String value(String[] args, int i) {
    if (i >= args.length) {
      throw new IllegalArgumentException(args[i - 1] + " needs a value");
    }
    return args[i];
  }

  static void run(int rounds, Duration timeout, PrintStream out) throws Exception {
    Path dir = Files.createTempDirectory("openssh-scan-timing");
    try {
      List<Path> keys = List.of(keygen(dir, "ed25519"), keygen(dir, "ecdsa"), keygen(dir, "rsa"));
      out.printf(
          Locale.ROOT,
          "scanning an OpenSSH sshd on loopback (%s) with ed25519, ECDSA and RSA host keys;"
              + " %d cores, Java %s; scan timeout %d s; %d rounds per case%n%n",
          version(),
          Runtime.getRuntime().availableProcessors(),
          System.getProperty("java.version"),
          timeout.toSeconds(),
          rounds);
      out.println(
          "| case                                  | scans | failed | turned away | median  | max     |"
              + " failures by reason |");
      out.println(
          "|---------------------------------------|------:|-------:|------------:|--------:|--------:|"
              + "--------------------|");
      measure(out, "MaxStartups 1, 20 one after another", rounds, dir, keys, "1", 20, 1, timeout);
      measure(out, "default MaxStartups, 30 in parallel", rounds, dir, keys, null, 30, 30, timeout);
    } finally {
      try (Stream<Path> files = Files.walk(dir)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  private static void measure(
      PrintStream out,
      String name,
      int rounds,
      Path dir,
      List<Path> keys,
      String maxStartups,
      int scans,
      int threads,
      Duration timeout)
      throws Exception {
    JschHostKeyScanner scanner = new JschHostKeyScanner();
    List<Double> seconds = new ArrayList<>();
    Map<String, Integer> reasons = new TreeMap<>();
    int failed = 0;
    long turnedAway = 0;
    for (int round = 0; round < rounds; round++) {
      Process sshd = null;
      int port = freePort();
      try {
        sshd = startSshd(dir, keys, port, maxStartups);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
          CountDownLatch go = new CountDownLatch(1);
          List<Future<Object>> results = new ArrayList<>();
          for (int i = 0; i < scans; i++) {
            results.add(
                pool.submit(
                    () -> {
                      go.await();
                      long start = System.nanoTime();
                      try {
                        int found = scanner.scan("127.0.0.1", port, timeout).size();
                        return new double[] {(System.nanoTime() - start) / 1e9, found};
                      } catch (HostKeyScanException e) {
                        return e;
                      }
                    }));
          }
          go.countDown();
          for (Future<Object> result : results) {
            Object r = result.get();
            if (r instanceof HostKeyScanException e) {
              failed++;
              reasons.merge(e.reason().name(), 1, Integer::sum);
            } else {
              double[] ok = (double[]) r;
              if (ok[1] != 3) {
                throw new IllegalStateException("a scan found " + ok[1] + " keys, not 3");
              }
              seconds.add(ok[0]);
            }
          }
        } finally {
          pool.shutdownNow();
        }
      } finally {
        stop(sshd);
      }
      try (Stream<String> log = Files.lines(dir.resolve("sshd-" + port + ".log"))) {
        turnedAway += log.filter(line -> line.contains("past MaxStartups")).count();
      }
    }
    seconds.sort(Double::compare);
    out.printf(
        Locale.ROOT,
        "| %-37s | %5d | %6d | %11d | %s | %s | %-18s |%n",
        name,
        scans * rounds,
        failed,
        turnedAway,
        seconds.isEmpty() ? "      -" : String.format(Locale.ROOT, "%5.3f s", median(seconds)),
        seconds.isEmpty()
            ? "      -"
            : String.format(Locale.ROOT, "%5.3f s", seconds.get(seconds.size() - 1)),
        reasons.isEmpty() ? "-" : reasons.toString().replaceAll("[{}]", ""));
  }

  private static double median(List<Double> sorted) {
    return sorted.get(sorted.size() / 2);
  }

  private static String version() throws IOException, InterruptedException {
    Process p = new ProcessBuilder(SSHD.toString(), "-V").redirectErrorStream(true).start();
    String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    p.waitFor(10, TimeUnit.SECONDS);
    int comma = text.indexOf(',');
    return comma > 0 ? text.substring(0, comma) : text;
  }

  private static Path keygen(Path dir, String type) throws IOException, InterruptedException {
    Path key = dir.resolve("ssh_host_" + type + "_key");
    List<String> command =
        new ArrayList<>(List.of(SSH_KEYGEN.toString(), "-q", "-t", type, "-N", "", "-C", "host"));
    if (type.equals("ecdsa")) {
      command.addAll(List.of("-b", "256"));
    } else if (type.equals("rsa")) {
      command.addAll(List.of("-b", "2048"));
    }
    command.addAll(List.of("-f", key.toString()));
    Process keygen =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("keygen-" + type + ".log").toFile())
            .start();
    if (!keygen.waitFor(15, TimeUnit.SECONDS) || keygen.exitValue() != 0) {
      keygen.destroyForcibly();
      throw new IllegalStateException("ssh-keygen -t " + type + " failed");
    }
    return key;
  }

  private static int freePort() throws IOException {
    try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return free.getLocalPort();
    }
  }

  private static Process startSshd(Path dir, List<Path> keys, int port, String maxStartups)
      throws IOException, InterruptedException {
    StringBuilder config = new StringBuilder();
    config.append("ListenAddress 127.0.0.1\nPort ").append(port).append('\n');
    for (Path key : keys) {
      config.append("HostKey ").append(key).append('\n');
    }
    config.append("PidFile ").append(dir.resolve("sshd.pid")).append('\n');
    config.append("UsePAM no\nStrictModes no\nPasswordAuthentication no\n");
    config.append("KbdInteractiveAuthentication no\nAuthorizedKeysFile none\n");
    // every connection turned away is logged at VERBOSE (the first of a series at INFO)
    config.append("LogLevel VERBOSE\n");
    if (maxStartups != null) {
      config.append("MaxStartups ").append(maxStartups).append('\n');
    }
    Path file = dir.resolve("sshd_config");
    Files.writeString(file, config, StandardCharsets.US_ASCII);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    Process sshd =
        new ProcessBuilder(SSHD.toString(), "-D", "-e", "-f", file.toString())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("sshd-" + port + ".log").toFile())
            .start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (System.nanoTime() - deadline < 0) {
      if (!sshd.isAlive()) {
        throw new IllegalStateException(
            "sshd exited with "
                + sshd.exitValue()
                + ": "
                + Files.readString(dir.resolve("sshd-" + port + ".log")));
      }
      try (Socket probe = new Socket()) {
        probe.connect(new InetSocketAddress("127.0.0.1", port), 500);
        // the probe is an unauthenticated connection too: let sshd see it close before measuring
        probe.close();
        Thread.sleep(200);
        return sshd;
      } catch (IOException e) {
        Thread.sleep(50);
      }
    }
    stop(sshd);
    throw new IllegalStateException("sshd did not listen on port " + port + " within 15 s");
  }

  private static void stop(Process sshd) throws InterruptedException {
    if (sshd == null) {
      return;
    }
    List<ProcessHandle> children = sshd.descendants().toList();
    sshd.destroy();
    if (!sshd.waitFor(5, TimeUnit.SECONDS)) {
      sshd.destroyForcibly();
      sshd.waitFor(5, TimeUnit.SECONDS);
    }
    children.forEach(ProcessHandle::destroy);
  }
}
