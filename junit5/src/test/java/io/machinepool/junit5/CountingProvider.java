package io.machinepool.junit5;

import io.machinepool.MachinePool;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The {@link DefaultPoolProvider}, counting how often the extension opens and closes it. Opening
 * takes a while on purpose, so that test classes starting in parallel would all open a pool of
 * their own unless the extension opened it exactly once.
 */
final class CountingProvider implements PoolProvider {
  static final AtomicInteger opens = new AtomicInteger();
  static final AtomicInteger closes = new AtomicInteger();
  static final AtomicReference<MachinePool> opened = new AtomicReference<>();

  /** When the pool was open, by {@link System#nanoTime()}. */
  static final AtomicLong openedAt = new AtomicLong();

  private final DefaultPoolProvider delegate = new DefaultPoolProvider();

  private CountingProvider() {}

  static void reset() {
    opens.set(0);
    closes.set(0);
    opened.set(null);
    openedAt.set(0);
  }

  @Override
  public MachinePool open(ExtensionContext run) throws InterruptedException {
    opens.incrementAndGet();
    Thread.sleep(200);
    MachinePool pool = delegate.open(run);
    opened.set(pool);
    openedAt.set(System.nanoTime());
    return pool;
  }

  @Override
  public void close() throws Exception {
    closes.incrementAndGet();
    delegate.close();
  }
}
