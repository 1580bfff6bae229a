package io.machinepool.junit5;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.machinepool.Lease;
import io.machinepool.LockRequest;
import io.machinepool.Machine;
import io.machinepool.MachinePool;
import io.machinepool.MachineSpec;
import io.machinepool.NotEnoughMachinesException;
import io.machinepool.PoolClosedException;
import io.machinepool.Targets;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.platform.testkit.engine.EngineExecutionResults;
import org.junit.platform.testkit.engine.Event;

/**
 * The lifecycle of the leases the extension hands out, proven by running small {@link KitOnly} test
 * classes through the test kit on an H2 lab, and looking at the lab's database afterwards.
 */
class MachinePoolExtensionTest {
  private static final String SMITHI1 = "smithi001" + KitLab.DOMAIN;
  private static final String SMITHI2 = "smithi002" + KitLab.DOMAIN;

  private KitLab lab;

  @AfterEach
  void closeLab() throws SQLException {
    if (lab != null) {
      lab.close();
    }
  }

  /**
   * Runs after the class under test in the same kit run, and locks all three machines of the lab at
   * once without waiting: it passes only when the class under test released everything as soon as
   * it was done, not merely when the pool closed at the end of the run.
   */
  @KitOnly
  @MachinePoolTest
  @Order(Integer.MAX_VALUE)
  static class TakesWholeLab {
    static final List<List<String>> took = new CopyOnWriteArrayList<>();

    @LockedMachines(
        machineType = {"smithi", "mira"},
        count = 3,
        waitUpTo = 0)
    static Lease all;

    @Test
    void takesAllThree() {
      took.add(all.names());
    }
  }

  /** Runs a class, then {@link TakesWholeLab}, on a lab of three machines. */
  private EngineExecutionResults runThenTakeWholeLab(Class<?> underTest) {
    TakesWholeLab.took.clear();
    EngineExecutionResults results =
        lab.run(
            Map.of(
                "junit.jupiter.testclass.order.default",
                "org.junit.jupiter.api.ClassOrderer$OrderAnnotation"),
            underTest,
            TakesWholeLab.class);
    assertThat(TakesWholeLab.took)
        .as("the whole lab was free right after %s", underTest.getSimpleName())
        .hasSize(1);
    assertThat(TakesWholeLab.took.get(0)).hasSize(3);
    return results;
  }

  // --- a static field: one lease for the class ----------------------------------------------

  @KitOnly
  @MachinePoolTest
  static class StaticField {
    static final List<Lease> seen = new CopyOnWriteArrayList<>();
    static final List<Boolean> openInAfterAll = new CopyOnWriteArrayList<>();

    @LockedMachines(machineType = "smithi", count = 2, waitUpTo = 0)
    static Lease cluster;

    @Test
    void first() {
      record();
    }

    @Test
    void second() {
      record();
    }

    private static void record() {
      seen.add(cluster);
      for (String name : cluster.names()) {
        assertThat(KitLab.current().machine(name).locked()).as(name).isTrue();
      }
    }

    @AfterAll
    static void afterAll() {
      openInAfterAll.add(cluster.isOpen());
    }
  }

  @Test
  void aStaticFieldHoldsOneLeaseForAllTestsOfTheClassAndItIsReleasedAfterThem() {
    lab = KitLab.create(KitLab.physical("smithi", 3));
    StaticField.seen.clear();
    StaticField.openInAfterAll.clear();

    KitLab.assertSucceeded(runThenTakeWholeLab(StaticField.class), 3);

    assertThat(StaticField.seen).hasSize(2);
    Lease lease = StaticField.seen.get(0);
    assertThat(StaticField.seen.get(1)).as("the same lease in both tests").isSameAs(lease);
    assertThat(lease.machines()).hasSize(2);
    assertThat(StaticField.openInAfterAll).as("still held in @AfterAll").containsExactly(true);
    assertThat(lease.isOpen()).as("released after the class").isFalse();
    lab.assertAllFree();
    assertThat(lab.locks()).as("one lock of two machines, then the whole lab").isEqualTo(5);
  }

  // --- an instance field: a lease per test method --------------------------------------------

  @KitOnly
  @MachinePoolTest
  @TestMethodOrder(MethodOrderer.MethodName.class)
  static class InstanceField {
    static final List<Lease> seen = new CopyOnWriteArrayList<>();
    static final List<Boolean> openInBeforeEach = new CopyOnWriteArrayList<>();
    static final List<Boolean> openInAfterEach = new CopyOnWriteArrayList<>();

    // the lab has one smithi and the lock does not wait: a lease left over from an earlier test
    // would make the next one fail
    @LockedMachines(machineType = "smithi", waitUpTo = 0)
    Lease lease;

    @BeforeEach
    void beforeEach() {
      openInBeforeEach.add(lease != null && lease.isOpen());
    }

    @Test
    void a() {
      seen.add(lease);
    }

    @Test
    void b() {
      seen.add(lease);
    }

    @Test
    void c() {
      seen.add(lease);
    }

    @AfterEach
    void afterEach() {
      openInAfterEach.add(lease.isOpen());
    }
  }

  @Test
  void anInstanceFieldGetsAFreshLeaseForEachTestReleasedAfterIt() {
    lab = KitLab.create(KitLab.physical("smithi", 1));
    InstanceField.seen.clear();
    InstanceField.openInBeforeEach.clear();
    InstanceField.openInAfterEach.clear();

    KitLab.assertSucceeded(lab.run(InstanceField.class), 3);

    assertThat(InstanceField.seen).hasSize(3);
    assertThat(InstanceField.seen.stream().map(Lease::token).distinct())
        .as("three leases")
        .hasSize(3);
    assertThat(InstanceField.seen).allSatisfy(l -> assertThat(l.isOpen()).isFalse());
    assertThat(InstanceField.openInBeforeEach).containsExactly(true, true, true);
    assertThat(InstanceField.openInAfterEach).containsExactly(true, true, true);
    lab.assertAllFree();
    assertThat(lab.locks()).isEqualTo(3);
  }

  // --- parameters: a lease per invocation ----------------------------------------------------

  @KitOnly
  @MachinePoolTest
  @TestMethodOrder(MethodOrderer.OrderAnnotation.class)
  static class Parameters {
    static final List<Object> seen = new CopyOnWriteArrayList<>();
    static Lease forClass;

    @BeforeAll
    static void beforeAll(@LockedMachines(machineType = "mira", waitUpTo = 0) Lease lease) {
      forClass = lease;
    }

    // two smithi in the lab, no waiting: each test needs what the one before it held
    @Test
    @Order(1)
    void machine(@LockedMachines(machineType = "smithi", waitUpTo = 0) Machine machine) {
      seen.add(machine);
      Machine now = KitLab.current().machine(machine.name());
      assertThat(now.locked()).isTrue();
      assertThat(now.description()).isEqualTo("MachinePoolExtensionTest.Parameters#machine");
      assertThat(forClass.isOpen()).isTrue();
    }

    @Test
    @Order(2)
    void machines(
        @LockedMachines(machineType = "smithi", count = 2, waitUpTo = 0) List<Machine> machines) {
      seen.add(machines);
      assertThat(forClass.isOpen()).isTrue();
    }

    @Test
    @Order(3)
    void targets(
        @LockedMachines(
                names = {"smithi001.front.sepia.ceph.com", "smithi002.front.sepia.ceph.com"},
                waitUpTo = 0)
            Targets targets) {
      seen.add(targets);
    }

    @AfterAll
    static void afterAll() {
      seen.add(forClass.isOpen());
    }
  }

  @Test
  void parametersGetALeasePerInvocationAndBeforeAllParametersOneForTheClass() {
    List<MachineSpec> machines = new ArrayList<>(KitLab.physical("smithi", 2));
    machines.addAll(KitLab.physical("mira", 1));
    lab = KitLab.create(machines);
    Parameters.seen.clear();
    Parameters.forClass = null;

    KitLab.assertSucceeded(runThenTakeWholeLab(Parameters.class), 4);

    assertThat(Parameters.seen).hasSize(4);
    assertThat(Parameters.seen.get(0)).isInstanceOf(Machine.class);
    assertThat(((Machine) Parameters.seen.get(0)).machineType()).isEqualTo("smithi");
    assertThat((List<?>) Parameters.seen.get(1)).hasSize(2);
    assertThat(((Targets) Parameters.seen.get(2)).names()).containsExactly(SMITHI1, SMITHI2);
    assertThat(Parameters.seen.get(3)).as("the @BeforeAll lease, in @AfterAll").isEqualTo(true);
    assertThat(Parameters.forClass.machines()).extracting(Machine::machineType).contains("mira");
    assertThat(Parameters.forClass.isOpen()).isFalse();
    lab.assertAllFree();
    assertThat(lab.locks()).as("mira once, smithi 1 + 2 + 2, then the whole lab").isEqualTo(9);
  }

  // --- released when tests fail ------------------------------------------------------------

  @KitOnly
  @MachinePoolTest
  @TestMethodOrder(MethodOrderer.MethodName.class)
  static class FailingTests {
    static final List<Lease> seen = new CopyOnWriteArrayList<>();

    @LockedMachines(machineType = "mira", waitUpTo = 0)
    static Machine forClass;

    // one smithi, no waiting: c passes only when the leases of a and b were released
    @LockedMachines(machineType = "smithi", waitUpTo = 0)
    Lease lease;

    @Test
    void a_fails() {
      seen.add(lease);
      assertThat(lease.names()).as("a failing assertion").isEmpty();
    }

    @Test
    void b_throws() {
      seen.add(lease);
      throw new IllegalStateException("the test threw");
    }

    @Test
    void c_passes() {
      seen.add(lease);
    }
  }

  @Test
  void leasesAreReleasedWhenTestsFailOrThrow() {
    List<MachineSpec> machines = new ArrayList<>(KitLab.physical("smithi", 1));
    machines.addAll(KitLab.physical("mira", 1));
    lab = KitLab.create(machines);
    FailingTests.seen.clear();

    EngineExecutionResults results = lab.run(FailingTests.class);

    results.testEvents().assertStatistics(s -> s.started(3).succeeded(1).failed(2));
    assertThat(results.testEvents().failed().stream().map(KitLab::failure))
        .as("the tests' own failures, not lock failures")
        .hasExactlyElementsOfTypes(AssertionError.class, IllegalStateException.class);
    assertThat(FailingTests.seen).hasSize(3).allSatisfy(l -> assertThat(l.isOpen()).isFalse());
    lab.assertAllFree();
    assertThat(lab.locks()).isEqualTo(4);
  }

  // --- released when a later field cannot be locked ------------------------------------------

  @KitOnly
  @MachinePoolTest
  static class SecondStaticFieldFails {
    static boolean ran;

    // three smithi in the lab: whichever field comes first gets two, the other fails
    @LockedMachines(machineType = "smithi", count = 2, waitUpTo = 0)
    static Lease one;

    @LockedMachines(machineType = "smithi", count = 2, waitUpTo = 0)
    static Lease other;

    @Test
    void neverRuns() {
      ran = true;
    }
  }

  @Test
  void whenTheSecondStaticFieldCannotBeLockedTheFirstIsReleased() {
    lab = KitLab.create(KitLab.physical("smithi", 3));
    SecondStaticFieldFails.ran = false;
    SecondStaticFieldFails.one = null;
    SecondStaticFieldFails.other = null;

    EngineExecutionResults results = runThenTakeWholeLab(SecondStaticFieldFails.class);

    List<Event> failed = results.containerEvents().failed().list();
    assertThat(failed).hasSize(1);
    assertThat(KitLab.failure(failed.get(0)))
        .isInstanceOf(NotEnoughMachinesException.class)
        .hasMessageContaining("only 1 smithi machine available, 2 requested");
    assertThat(SecondStaticFieldFails.ran).isFalse();
    List<Lease> injected =
        Stream.of(SecondStaticFieldFails.one, SecondStaticFieldFails.other)
            .filter(l -> l != null)
            .toList();
    assertThat(injected).as("only the lease that was locked in full is injected").hasSize(1);
    assertThat(injected.get(0).isOpen()).isFalse();
    lab.assertAllFree();
    assertThat(lab.locks()).as("two machines for the first field, then the whole lab").isEqualTo(5);
  }

  /** Looks at the fields of a test instance after the before-each callbacks, failed or not. */
  static final class InspectFields implements AfterEachCallback {
    @Override
    public void afterEach(ExtensionContext context) {
      SecondInstanceFieldFails test = (SecondInstanceFieldFails) context.getRequiredTestInstance();
      SecondInstanceFieldFails.injected.add(Stream.of(test.one, test.other).toList());
    }
  }

  @KitOnly
  @MachinePoolTest
  @ExtendWith(InspectFields.class)
  static class SecondInstanceFieldFails {
    static final List<List<Lease>> injected = new CopyOnWriteArrayList<>();
    static boolean ran;

    @LockedMachines(machineType = "smithi", count = 2, waitUpTo = 0)
    Lease one;

    @LockedMachines(machineType = "smithi", count = 2, waitUpTo = 0)
    Lease other;

    @Test
    void neverRuns() {
      ran = true;
    }
  }

  @Test
  void whenTheSecondInstanceFieldCannotBeLockedTheFirstIsReleased() {
    lab = KitLab.create(KitLab.physical("smithi", 3));
    SecondInstanceFieldFails.injected.clear();
    SecondInstanceFieldFails.ran = false;

    EngineExecutionResults results = runThenTakeWholeLab(SecondInstanceFieldFails.class);

    results.testEvents().assertStatistics(s -> s.started(2).succeeded(1).failed(1));
    assertThat(KitLab.failure(results.testEvents().failed().list().get(0)))
        .isInstanceOf(NotEnoughMachinesException.class);
    assertThat(SecondInstanceFieldFails.ran).isFalse();
    assertThat(SecondInstanceFieldFails.injected).hasSize(1);
    List<Lease> fields = SecondInstanceFieldFails.injected.get(0);
    List<Lease> held = fields.stream().filter(l -> l != null).toList();
    assertThat(held).as("the first field was injected, the second was not").hasSize(1);
    assertThat(held.get(0).isOpen()).isFalse();
    lab.assertAllFree();
    assertThat(lab.locks()).as("two machines for the first field, then the whole lab").isEqualTo(5);
  }

  // --- descriptions, owners, OS and arch ------------------------------------------------------

  @KitOnly
  @MachinePoolTest
  static class Described {
    static final List<Machine> seen = new CopyOnWriteArrayList<>();

    @LockedMachines(machineType = "smithi", waitUpTo = 0)
    static Machine forClass;

    @LockedMachines(machineType = "smithi", waitUpTo = 0)
    Machine forTest;

    @LockedMachines(
        machineType = "smithi",
        owner = "ci@build7",
        description = "run-42/job-3",
        waitUpTo = 0)
    Machine explicit;

    @LockedMachines(
        machineType = "mira",
        os = "centos",
        osVersion = "9",
        arch = "x86_64",
        waitUpTo = 0)
    Machine centos;

    @Test
    void describe() {
      Stream.of(forClass, forTest, explicit, centos)
          .map(m -> KitLab.current().machine(m.name()))
          .forEach(seen::add);
    }
  }

  @Test
  void descriptionsNameTheTestOwnersDefaultToUserAtHostAndOsAndArchFilter() {
    List<MachineSpec> machines = new ArrayList<>(KitLab.physical("smithi", 3));
    machines.add(MachineSpec.physical("mira001" + KitLab.DOMAIN, "mira").withOs("ubuntu", "22.04"));
    machines.add(
        MachineSpec.physical("mira002" + KitLab.DOMAIN, "mira")
            .withOs("centos", "9")
            .withArch("x86_64"));
    machines.add(
        MachineSpec.physical("mira003" + KitLab.DOMAIN, "mira")
            .withOs("centos", "9")
            .withArch("aarch64"));
    lab = KitLab.create(machines);
    Described.seen.clear();

    KitLab.assertSucceeded(lab.run(Described.class), 1);

    assertThat(Described.seen).hasSize(4);
    Machine forClass = Described.seen.get(0);
    Machine forTest = Described.seen.get(1);
    Machine explicit = Described.seen.get(2);
    Machine centos = Described.seen.get(3);
    assertThat(forClass.description()).isEqualTo("MachinePoolExtensionTest.Described");
    assertThat(forTest.description()).isEqualTo("MachinePoolExtensionTest.Described#describe");
    assertThat(List.of(forClass.lockedBy(), forTest.lockedBy(), centos.lockedBy()))
        .containsOnly(LockRequest.defaultOwner());
    assertThat(LockRequest.defaultOwner()).contains("@");
    assertThat(explicit.lockedBy()).isEqualTo("ci@build7");
    assertThat(explicit.description()).isEqualTo("run-42/job-3");
    assertThat(centos.name()).isEqualTo("mira002" + KitLab.DOMAIN);
    assertThat(Stream.of(forClass, forTest, explicit).map(Machine::name).distinct()).hasSize(3);
    lab.assertAllFree();
  }

  // --- one pool per provider per run ---------------------------------------------------------

  @KitOnly
  @MachinePoolTest(pool = CountingProvider.class)
  static class CountedOne {
    static final List<Lease> seen = new CopyOnWriteArrayList<>();

    @LockedMachines(machineType = "smithi")
    static Lease forClass;

    @Test
    void test() {
      seen.add(forClass);
    }

    @Nested
    class Inner {
      @LockedMachines(machineType = "smithi")
      Lease forTest;

      @Test
      void test() {
        assertThat(forClass.isOpen()).as("the outer class's lease").isTrue();
        assertThat(forTest.names()).doesNotContainAnyElementsOf(forClass.names());
        seen.add(forTest);
      }
    }
  }

  @KitOnly
  @MachinePoolTest(pool = CountingProvider.class)
  static class CountedTwo {
    @LockedMachines(machineType = "smithi")
    Lease forTest;

    @Test
    void test() {
      CountedOne.seen.add(forTest);
    }
  }

  @Test
  void eachProviderOpensOnePoolPerRunSharedByClassesAndNestedClassesAndClosedAtTheEnd() {
    lab = KitLab.create(KitLab.physical("smithi", 3));
    CountingProvider.reset();
    CountedOne.seen.clear();

    KitLab.assertSucceeded(
        lab.run(
            Map.of(
                "junit.jupiter.execution.parallel.enabled", "true",
                "junit.jupiter.execution.parallel.mode.default", "concurrent",
                "junit.jupiter.execution.parallel.mode.classes.default", "concurrent"),
            CountedOne.class,
            CountedTwo.class),
        3);

    assertThat(CountingProvider.opens).hasValue(1);
    assertThat(CountingProvider.closes).hasValue(1);
    assertThat(CountedOne.seen).hasSize(3);
    MachinePool pool = CountingProvider.opened.get();
    assertThatThrownBy(pool::summary)
        .as("the pool is closed at the end of the run")
        .isInstanceOf(PoolClosedException.class);
    lab.assertAllFree();
  }

  /** A provider that cannot open its pool. */
  static final class BrokenProvider implements PoolProvider {
    static final List<String> attempts = new CopyOnWriteArrayList<>();

    @Override
    public MachinePool open(ExtensionContext run) {
      attempts.add(run.getUniqueId());
      throw new IllegalStateException("the lab simulator did not start");
    }
  }

  @KitOnly
  @MachinePoolTest(pool = BrokenProvider.class)
  static class Broken {
    @LockedMachines(machineType = "smithi")
    Machine machine;

    @Test
    void one() {}

    @Test
    void two() {}
  }

  @Test
  void aProviderThatFailsIsAskedOnceAndEveryTestThatNeedsItFailsSayingWhy() {
    lab = KitLab.create(KitLab.physical("smithi", 1));
    BrokenProvider.attempts.clear();

    EngineExecutionResults results = lab.run(Broken.class);

    results.testEvents().assertStatistics(s -> s.started(2).failed(2));
    assertThat(results.testEvents().failed().stream().map(KitLab::failure))
        .allSatisfy(
            e ->
                assertThat(e)
                    .isInstanceOf(ExtensionConfigurationException.class)
                    .hasMessageContaining("the pool of " + BrokenProvider.class.getName())
                    .hasMessageContaining("the lab simulator did not start")
                    .hasCauseInstanceOf(IllegalStateException.class));
    assertThat(BrokenProvider.attempts).hasSize(1);
    assertThat(lab.locks()).isZero();
  }

  // --- the default provider's table prefix ---------------------------------------------------

  @KitOnly
  @MachinePoolTest
  static class Prefixed {
    static final List<String> seen = new CopyOnWriteArrayList<>();

    @LockedMachines(names = "lab2box001.front.sepia.ceph.com", waitUpTo = 0)
    Machine machine;

    @Test
    void test() {
      seen.add(machine.name());
    }
  }

  @Test
  void theDefaultProviderUsesTheTablePrefixOfItsConfigurationParameter() {
    lab = KitLab.create("lab2_", KitLab.physical("lab2box", 1));
    Prefixed.seen.clear();

    KitLab.assertSucceeded(
        lab.run(Map.of(DefaultPoolProvider.TABLE_PREFIX_PROPERTY, "lab2_"), Prefixed.class), 1);

    assertThat(Prefixed.seen).containsExactly("lab2box001" + KitLab.DOMAIN);
    assertThat(lab.locks()).isEqualTo(1);
    lab.assertAllFree();
  }
}
