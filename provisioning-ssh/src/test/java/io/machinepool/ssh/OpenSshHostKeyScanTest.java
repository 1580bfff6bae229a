package io.machinepool.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.machinepool.HostKey;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
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
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link JschHostKeyScanner} against a real OpenSSH server, started by the test as a child process
 * on loopback with host keys made by {@code ssh-keygen}: the scan finds exactly the keys of the
 * {@code .pub} files. Skipped, saying why, where OpenSSH's server is not installed.
 */
@Timeout(60)
class OpenSshHostKeyScanTest {
  private static final Path SSHD = Path.of("/usr/sbin/sshd");
  private static final Path SSH_KEYGEN = Path.of("/usr/bin/ssh-keygen");

  /** Where Debian's sshd wants its privilege separation directory. */
  private static final Path PRIVSEP = Path.of("/run/sshd");

  private static final Duration WAIT = Duration.ofSeconds(15);

  @TempDir Path dir;

  private Process sshd;
  private final ByteArrayOutputStream sshdOutput = new ByteArrayOutputStream();

  @BeforeAll
  static void openSshIsInstalled() {
    assumeTrue(
        Files.isExecutable(SSHD) && Files.isExecutable(SSH_KEYGEN),
        "OpenSSH scan tests skipped: no " + SSHD + " (install openssh-server; .ci/run does)");
    if (!Files.isDirectory(PRIVSEP)) {
      try {
        Files.createDirectories(PRIVSEP);
        Files.setPosixFilePermissions(PRIVSEP, PosixFilePermissions.fromString("rwxr-xr-x"));
      } catch (IOException | UnsupportedOperationException e) {
        assumeTrue(
            false,
            "OpenSSH scan tests skipped: sshd needs its privilege separation directory "
                + PRIVSEP
                + ", which is missing and cannot be created: "
                + e);
      }
    }
  }

  @AfterEach
  void stopSshd() throws InterruptedException {
    stop();
  }

  @Test
  void collectsTheEd25519EcdsaAndRsaKeysOfOpenSsh() throws Exception {
    List<Path> keys = List.of(keygen("ed25519"), keygen("ecdsa"), keygen("rsa"));
    int port = startSshd(keys);

    List<HostKey> scanned =
        new JschHostKeyScanner().scan("127.0.0.1", port, Duration.ofSeconds(20));

    assertThat(scanned)
        .as("sshd said:%n%s", output())
        .containsExactly(publicKey(keys.get(0)), publicKey(keys.get(1)), publicKey(keys.get(2)));
    assertThat(scanned)
        .extracting(HostKey::type)
        .containsExactly("ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa");
  }

  @Test
  void findsTheNewEd25519KeyAfterSshdComesBackWithANewOne() throws Exception {
    Path before = keygen("ed25519", "before");
    int port = startSshd(List.of(before));
    JschHostKeyScanner scanner = new JschHostKeyScanner();
    assertThat(scanner.scan("127.0.0.1", port, Duration.ofSeconds(20)))
        .containsExactly(publicKey(before));
    stop();

    Path after = keygen("ed25519", "after");
    startSshd(List.of(after), port);

    assertThat(scanner.scan("127.0.0.1", port, Duration.ofSeconds(20)))
        .as("sshd said:%n%s", output())
        .containsExactly(publicKey(after));
  }

  @Test
  void twentyScansInARowOfAnSshdWithMaxStartups1AllSucceed() throws Exception {
    List<Path> keys = List.of(keygen("ed25519"), keygen("ecdsa"), keygen("rsa"));
    int port = startSshd(keys, freePort(), "MaxStartups 1");
    JschHostKeyScanner scanner = new JschHostKeyScanner();

    List<String> failures = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      try {
        assertThat(scanner.scan("127.0.0.1", port, Duration.ofSeconds(20))).hasSize(3);
      } catch (HostKeyScanException e) {
        failures.add("scan " + (i + 1) + ": " + e.reason() + ": " + e.getMessage());
      }
    }

    assertThat(failures).as("sshd said:%n%s", output()).isEmpty();
  }

  @Test
  void thirtyScansAtOnceOfOneSshdWithTheDefaultMaxStartupsAllSucceed() throws Exception {
    List<Path> keys = List.of(keygen("ed25519"), keygen("ecdsa"), keygen("rsa"));
    int port = startSshd(keys);
    JschHostKeyScanner scanner = new JschHostKeyScanner();
    ExecutorService threads = Executors.newFixedThreadPool(30);
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<List<HostKey>>> scans = new ArrayList<>();
      for (int i = 0; i < 30; i++) {
        scans.add(
            threads.submit(
                () -> {
                  go.await();
                  return scanner.scan("127.0.0.1", port, Duration.ofSeconds(40));
                }));
      }
      go.countDown();

      List<String> failures = new ArrayList<>();
      for (Future<List<HostKey>> scan : scans) {
        try {
          assertThat(scan.get()).hasSize(3);
        } catch (ExecutionException e) {
          failures.add(String.valueOf(e.getCause()));
        }
      }
      assertThat(failures).as("sshd said:%n%s", output()).isEmpty();
    } finally {
      threads.shutdownNow();
    }
  }

  private Path keygen(String type) throws IOException, InterruptedException {
    return keygen(type, "host");
  }

  private Path keygen(String type, String name) throws IOException, InterruptedException {
    Path key = dir.resolve("ssh_" + name + "_" + type + "_key");
    List<String> command =
        new ArrayList<>(List.of(SSH_KEYGEN.toString(), "-q", "-t", type, "-N", "", "-C", name));
    if (type.equals("ecdsa")) {
      command.addAll(List.of("-b", "256"));
    } else if (type.equals("rsa")) {
      command.addAll(List.of("-b", "2048"));
    }
    command.addAll(List.of("-f", key.toString()));
    Process keygen =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("keygen-" + name + "-" + type + ".log").toFile())
            .start();
    try {
      if (!keygen.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS)) {
        throw new IllegalStateException("ssh-keygen -t " + type + " did not finish in " + WAIT);
      }
    } finally {
      keygen.destroyForcibly();
    }
    assertThat(keygen.exitValue()).as("ssh-keygen -t %s exit code", type).isZero();
    return key;
  }

  private static HostKey publicKey(Path key) throws IOException {
    return HostKey.parse(Files.readString(Path.of(key + ".pub"), StandardCharsets.US_ASCII));
  }

  private int startSshd(List<Path> hostKeys) throws IOException, InterruptedException {
    return startSshd(hostKeys, freePort());
  }

  private static int freePort() throws IOException {
    try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return free.getLocalPort();
    }
  }

  /**
   * Starts sshd on {@code port} with these host keys and further {@code sshd_config} lines, and
   * waits until it listens.
   */
  private int startSshd(List<Path> hostKeys, int port, String... moreConfig)
      throws IOException, InterruptedException {
    StringBuilder config = new StringBuilder();
    config.append("ListenAddress 127.0.0.1\n");
    config.append("Port ").append(port).append('\n');
    for (Path key : hostKeys) {
      config.append("HostKey ").append(key).append('\n');
    }
    config.append("PidFile ").append(dir.resolve("sshd.pid")).append('\n');
    config.append("UsePAM no\n");
    config.append("StrictModes no\n");
    config.append("PasswordAuthentication no\n");
    config.append("KbdInteractiveAuthentication no\n");
    config.append("AuthorizedKeysFile none\n");
    config.append("LogLevel VERBOSE\n");
    for (String line : moreConfig) {
      config.append(line).append('\n');
    }
    Path file = dir.resolve("sshd_config");
    Files.writeString(file, config, StandardCharsets.US_ASCII);

    synchronized (sshdOutput) {
      sshdOutput.reset();
    }
    sshd =
        new ProcessBuilder(List.of(SSHD.toString(), "-D", "-e", "-f", file.toString()))
            .redirectErrorStream(true)
            .start();
    drain(sshd.getInputStream());
    waitForPort(port);
    return port;
  }

  private void drain(InputStream in) {
    Thread drain =
        new Thread(
            () -> {
              byte[] buffer = new byte[4096];
              try (in) {
                for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                  synchronized (sshdOutput) {
                    if (sshdOutput.size() < 64 * 1024) {
                      sshdOutput.write(buffer, 0, n);
                    }
                  }
                }
              } catch (IOException e) {
                // sshd went away
              }
            },
            "sshd-output");
    drain.setDaemon(true);
    drain.start();
  }

  private String output() {
    synchronized (sshdOutput) {
      return sshdOutput.toString(StandardCharsets.UTF_8);
    }
  }

  /** Waits until sshd accepts connections, it exits, or {@link #WAIT} is over. */
  private void waitForPort(int port) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() - deadline < 0) {
      if (!sshd.isAlive()) {
        throw new IllegalStateException(
            "sshd exited with " + sshd.exitValue() + " before listening; it said:\n" + output());
      }
      try (Socket probe = new Socket()) {
        probe.connect(new InetSocketAddress("127.0.0.1", port), 500);
        probe.shutdownOutput();
        // sshd counts the probe as an unauthenticated connection until it has seen it end
        probe.setSoTimeout(5_000);
        while (probe.getInputStream().read() >= 0) {
          // sshd's banner, then its end of the connection
        }
        return;
      } catch (IOException e) {
        Thread.sleep(50);
      }
    }
    throw new IllegalStateException(
        "sshd did not listen on port " + port + " within " + WAIT + "; it said:\n" + output());
  }

  /** Stops the sshd this test started, and whatever it forked, by their own handles. */
  private void stop() throws InterruptedException {
    Process process = sshd;
    sshd = null;
    if (process == null) {
      return;
    }
    List<ProcessHandle> children = process.descendants().toList();
    process.destroy();
    if (!process.waitFor(5, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        throw new UncheckedIOException(
            new IOException("sshd (pid " + process.pid() + ") did not stop"));
      }
    }
    for (ProcessHandle child : children) {
      child.destroy();
    }
  }
}
