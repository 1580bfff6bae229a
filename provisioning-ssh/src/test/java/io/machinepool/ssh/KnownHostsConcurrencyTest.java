package io.machinepool.ssh;

import static io.machinepool.ssh.KnownHostsTesting.line;
import static io.machinepool.ssh.KnownHostsTesting.machine;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.machinepool.ConfigurationException;
import io.machinepool.HostKey;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Updates of one known_hosts file at the same time, by threads of one JVM and by two JVMs: each
 * updater re-images its own host many times, and at the end the file holds exactly the last key of
 * every host, so no update was lost and no stale key came back.
 */
class KnownHostsConcurrencyTest {
  private static final int ROUNDS = 25;

  @TempDir Path dir;

  @Test
  void threadsUpdatingDifferentHostsAllKeepTheirEntries() throws Exception {
    Path file = dir.resolve("known_hosts");
    Files.writeString(file, "# shared by the lab\n");
    List<String> hosts = List.of("vpm011.front", "vpm012.front", "vpm013.front");
    CountDownLatch start = new CountDownLatch(1);
    ExecutorService threads = Executors.newFixedThreadPool(hosts.size());
    try {
      List<Future<HostKey>> last = new ArrayList<>();
      for (String host : hosts) {
        last.add(
            threads.submit(
                () -> {
                  KnownHostsFile knownHosts = KnownHostsFile.at(file);
                  start.await(10, TimeUnit.SECONDS);
                  return reimage(knownHosts, host, ROUNDS);
                }));
      }
      start.countDown();
      List<String> expected = new ArrayList<>();
      expected.add("# shared by the lab");
      for (int i = 0; i < hosts.size(); i++) {
        expected.add(line(hosts.get(i), last.get(i).get(60, TimeUnit.SECONDS)));
      }

      assertThat(Files.readAllLines(file)).containsExactlyInAnyOrderElementsOf(expected);
      assertThat(Files.readAllLines(file).get(0)).isEqualTo("# shared by the lab");
    } finally {
      threads.shutdownNow();
      threads.awaitTermination(10, TimeUnit.SECONDS);
    }
  }

  /**
   * Two JVMs and two threads of this one at once. The threads matter: POSIX record locks belong to
   * the process, and closing any channel of the lock file drops them, so the threads of a JVM must
   * never even open the lock file while another of them holds it.
   */
  @Test
  void processesAndThreadsUpdatingDifferentHostsAllKeepTheirEntries() throws Exception {
    Path file = dir.resolve("known_hosts");
    List<String> childHosts = List.of("vpm021.front", "vpm022.front");
    List<String> threadHosts = List.of("vpm023.front", "vpm024.front");
    List<Child> children = new ArrayList<>();
    ExecutorService threads = Executors.newFixedThreadPool(threadHosts.size());
    try {
      for (String host : childHosts) {
        children.add(Child.start(file, host, ROUNDS));
      }
      for (Child child : children) {
        child.awaitLine("ready");
      }
      for (Child child : children) {
        child.send("go");
      }
      List<Future<HostKey>> threadKeys = new ArrayList<>();
      for (String host : threadHosts) {
        threadKeys.add(threads.submit(() -> reimage(KnownHostsFile.at(file), host, ROUNDS)));
      }
      List<String> expected = new ArrayList<>();
      for (int i = 0; i < childHosts.size(); i++) {
        String last = children.get(i).awaitLine("last ").substring("last ".length());
        assertThat(children.get(i).awaitExit()).isZero();
        expected.add(line(childHosts.get(i), HostKey.parse(last)));
      }
      for (int i = 0; i < threadHosts.size(); i++) {
        expected.add(line(threadHosts.get(i), threadKeys.get(i).get(60, TimeUnit.SECONDS)));
      }

      assertThat(Files.readAllLines(file)).containsExactlyInAnyOrderElementsOf(expected);
    } finally {
      children.forEach(Child::close);
      threads.shutdownNow();
      threads.awaitTermination(10, TimeUnit.SECONDS);
    }
  }

  /**
   * The bug the JVM lock prevents: a thread that waited for the lock through a channel of its own
   * and gave up would, by closing that channel, drop the POSIX lock the holding thread has, and let
   * other processes in while it writes.
   */
  @Test
  void lockOfAThreadStaysHeldForOtherProcessesWhenAnotherThreadGivesUp() throws Exception {
    Path file = dir.resolve("known_hosts");
    Path lockFile = dir.resolve("known_hosts.lock");
    ExecutorService thread = Executors.newSingleThreadExecutor();
    try {
      try (KnownHostsLock held = KnownHostsLock.take(lockFile, file, Duration.ofSeconds(5), true)) {
        Future<?> other =
            thread.submit(
                () ->
                    KnownHostsFile.at(file)
                        .lockTimeout(Duration.ofMillis(200))
                        .update(
                            List.of(
                                machine(
                                    "vpm031.front", null, TestKeys.hostKey(TestKeys.ed25519())))));
        assertThatThrownBy(() -> other.get(30, TimeUnit.SECONDS))
            .hasCauseInstanceOf(ConfigurationException.class)
            .hasMessageContaining("another thread of this process");
        try (Child probe = Child.probe(lockFile)) {
          assertThat(probe.awaitLine("lock ")).isEqualTo("lock busy");
        }
      }
      try (Child probe = Child.probe(lockFile)) {
        assertThat(probe.awaitLine("lock ")).isEqualTo("lock free");
      }
      assertThat(file).doesNotExist();
    } finally {
      thread.shutdownNow();
      thread.awaitTermination(10, TimeUnit.SECONDS);
    }
  }

  /** Updates a host with a fresh key, rounds times; returns the last key. */
  static HostKey reimage(KnownHostsFile knownHosts, String host, int rounds) {
    HostKey key = null;
    for (int i = 0; i < rounds; i++) {
      key = TestKeys.hostKey(TestKeys.ed25519());
      KnownHostsFile.Result result = knownHosts.update(List.of(machine(host, null, key)));
      if (result.added() != 1 || result.removed() != (i == 0 ? 0 : 1)) {
        throw new AssertionError("round " + i + " of " + host + ": " + result);
      }
    }
    return key;
  }

  /**
   * The other JVM. With {@code file host rounds}: prints {@code ready}, waits for a line on stdin,
   * then re-images the host rounds times and prints {@code last type base64}. With {@code probe
   * lockfile}: tries once to lock the lock file and prints {@code lock free} or {@code lock busy}.
   */
  static final class Updater {
    private Updater() {}

    public static void main(String[] args) throws IOException {
      if (args[0].equals("probe")) {
        try (FileChannel channel = FileChannel.open(Path.of(args[1]), StandardOpenOption.WRITE);
            FileLock lock = channel.tryLock()) {
          System.out.println(lock == null ? "lock busy" : "lock free");
        }
        return;
      }
      KnownHostsFile knownHosts = KnownHostsFile.at(Path.of(args[0]));
      System.out.println("ready");
      System.out.flush();
      BufferedReader in =
          new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      if (in.readLine() == null) {
        return;
      }
      HostKey last = reimage(knownHosts, args[1], Integer.parseInt(args[2]));
      System.out.println("last " + last);
      System.out.flush();
    }
  }

  /** A child JVM running {@link Updater}; every wait is bounded and close kills it. */
  private static final class Child implements AutoCloseable {
    private final Process process;
    private final BufferedReader out;
    private final StringBuilder transcript = new StringBuilder();

    private Child(Process process) {
      this.process = process;
      this.out =
          new BufferedReader(
              new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    }

    static Child start(Path file, String host, int rounds) throws IOException {
      return start(file.toString(), host, Integer.toString(rounds));
    }

    static Child probe(Path lockFile) throws IOException {
      return start("probe", lockFile.toString());
    }

    private static Child start(String... args) throws IOException {
      List<String> command = new ArrayList<>();
      command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      command.add("-Xmx128m");
      command.add("-XX:TieredStopAtLevel=1");
      command.add("-Dorg.slf4j.simpleLogger.defaultLogLevel=warn");
      command.add("-cp");
      command.add(System.getProperty("java.class.path"));
      command.add(Updater.class.getName());
      command.addAll(List.of(args));
      return new Child(new ProcessBuilder(command).redirectErrorStream(true).start());
    }

    /** Reads lines until one starts with the prefix, for at most 60 s. */
    String awaitLine(String prefix) throws Exception {
      ExecutorService reader = Executors.newSingleThreadExecutor();
      try {
        return reader
            .submit(
                () -> {
                  for (String l = out.readLine(); l != null; l = out.readLine()) {
                    transcript.append(l).append('\n');
                    if (l.startsWith(prefix)) {
                      return l;
                    }
                  }
                  throw new AssertionError(
                      "the child ended without printing '" + prefix + "':\n" + transcript);
                })
            .get(60, TimeUnit.SECONDS);
      } finally {
        reader.shutdownNow();
      }
    }

    void send(String line) throws IOException {
      OutputStream in = process.getOutputStream();
      in.write((line + "\n").getBytes(StandardCharsets.UTF_8));
      in.flush();
    }

    int awaitExit() throws InterruptedException {
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        throw new AssertionError("the child still runs after 60 s:\n" + transcript);
      }
      return process.exitValue();
    }

    @Override
    public void close() {
      if (process.isAlive()) {
        process.destroyForcibly();
        try {
          process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }
}
