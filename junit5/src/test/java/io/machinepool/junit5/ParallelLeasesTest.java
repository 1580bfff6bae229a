package io.machinepool.junit5;

import static org.assertj.core.api.Assertions.assertThat;

import io.machinepool.Machine;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Twelve tests running in parallel, each holding one of four machines for a while: no machine is
 * ever held by two tests at once, the tests that find every machine taken wait for one instead of
 * failing, the pool is opened once, and every machine is free at the end.
 *
 * <p>The proof does not rely on the pool: an independent ledger (machine to holder) records every
 * test's machine while its body runs, and any second holder is an overlap.
 */
class ParallelLeasesTest {
  private static final Logger log = LoggerFactory.getLogger(ParallelLeasesTest.class);
  private static final int MACHINES = 4;
  private static final int TESTS = 12;
  private static final int THREADS = 8;
  private static final long HOLD_MILLIS = 150;

  static final Map<String, String> ledger = new ConcurrentHashMap<>();
  static final List<String> overlaps = new CopyOnWriteArrayList<>();
  static final Set<String> threads = ConcurrentHashMap.newKeySet();
  static final Set<String> machinesUsed = ConcurrentHashMap.newKeySet();
  static final AtomicInteger holding = new AtomicInteger();
  static final AtomicInteger mostHolding = new AtomicInteger();
  static final Map<String, Long> arrivals = new ConcurrentHashMap<>();
  static final List<String> waited = new CopyOnWriteArrayList<>();

  private KitLab lab;

  @AfterEach
  void closeLab() throws SQLException {
    if (lab != null) {
      lab.close();
    }
  }

  /**
   * Runs before the extension locks anything for a test (it is registered first): notes when the
   * test arrived, so that its body can tell how long it waited for a machine.
   */
  static final class Arrivals implements BeforeEachCallback {
    @Override
    public void beforeEach(ExtensionContext context) {
      String test =
          MachinePoolExtension.name(context.getRequiredTestClass())
              + "#"
              + context.getRequiredTestMethod().getName();
      arrivals.put(test, System.nanoTime());
    }
  }

  /** The body of every test: holds its machine for a while, checking the ledger and the lab. */
  static void hold(Machine machine, TestInfo info) throws InterruptedException {
    String me =
        MachinePoolExtension.name(info.getTestClass().orElseThrow())
            + "#"
            + info.getTestMethod().orElseThrow().getName();
    // how long the lock took, not counting the wait for the pool to open
    long from = Math.max(arrivals.get(me), CountingProvider.openedAt.get());
    long waitedMillis = (System.nanoTime() - from) / 1_000_000;
    if (waitedMillis >= HOLD_MILLIS / 2) {
      waited.add(me + " " + waitedMillis + " ms");
    }
    threads.add(Thread.currentThread().getName());
    machinesUsed.add(machine.name());
    String previous = ledger.putIfAbsent(machine.name(), me);
    if (previous != null) {
      overlaps.add(machine.name() + " held by " + previous + " and " + me);
    }
    mostHolding.accumulateAndGet(holding.incrementAndGet(), Math::max);
    try {
      assertThat(previous).as("another test holds " + machine.name()).isNull();
      Machine before = KitLab.current().machine(machine.name());
      assertThat(before.locked()).isTrue();
      assertThat(before.description()).as("the lab says who holds it").isEqualTo(me);
      Thread.sleep(HOLD_MILLIS);
      Machine after = KitLab.current().machine(machine.name());
      assertThat(after.generation())
          .as("not locked again meanwhile")
          .isEqualTo(before.generation());
      assertThat(after.description()).isEqualTo(me);
    } finally {
      holding.decrementAndGet();
      if (previous == null) {
        ledger.remove(machine.name(), me);
      }
    }
  }

  /** Six tests whose machine is an instance field. */
  @KitOnly
  @ExtendWith(Arrivals.class)
  @MachinePoolTest(pool = CountingProvider.class)
  static class ByField {
    @LockedMachines(machineType = "smithi", waitUpTo = 60)
    Machine machine;

    @Test
    void t1(TestInfo info) throws InterruptedException {
      hold(machine, info);
    }

    @Test
    void t2(TestInfo info) throws InterruptedException {
      hold(machine, info);
    }

    @Test
    void t3(TestInfo info) throws InterruptedException {
      hold(machine, info);
    }

    @Test
    void t4(TestInfo info) throws InterruptedException {
      hold(machine, info);
    }

    @Test
    void t5(TestInfo info) throws InterruptedException {
      hold(machine, info);
    }

    @Test
    void t6(TestInfo info) throws InterruptedException {
      hold(machine, info);
    }
  }

  /** Six tests whose machine is a parameter. */
  @KitOnly
  @ExtendWith(Arrivals.class)
  @MachinePoolTest(pool = CountingProvider.class)
  static class ByParameter {
    @Test
    void t1(@LockedMachines(machineType = "smithi", waitUpTo = 60) Machine m, TestInfo info)
        throws InterruptedException {
      hold(m, info);
    }

    @Test
    void t2(@LockedMachines(machineType = "smithi", waitUpTo = 60) Machine m, TestInfo info)
        throws InterruptedException {
      hold(m, info);
    }

    @Test
    void t3(@LockedMachines(machineType = "smithi", waitUpTo = 60) Machine m, TestInfo info)
        throws InterruptedException {
      hold(m, info);
    }

    @Test
    void t4(@LockedMachines(machineType = "smithi", waitUpTo = 60) Machine m, TestInfo info)
        throws InterruptedException {
      hold(m, info);
    }

    @Test
    void t5(@LockedMachines(machineType = "smithi", waitUpTo = 60) Machine m, TestInfo info)
        throws InterruptedException {
      hold(m, info);
    }

    @Test
    void t6(@LockedMachines(machineType = "smithi", waitUpTo = 60) Machine m, TestInfo info)
        throws InterruptedException {
      hold(m, info);
    }
  }

  @Test
  void twelveParallelTestsOnFourMachinesNeverShareOneAndQueueForThem() {
    lab = KitLab.create(KitLab.physical("smithi", MACHINES));
    CountingProvider.reset();
    ledger.clear();
    overlaps.clear();
    threads.clear();
    machinesUsed.clear();
    holding.set(0);
    mostHolding.set(0);
    arrivals.clear();
    waited.clear();
    long started = System.nanoTime();

    KitLab.assertSucceeded(
        lab.run(
            Map.of(
                "junit.jupiter.execution.parallel.enabled", "true",
                "junit.jupiter.execution.parallel.mode.default", "concurrent",
                "junit.jupiter.execution.parallel.mode.classes.default", "concurrent",
                "junit.jupiter.execution.parallel.config.strategy", "fixed",
                "junit.jupiter.execution.parallel.config.fixed.parallelism",
                    String.valueOf(THREADS)),
            ByField.class,
            ByParameter.class),
        TESTS);

    double seconds = (System.nanoTime() - started) / 1e9;
    log.info(
        "{} tests on {} machines in {} s: at most {} held at once, {} threads, {} tests waited"
            + " {} ms or more for a machine ({}), {} machines used, overlaps {}",
        TESTS,
        MACHINES,
        String.format("%.1f", seconds),
        mostHolding.get(),
        threads.size(),
        waited.size(),
        HOLD_MILLIS / 2,
        waited,
        machinesUsed.size(),
        overlaps);
    assertThat(overlaps).as("machines held by two tests at once").isEmpty();
    assertThat(mostHolding.get())
        .as("tests held machines in parallel, never more than there are")
        .isBetween(2, MACHINES);
    assertThat(threads.size()).as("test threads").isGreaterThan(1);
    assertThat(waited)
        .as("tests that found every machine taken, waited for one and then passed")
        .isNotEmpty();
    assertThat(CountingProvider.opens).as("one pool for the run").hasValue(1);
    assertThat(CountingProvider.closes).hasValue(1);
    assertThat(lab.locks()).as("one lock per test").isEqualTo(TESTS);
    lab.assertAllFree();
    assertThat(ledger).isEmpty();
    assertThat(seconds).as("the run stays short").isLessThan(60);
  }
}
