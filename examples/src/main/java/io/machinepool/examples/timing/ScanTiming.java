package io.machinepool.examples.timing;

import io.machinepool.Machine;
import io.machinepool.MachinePool;
import io.machinepool.MachineSpec;
import io.machinepool.ssh.JschHostKeyScanner;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.keyprovider.KeyPairProvider;
import org.apache.sshd.server.SshServer;
import org.h2.jdbcx.JdbcDataSource;

/**
 * Measures the wall time of scanning the host keys of 1 and of 20 hosts on loopback with {@link
 * JschHostKeyScanner} through {@link MachinePool#refreshHostKeys}, which scans in parallel: each
 * host an Apache MINA SSHD server offering ed25519, ECDSA and RSA keys, as a fresh OpenSSH does, so
 * that every scan collects three keys (four connections per host). The pool lives in an in-memory
 * H2 database, and the keys are stored there as a lock's scan stores them.
 *
 * <p>Run it with {@code mvn -q -pl examples -am verify -Pscan-timing -DskipTests}. Arguments:
 * {@code --repetitions N} (default 5) and {@code --hosts N} (default 20).
 */
public final class ScanTiming {
  private ScanTiming() {}

  /**
   * Runs the measurement and prints the table.
   *
   * @param args {@code --repetitions N}, {@code --hosts N}
   * @throws Exception when a server cannot start
   */
  public static void main(String[] args) throws Exception {
    int repetitions = 5;
    int hosts = 20;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--repetitions" -> repetitions = Integer.parseInt(value(args, ++i));
        case "--hosts" -> hosts = Integer.parseInt(value(args, ++i));
        default ->
            throw new IllegalArgumentException(
                "unknown argument " + args[i] + "; use --repetitions N, --hosts N");
      }
    }
    if (repetitions < 1 || hosts < 1) {
      throw new IllegalArgumentException("--repetitions and --hosts must be at least 1");
    }
    run(repetitions, hosts, System.out);
  }

  private static String value(String[] args, int i) {
    if (i >= args.length) {
      throw new IllegalArgumentException(args[i - 1] + " needs a value");
    }
    return args[i];
  }

  static void run(int repetitions, int hostCount, PrintStream out) throws IOException {
    List<SshServer> servers = new ArrayList<>();
    JdbcDataSource ds = new JdbcDataSource();
    ds.setURL("jdbc:h2:mem:scan-timing-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
    try (MachinePool pool =
        MachinePool.builder()
            .dataSource(ds)
            .releaseOnShutdown(false)
            .provisioningThreads(Math.max(16, hostCount))
            .hostKeyScanner(JschHostKeyScanner.builder().hostAddress(name -> "127.0.0.1").build())
            .sshTimeout(Duration.ofSeconds(30))
            .build()) {
      List<String> names = new ArrayList<>();
      for (int i = 1; i <= hostCount; i++) {
        SshServer server = start();
        servers.add(server);
        String name = String.format(Locale.ROOT, "scan%03d.loopback", i);
        names.add(name);
        pool.inventory().add(MachineSpec.physical(name, "scan").withSshPort(server.getPort()));
      }
      out.printf(
          Locale.ROOT,
          "scanning host keys on loopback: %d MINA SSHD servers with ed25519, ECDSA and RSA keys;"
              + " %d cores, Java %s; load average %.1f%n%n",
          hostCount,
          Runtime.getRuntime().availableProcessors(),
          System.getProperty("java.version"),
          java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
      pool.refreshHostKeys(names); // warm-up: class loading, JIT, the pool's threads
      out.println("| hosts | keys per host | median  | min     | max     |");
      out.println("|------:|--------------:|--------:|--------:|--------:|");
      for (List<String> batch : List.of(names.subList(0, 1), names)) {
        List<Double> seconds = new ArrayList<>();
        int keys = 0;
        for (int r = 0; r < repetitions; r++) {
          long started = System.nanoTime();
          List<Machine> scanned = pool.refreshHostKeys(batch);
          seconds.add((System.nanoTime() - started) / 1e9);
          keys = scanned.get(0).hostKeys().size();
        }
        seconds.sort(Double::compare);
        out.printf(
            Locale.ROOT,
            "| %5d | %13d | %6.3f s | %6.3f s | %6.3f s |%n",
            batch.size(),
            keys,
            seconds.get(seconds.size() / 2),
            seconds.get(0),
            seconds.get(seconds.size() - 1));
      }
    } finally {
      for (SshServer server : servers) {
        server.stop(true);
      }
    }
  }

  private static SshServer start() throws IOException {
    SshServer server = SshServer.setUpDefaultServer();
    server.setHost("127.0.0.1");
    server.setPort(0);
    try {
      List<KeyPair> keys =
          List.of(
              KeyUtils.generateKeyPair(KeyPairProvider.SSH_ED25519, 256),
              KeyUtils.generateKeyPair(KeyPairProvider.ECDSA_SHA2_NISTP256, 256),
              KeyUtils.generateKeyPair(KeyPairProvider.SSH_RSA, 2048));
      server.setKeyPairProvider(KeyPairProvider.wrap(keys));
    } catch (GeneralSecurityException e) {
      throw new UncheckedIOException(new IOException("cannot generate host keys", e));
    }
    server.start();
    return server;
  }
}
