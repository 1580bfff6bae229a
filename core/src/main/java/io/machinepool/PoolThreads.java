package io.machinepool;

import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The one place where a pool's threads are made: by the caller's {@link ThreadFactory} (the JVM's
 * default one unless the builder names another), then named {@code machinepool-<pool>-<job>-<n>}
 * for what they do and made daemons, so that a forgotten pool never keeps the JVM alive.
 *
 * <p>A pool has these threads: {@code lease-renewer} and {@code lease-watchdog} ({@link
 * LeaseKeeper}), {@code reaper} ({@link Reaper}), {@code release} (closes that failed, retried in
 * the background by {@link BackgroundRelease}), {@code provision} (a bounded pool that creates and
 * destroys VMs and scans host keys) and {@code shutdown} (the JVM shutdown hook).
 */
final class PoolThreads {
  private static final AtomicInteger POOLS = new AtomicInteger();

  private final ThreadFactory factory;
  private final String prefix;

  PoolThreads(ThreadFactory factory) {
    this.factory = factory != null ? factory : Executors.defaultThreadFactory();
    this.prefix = "machinepool-" + POOLS.incrementAndGet() + "-";
  }

  /**
   * A factory of threads for one job.
   *
   * @param job what the threads do, e.g. {@code lease-renewer}
   * @return the factory
   */
  ThreadFactory named(String job) {
    AtomicInteger count = new AtomicInteger();
    return task -> {
      Thread thread = factory.newThread(task);
      if (thread == null) {
        throw new IllegalStateException("the pool's ThreadFactory returned no thread for " + job);
      }
      thread.setName(prefix + job + "-" + count.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    };
  }

  /**
   * One thread, not started.
   *
   * @param job what it does
   * @param task what it runs
   * @return the thread
   */
  Thread thread(String job, Runnable task) {
    return named(job).newThread(task);
  }
}
