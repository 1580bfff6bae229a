package io.machinepool.junit5;

import static org.assertj.core.api.Assertions.assertThat;

import io.machinepool.Lease;
import io.machinepool.Machine;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * The two cases where one field serves tests that run at the same time: an instance field of a
 * {@code PER_CLASS} test class whose methods run concurrently, and a superclass's static field
 * inherited by test classes that run in parallel. Each gets one lease, which every test using the
 * field sees, held until the last of them is done. The lab has one machine and the declarations do
 * not wait, so a second lease would fail the run.
 */
class SharedLeasesTest {
  private static final Map<String, String> PARALLEL =
      Map.of(
          "junit.jupiter.execution.parallel.enabled", "true",
          "junit.jupiter.execution.parallel.mode.default", "concurrent",
          "junit.jupiter.execution.parallel.mode.classes.default", "concurrent",
          "junit.jupiter.execution.parallel.config.strategy", "fixed",
          "junit.jupiter.execution.parallel.config.fixed.parallelism", "4");

  private static final String SMITHI = "smithi001" + KitLab.DOMAIN;

  /** What each test saw: its name, the lease's token and whether the lab had the machine locked. */
  static final List<String> seen = new CopyOnWriteArrayList<>();

  static final Set<String> tokens = ConcurrentHashMap.newKeySet();

  /** Counted down by each test that must run at the same time as the others. */
  static volatile CountDownLatch together = new CountDownLatch(0);

  private KitLab lab;

  @AfterEach
  void closeLab() throws SQLException {
    if (lab != null) {
      lab.close();
    }
  }

  private void startRun(int concurrentTests) {
    lab = KitLab.create(KitLab.physical("smithi", 1));
    seen.clear();
    tokens.clear();
    together = new CountDownLatch(concurrentTests);
  }

  /** The body of each test: notes the lease, then waits until all the others run too. */
  static void meetTheOthers(String test, Lease lease) throws InterruptedException {
    Machine inLab = KitLab.current().machine(lease.names().get(0));
    tokens.add(lease.token());
    seen.add(test + " locked=" + inLab.locked() + " by " + inLab.description());
    together.countDown();
    assertThat(together.await(20, TimeUnit.SECONDS))
        .as(test + " ran at the same time as the others")
        .isTrue();
    assertThat(lease.isOpen()).as("the lease is still held while a test uses it").isTrue();
  }

  // --- PER_CLASS, methods concurrent
  // --------------------------------------------------------------

  /**
   * One instance for three concurrent tests: its instance field holds one lease for all of them.
   */
  @KitOnly
  @MachinePoolTest
  @TestInstance(TestInstance.Lifecycle.PER_CLASS)
  @Execution(ExecutionMode.CONCURRENT)
  static class PerClassConcurrent {
    @LockedMachines(machineType = "smithi", waitUpTo = 0)
    Lease machine;

    @BeforeAll
    void heldBeforeAll() {
      assertThat(machine).as("locked before the @BeforeAll methods").isNotNull();
      assertThat(KitLab.current().machine(SMITHI).locked()).isTrue();
    }

    @Test
    void t1() throws InterruptedException {
      meetTheOthers("t1", machine);
    }

    @Test
    void t2() throws InterruptedException {
      meetTheOthers("t2", machine);
    }

    @Test
    void t3() throws InterruptedException {
      meetTheOthers("t3", machine);
    }

    @AfterAll
    void stillHeldAfterAll() {
      assertThat(machine.isOpen()).as("unlocked only after the @AfterAll methods").isTrue();
      assertThat(KitLab.current().machine(SMITHI).locked()).isTrue();
    }
  }

  @Test
  void perClassInstanceFieldIsOneLeaseForAllConcurrentMethodsOfTheInstance() {
    startRun(3);

    KitLab.assertSucceeded(lab.run(PARALLEL, PerClassConcurrent.class), 3);

    assertThat(tokens).as("every method saw the same lease").hasSize(1);
    assertThat(seen)
        .hasSize(3)
        .allSatisfy(
            s -> assertThat(s).endsWith("locked=true by SharedLeasesTest.PerClassConcurrent"));
    assertThat(lab.locks()).as("locked once for the instance").isEqualTo(1);
    lab.assertAllFree();
  }

  // --- a superclass's static field, subclasses in parallel
  // ----------------------------------------

  /** Declares the static field its subclasses share. */
  @MachinePoolTest
  abstract static class SharedBase {
    @LockedMachines(machineType = "smithi", waitUpTo = 0)
    static Lease shared;
  }

  @KitOnly
  static class FirstSubclass extends SharedBase {
    @Test
    void first() throws InterruptedException {
      meetTheOthers("first", shared);
    }
  }

  @KitOnly
  static class SecondSubclass extends SharedBase {
    @Test
    void second() throws InterruptedException {
      meetTheOthers("second", shared);
    }
  }

  @Test
  void subclassesRunningInParallelShareOneLeaseOfTheirSuperclassesStaticField() {
    startRun(2);

    KitLab.assertSucceeded(lab.run(PARALLEL, FirstSubclass.class, SecondSubclass.class), 2);

    assertThat(tokens).as("both classes saw the same lease").hasSize(1);
    assertThat(seen)
        .hasSize(2)
        .allSatisfy(
            s ->
                assertThat(s)
                    .as("described by the class that declares the field")
                    .endsWith("locked=true by SharedLeasesTest.SharedBase"));
    assertThat(lab.locks()).as("locked once for both classes").isEqualTo(1);
    lab.assertAllFree();
  }

  /** The same field, for classes that run one after the other. */
  @MachinePoolTest
  abstract static class SequentialBase {
    @LockedMachines(machineType = "smithi", waitUpTo = 0)
    static Lease shared;
  }

  @KitOnly
  static class EarlierSubclass extends SequentialBase {
    @Test
    void earlier() throws InterruptedException {
      meetTheOthers("earlier", shared);
    }
  }

  @KitOnly
  static class LaterSubclass extends SequentialBase {
    @Test
    void later() throws InterruptedException {
      meetTheOthers("later", shared);
    }
  }

  @Test
  void subclassesRunningOneAfterTheOtherEachLockTheSuperclassesStaticFieldAnew() {
    startRun(0);

    KitLab.assertSucceeded(lab.run(EarlierSubclass.class, LaterSubclass.class), 2);

    assertThat(tokens).as("a lease each: the first was unlocked when its class ended").hasSize(2);
    assertThat(lab.locks()).isEqualTo(2);
    lab.assertAllFree();
  }
}
