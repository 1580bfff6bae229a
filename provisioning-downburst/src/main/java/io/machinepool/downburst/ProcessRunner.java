package io.machinepool.downburst;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one command as a child process: an argument list, never a shell; exactly the given
 * environment; standard input closed; standard output and error drained at the same time into
 * bounded {@link OutputTail}s, so a chatty process never blocks on a full pipe and memory stays
 * bounded; the whole run under a timeout, after which the process tree is killed.
 */
final class ProcessRunner {
  private static final Logger LOG = LoggerFactory.getLogger(ProcessRunner.class);

  /** The logger each line of the tool's output goes to, at DEBUG. */
  private static final Logger OUTPUT = LoggerFactory.getLogger("io.machinepool.downburst.output");

  /** Lines of each stream kept for messages. */
  static final int TAIL_LINES = 50;

  /** Bytes of each stream kept for messages. */
  static final int TAIL_BYTES = 64 * 1024;

  /** How long to wait for killed processes to go away, and for the drains to end. */
  private static final Duration GRACE = Duration.ofSeconds(5);

  /**
   * What a run came to.
   *
   * @param exitCode the exit code, or {@code null} when the process was killed after the timeout
   * @param timedOut whether the timeout ran out and the tree was killed
   * @param elapsed how long it ran
   * @param stdout the tail of standard output
   * @param stderr the tail of standard error
   */
  record Result(
      Integer exitCode, boolean timedOut, Duration elapsed, OutputTail stdout, OutputTail stderr) {

    boolean succeeded() {
      return !timedOut && exitCode != null && exitCode == 0;
    }
  }

  private ProcessRunner() {}

  /**
   * Runs a command to its end or its timeout.
   *
   * @param label names the run in logs and thread names, e.g. {@code create vpm011}
   * @param command the executable and its arguments
   * @param environment the child's whole environment
   * @param timeout how long it may run
   * @param stdoutLines how many lines of standard output to keep
   * @param stdoutBytes how many bytes of standard output to keep
   * @param markers strings to watch for in standard error
   * @return the result
   * @throws IOException when the process cannot be started
   * @throws InterruptedException when this thread is interrupted; the process tree is killed first
   */
  static Result run(
      String label,
      List<String> command,
      Map<String, String> environment,
      Duration timeout,
      int stdoutLines,
      int stdoutBytes,
      Collection<String> markers)
      throws IOException, InterruptedException {
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().clear();
    builder.environment().putAll(environment);
    long started = System.nanoTime();
    Process process = builder.start();
    LOG.debug("{}: started pid {}: {}", label, process.pid(), CommandLine.render(command));
    process.getOutputStream().close();
    OutputTail stdout =
        new OutputTail(
            stdoutLines,
            stdoutBytes,
            List.of(),
            line -> OUTPUT.debug("{} stdout: {}", label, line));
    OutputTail stderr =
        new OutputTail(
            TAIL_LINES, TAIL_BYTES, markers, line -> OUTPUT.debug("{} stderr: {}", label, line));
    Thread outDrain = drain(label + " stdout", process.getInputStream(), stdout);
    Thread errDrain = drain(label + " stderr", process.getErrorStream(), stderr);
    boolean finished;
    try {
      finished = process.waitFor(timeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      LOG.debug("{}: interrupted; killing the process tree of pid {}", label, process.pid());
      killTree(process);
      throw e;
    }
    Integer exitCode = null;
    if (finished) {
      exitCode = process.exitValue();
    } else {
      LOG.debug("{}: timed out; killing the process tree of pid {}", label, process.pid());
      killTree(process);
    }
    join(label, outDrain, process.getInputStream());
    join(label, errDrain, process.getErrorStream());
    Duration elapsed = Duration.ofNanos(System.nanoTime() - started);
    LOG.debug(
        "{}: {} after {} ms",
        label,
        finished ? "exit code " + exitCode : "killed",
        elapsed.toMillis());
    return new Result(exitCode, !finished, elapsed, stdout, stderr);
  }

  private static Thread drain(String name, InputStream in, OutputTail tail) {
    Thread thread = new Thread(() -> tail.drain(in), "downburst " + name);
    thread.setDaemon(true);
    thread.start();
    return thread;
  }

  /**
   * Waits for a drain to end. A process that left a child behind which still holds the pipe would
   * keep the drain going: after the grace period the stream is closed and the drain abandoned (it
   * is a daemon thread, and ends when the pipe does).
   */
  private static void join(String label, Thread drain, InputStream in) throws InterruptedException {
    drain.join(GRACE.toMillis());
    if (drain.isAlive()) {
      LOG.debug("{}: output still open after the process ended; no longer read", label);
      try {
        in.close();
      } catch (IOException e) {
        LOG.debug("{}: closing the output stream failed: {}", label, e.toString());
      }
    }
  }

  /**
   * Kills a process and every descendant with {@code SIGKILL}. The tree is listed first, while
   * every descendant can still be reached through its parent; then the process itself is killed, so
   * that it cannot react to the death of its children (carry on, start another); then the listed
   * descendants, deepest first, and whatever they forked meanwhile. Waits a little for all of them
   * to be gone. Keeps this thread's interrupt status.
   *
   * @param process the process
   */
  static void killTree(Process process) {
    List<ProcessHandle> tree = new ArrayList<>(process.descendants().toList());
    Collections.reverse(tree);
    process.destroyForcibly();
    Map<Long, ProcessHandle> killed = new LinkedHashMap<>();
    killed.put(process.pid(), process.toHandle());
    for (ProcessHandle handle : tree) {
      for (ProcessHandle forked : handle.descendants().toList()) {
        if (killed.putIfAbsent(forked.pid(), forked) == null) {
          forked.destroyForcibly();
        }
      }
      if (killed.putIfAbsent(handle.pid(), handle) == null) {
        handle.destroyForcibly();
      }
    }
    try {
      process.waitFor(GRACE.toMillis(), TimeUnit.MILLISECONDS);
      // Not onExit(): for processes that are not our children it polls slowly.
      long deadline = System.nanoTime() + GRACE.toNanos();
      while (killed.values().stream().anyMatch(ProcessRunner::running)) {
        if (System.nanoTime() > deadline) {
          LOG.debug("some killed processes are still there after {} s", GRACE.toSeconds());
          break;
        }
        Thread.sleep(10);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (LOG.isDebugEnabled()) {
      LOG.debug(
          "killed pids {}",
          killed.keySet().stream().map(String::valueOf).collect(Collectors.joining(", ")));
    }
  }

  /**
   * Whether a process still runs. A zombie (killed, not yet reaped by whichever process adopted it)
   * does not: it holds no resources but its pid.
   */
  static boolean running(ProcessHandle handle) {
    if (!handle.isAlive()) {
      return false;
    }
    try {
      String stat = Files.readString(Path.of("/proc/" + handle.pid() + "/stat"));
      int end = stat.lastIndexOf(')');
      if (end >= 0 && end + 2 < stat.length()) {
        char state = stat.charAt(end + 2);
        return state != 'Z' && state != 'X';
      }
    } catch (IOException | RuntimeException e) {
      // no /proc, or the process is gone: isAlive() has the last word
      return handle.isAlive();
    }
    return true;
  }
}
