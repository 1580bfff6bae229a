package io.machinepool.examples.benchmark;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntFunction;

/**
 * How many cycles some threads completed in a fixed time, after a warm-up, how many failed, and how
 * much CPU time this JVM spent per cycle.
 *
 * @param cycles the cycles completed inside the measurement window
 * @param errors the cycles that threw, in the warm-up or the measurement
 * @param seconds the length of the measurement window
 * @param allCycles every cycle completed, warm-up included
 * @param cpuNanos CPU time of this JVM while the threads ran, warm-up included; -1 when the
 *     platform does not tell
 * @param firstError the first failure, or {@code null}
 */
public record Measurement(
    long cycles, long errors, double seconds, long allCycles, long cpuNanos, Throwable firstError) {

  /** One thread's repeated unit of work: a lock and its unlock. */
  @FunctionalInterface
  public interface Cycle {
    /**
     * Does one cycle.
     *
     * @throws Exception when it fails; counted as an error, the thread goes on
     */
    void run() throws Exception;

    /**
     * Gives back what the thread's cycles held (a connection), once the thread is done; on that
     * thread.
     *
     * @throws Exception when that fails; counted as an error
     */
    default void close() throws Exception {}
  }

  /**
   * Cycles per second.
   *
   * @return the throughput
   */
  public double perSecond() {
    return cycles / seconds;
  }

  /**
   * CPU time of this JVM per cycle: the client's cost (the library or the bare loop, the driver and
   * the connection pool), and for an embedded database the database's as well. Less sensitive to
   * other load of the machine than the throughput.
   *
   * @return microseconds per cycle, or -1 when unknown
   */
  public double cpuMicrosPerCycle() {
    return cpuNanos < 0 || allCycles == 0 ? -1 : cpuNanos / 1e3 / allCycles;
  }

  /**
   * Adds the figures of another run of the same cell.
   *
   * @param other the other run
   * @return the sum
   */
  public Measurement plus(Measurement other) {
    return new Measurement(
        cycles + other.cycles,
        errors + other.errors,
        seconds + other.seconds,
        allCycles + other.allCycles,
        cpuNanos < 0 || other.cpuNanos < 0 ? -1 : cpuNanos + other.cpuNanos,
        firstError != null ? firstError : other.firstError);
  }

  /**
   * Runs a cycle on each of some threads, all started together: first for the warm-up time, then
   * for the measurement time, counting only the cycles that end inside the measurement window.
   *
   * @param threads how many threads
   * @param cycleOfThread the cycle of thread {@code i}, from 0; called on that thread
   * @param warmup how long to run before measuring
   * @param measure how long to measure
   * @return the measurement
   * @throws InterruptedException when interrupted while waiting for the threads
   */
  public static Measurement run(
      int threads, IntFunction<Cycle> cycleOfThread, Duration warmup, Duration measure)
      throws InterruptedException {
    CountDownLatch ready = new CountDownLatch(threads);
    CountDownLatch go = new CountDownLatch(1);
    AtomicLong cycles = new AtomicLong();
    AtomicLong errors = new AtomicLong();
    AtomicLong all = new AtomicLong();
    AtomicReference<Throwable> firstError = new AtomicReference<>();
    long[] window = new long[2];
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int index = t;
      Thread worker =
          new Thread(
              () -> {
                Cycle cycle = cycleOfThread.apply(index);
                ready.countDown();
                try {
                  go.await();
                } catch (InterruptedException e) {
                  return;
                }
                long start = window[0];
                long end = window[1];
                long counted = 0;
                long failed = 0;
                long done = 0;
                for (long now = System.nanoTime(); now < end; ) {
                  try {
                    cycle.run();
                  } catch (Exception | AssertionError e) {
                    failed++;
                    firstError.compareAndSet(null, e);
                  }
                  done++;
                  now = System.nanoTime();
                  if (now >= start && now < end) {
                    counted++;
                  }
                }
                try {
                  cycle.close();
                } catch (Exception e) {
                  failed++;
                  firstError.compareAndSet(null, e);
                }
                cycles.addAndGet(counted);
                errors.addAndGet(failed);
                all.addAndGet(done);
              },
              "bench-" + t);
      workers.add(worker);
      worker.start();
    }
    ready.await();
    long cpuBefore = processCpuNanos();
    long now = System.nanoTime();
    window[0] = now + warmup.toNanos();
    window[1] = window[0] + measure.toNanos();
    go.countDown(); // publishes the window to the workers
    for (Thread worker : workers) {
      worker.join();
    }
    long cpuAfter = processCpuNanos();
    return new Measurement(
        cycles.get(),
        errors.get(),
        measure.toNanos() / 1e9,
        all.get(),
        cpuBefore < 0 || cpuAfter < 0 ? -1 : cpuAfter - cpuBefore,
        firstError.get());
  }

  private static long processCpuNanos() {
    if (ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.OperatingSystemMXBean os) {
      return os.getProcessCpuTime();
    }
    return -1;
  }
}
