package io.machinepool.concurrency;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A JVM started by a test, running {@link RaceChild} on the test's own class path. Its output
 * (stdout and stderr together) is read by a thread into a transcript and a queue of lines; every
 * wait on it has a timeout, and {@link #close()} kills it if it still runs.
 */
final class ChildJvm implements AutoCloseable {
  private static final String EOF = "\u0000eof";
  private static final int HEAD = 20;
  private static final int TAIL = 100;

  private final String name;
  private final Process process;
  private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
  private final StringBuffer transcript = new StringBuffer();

  private ChildJvm(String name, Process process) {
    this.name = name;
    this.process = process;
    Thread reader = new Thread(this::read, "output of " + name);
    reader.setDaemon(true);
    reader.start();
  }

  /**
   * Starts {@link RaceChild} in a new JVM.
   *
   * @param name a name for messages
   * @param workDir the child's working directory
   * @param args the arguments of {@link RaceChild#main(String[])}
   * @return the running child
   */
  static ChildJvm start(String name, Path workDir, List<String> args) {
    return start(name, workDir, RaceChild.class, args);
  }

  /**
   * Starts a program of the tests in a new JVM.
   *
   * @param name a name for messages
   * @param workDir the child's working directory
   * @param main the class whose {@code main} runs
   * @param args its arguments
   * @return the running child
   */
  static ChildJvm start(String name, Path workDir, Class<?> main, List<String> args) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx256m");
    command.add("-XX:TieredStopAtLevel=1");
    command.add("-Dorg.slf4j.simpleLogger.defaultLogLevel=warn");
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(main.getName());
    command.addAll(args);
    ProcessBuilder builder =
        new ProcessBuilder(command).directory(workDir.toFile()).redirectErrorStream(true);
    try {
      return new ChildJvm(name, builder.start());
    } catch (IOException e) {
      throw new UncheckedIOException("could not start " + name + ": " + command, e);
    }
  }

  private void read() {
    try (BufferedReader in =
        new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        transcript.append(line).append('\n');
        lines.add(line);
      }
    } catch (IOException e) {
      transcript.append("(output unreadable: ").append(e).append(")\n");
    } finally {
      lines.add(EOF);
    }
  }

  /**
   * Waits for a line of output that starts with a prefix.
   *
   * @param prefix the start of the line
   * @param timeout how long to wait
   * @return the line
   * @throws AssertionError when the child ends or the time runs out first
   */
  String awaitLine(String prefix, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      String line = lines.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
      if (line == null) {
        throw new AssertionError(
            name + " printed no line starting with '" + prefix + "' within " + timeout + output());
      }
      if (line.equals(EOF)) {
        lines.add(EOF);
        throw new AssertionError(
            name + " ended before printing a line starting with '" + prefix + "'" + output());
      }
      if (line.startsWith(prefix)) {
        return line;
      }
    }
  }

  /**
   * Waits for the child to end by itself.
   *
   * @param timeout how long to wait
   * @return its exit status
   * @throws AssertionError when it still runs after the timeout
   */
  int awaitExit(Duration timeout) throws InterruptedException {
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new AssertionError(name + " still runs after " + timeout + output());
    }
    return process.exitValue();
  }

  /**
   * Kills the child at once (SIGKILL on Unix: no shutdown hook runs) and waits until it is gone.
   *
   * @param timeout how long to wait for it to go
   * @return its exit status, 137 (128 + 9) on Unix
   */
  int kill(Duration timeout) throws InterruptedException {
    process.destroyForcibly();
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new AssertionError(name + " survived SIGKILL for " + timeout + output());
    }
    return process.exitValue();
  }

  /**
   * Writes a line to the child's stdin.
   *
   * @param line the line
   */
  void send(String line) {
    try {
      process.getOutputStream().write((line + "\n").getBytes(StandardCharsets.UTF_8));
      process.getOutputStream().flush();
    } catch (IOException e) {
      throw new UncheckedIOException("could not write to " + name + output(), e);
    }
  }

  /**
   * What the child printed so far: all of it when short, else its first and last lines.
   *
   * @return the output
   */
  String transcript() {
    List<String> all = transcript.toString().lines().toList();
    if (all.size() <= HEAD + TAIL) {
      return String.join("\n", all);
    }
    return String.join("\n", all.subList(0, HEAD))
        + "\n... "
        + (all.size() - HEAD - TAIL)
        + " lines left out ...\n"
        + String.join("\n", all.subList(all.size() - TAIL, all.size()));
  }

  /** Kills the child if it still runs. */
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

  private String output() {
    return "; " + name + " printed:\n" + transcript();
  }

  @Override
  public String toString() {
    return name;
  }
}
