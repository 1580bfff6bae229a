package io.machinepool.junit5;

import static org.assertj.core.api.Assertions.assertThat;

import io.machinepool.InvalidRequestException;
import io.machinepool.Lease;
import io.machinepool.Machine;
import java.sql.SQLException;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.platform.testkit.engine.EngineExecutionResults;
import org.junit.platform.testkit.engine.Event;

/**
 * Wrong {@code @LockedMachines} declarations fail with an exception that names the field or
 * parameter and says what to change, before anything is locked.
 */
class DeclarationErrorsTest {
  /** How many test bodies of the classes below ran; none should. */
  static final AtomicInteger ran = new AtomicInteger();

  private KitLab lab;

  @AfterEach
  void closeLab() throws SQLException {
    if (lab != null) {
      lab.close();
    }
  }

  /** A valid static field beside the wrong one: it must not be locked either. */
  abstract static class WithValidField {
    @LockedMachines(machineType = "smithi", waitUpTo = 0)
    static Lease valid;

    @Test
    void test() {
      ran.incrementAndGet();
    }
  }

  @KitOnly
  @MachinePoolTest
  static class FinalField extends WithValidField {
    @LockedMachines(machineType = "smithi")
    static final Lease lease = null;
  }

  @KitOnly
  @MachinePoolTest
  static class WrongType extends WithValidField {
    @LockedMachines(machineType = "smithi")
    String name;
  }

  @KitOnly
  @MachinePoolTest
  static class RawList extends WithValidField {
    @SuppressWarnings("rawtypes")
    @LockedMachines(machineType = "smithi")
    List machines;
  }

  @KitOnly
  @MachinePoolTest
  static class SetOfMachines extends WithValidField {
    @LockedMachines(machineType = "smithi")
    Set<Machine> machines;
  }

  @KitOnly
  @MachinePoolTest
  static class ZeroCount extends WithValidField {
    @LockedMachines(machineType = "smithi", count = 0)
    List<Machine> machines;
  }

  @KitOnly
  @MachinePoolTest
  static class NamesAndType extends WithValidField {
    @LockedMachines(machineType = "smithi", names = "smithi001.front.sepia.ceph.com")
    Lease lease;
  }

  @KitOnly
  @MachinePoolTest
  static class NeitherNamesNorType extends WithValidField {
    @LockedMachines Lease lease;
  }

  @KitOnly
  @MachinePoolTest
  static class MachineOfTwo extends WithValidField {
    @LockedMachines(machineType = "smithi", count = 2)
    static Machine machine;
  }

  @KitOnly
  @MachinePoolTest
  static class NamesWithCount extends WithValidField {
    @LockedMachines(
        names = {"smithi001.front.sepia.ceph.com", "smithi002.front.sepia.ceph.com"},
        count = 3)
    Lease lease;
  }

  @KitOnly
  @MachinePoolTest
  static class VersionWithoutOs extends WithValidField {
    @LockedMachines(machineType = "smithi", osVersion = "22.04")
    Lease lease;
  }

  @KitOnly
  @MachinePoolTest
  static class NegativeWait extends WithValidField {
    @LockedMachines(machineType = "smithi", waitUpTo = -1)
    Lease lease;
  }

  @KitOnly
  @MachinePoolTest
  static class BadMachineType extends WithValidField {
    @LockedMachines(machineType = "smi thi")
    Lease lease;
  }

  static Stream<Arguments> wrongFields() {
    return Stream.of(
        Arguments.of(FinalField.class, "field DeclarationErrorsTest.FinalField.lease is final"),
        Arguments.of(
            WrongType.class,
            "field DeclarationErrorsTest.WrongType.name has type String, which cannot receive a"
                + " lease; declare it as Lease, List<Machine>, Machine (for one machine) or"
                + " Targets"),
        Arguments.of(
            RawList.class,
            "field DeclarationErrorsTest.RawList.machines is a raw List; declare it as"
                + " List<Machine>"),
        Arguments.of(
            SetOfMachines.class,
            "field DeclarationErrorsTest.SetOfMachines.machines has type Set<Machine>"),
        Arguments.of(ZeroCount.class, "count = 0; count must be at least 1"),
        Arguments.of(NamesAndType.class, "gives both names and machineType"),
        Arguments.of(NeitherNamesNorType.class, "says neither what machine type nor which"),
        Arguments.of(
            MachineOfTwo.class,
            "field DeclarationErrorsTest.MachineOfTwo.machine is a Machine but asks for 2"
                + " machines; declare it as List<Machine> or Lease"),
        Arguments.of(NamesWithCount.class, "leave count out when naming machines"),
        Arguments.of(VersionWithoutOs.class, "gives osVersion = \"22.04\" without os"),
        Arguments.of(NegativeWait.class, "has waitUpTo = -1; give 0"),
        Arguments.of(
            BadMachineType.class,
            "field DeclarationErrorsTest.BadMachineType.lease: machine type 'smi thi' has"
                + " characters outside"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("wrongFields")
  void aWrongFieldFailsTheClassSayingWhichFieldAndWhatToChangeAndLocksNothing(
      Class<?> testClass, String message) {
    lab = KitLab.create(KitLab.physical("smithi", 3));
    ran.set(0);

    EngineExecutionResults results = lab.run(testClass);

    Throwable failure = onlyFailure(results);
    assertThat(failure)
        .isInstanceOf(ExtensionConfigurationException.class)
        .hasMessageStartingWith("@LockedMachines ")
        .hasMessageContaining(message);
    if (testClass == BadMachineType.class) {
      assertThat(failure).hasCauseInstanceOf(InvalidRequestException.class);
    }
    assertThat(ran).as("no test ran").hasValue(0);
    assertThat(lab.locks()).as("nothing was locked").isZero();
  }

  @KitOnly
  @MachinePoolTest
  static class ParameterOfWrongType {
    @Test
    void test(@LockedMachines(machineType = "smithi") String name) {
      ran.incrementAndGet();
    }
  }

  @KitOnly
  @MachinePoolTest
  static class ParameterMachineOfThree {
    @Test
    void test(@LockedMachines(machineType = "smithi", count = 3) Machine machine) {
      ran.incrementAndGet();
    }
  }

  @KitOnly
  @MachinePoolTest
  static class ConstructorParameter {
    ConstructorParameter(@LockedMachines(machineType = "smithi") Lease lease) {}

    @Test
    void test() {
      ran.incrementAndGet();
    }
  }

  static Stream<Arguments> wrongParameters() {
    return Stream.of(
        Arguments.of(
            ParameterOfWrongType.class,
            "@LockedMachines parameter 1 of DeclarationErrorsTest.ParameterOfWrongType#test has"
                + " type String"),
        Arguments.of(
            ParameterMachineOfThree.class,
            "@LockedMachines parameter 1 of DeclarationErrorsTest.ParameterMachineOfThree#test is"
                + " a Machine but asks for 3 machines"),
        Arguments.of(
            ConstructorParameter.class,
            "@LockedMachines parameter 1 of DeclarationErrorsTest.ConstructorParameter's"
                + " constructor cannot be injected: annotate a field instead"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("wrongParameters")
  void aWrongParameterFailsItsTestSayingWhichParameterAndWhatToChange(
      Class<?> testClass, String message) {
    lab = KitLab.create(KitLab.physical("smithi", 3));
    ran.set(0);

    EngineExecutionResults results = lab.run(testClass);

    assertThat(onlyFailure(results))
        .isInstanceOf(ParameterResolutionException.class)
        .hasMessageContaining(message);
    assertThat(ran).as("no test ran").hasValue(0);
    assertThat(lab.locks()).as("nothing was locked").isZero();
  }

  @KitOnly
  @MachinePoolTest
  static class UnknownMachineType {
    @LockedMachines(machineType = "nosuchtype")
    Lease lease;

    @Test
    void test() {
      ran.incrementAndGet();
    }
  }

  @Test
  void aMachineTypeTheLabDoesNotHaveFailsAtOnceDespiteTheWait() {
    lab = KitLab.create(KitLab.physical("smithi", 1));
    ran.set(0);
    long started = System.nanoTime();

    Throwable failure = onlyFailure(lab.run(UnknownMachineType.class));

    assertThat(failure)
        .isInstanceOf(InvalidRequestException.class)
        .hasMessageContaining("nosuchtype");
    assertThat((System.nanoTime() - started) / 1_000_000_000.0).isLessThan(30);
    assertThat(ran).hasValue(0);
  }

  private static Throwable onlyFailure(EngineExecutionResults results) {
    List<Event> failed = results.allEvents().failed().list();
    assertThat(failed).as("one failure in %s", results.allEvents().list()).hasSize(1);
    return KitLab.failure(failed.get(0));
  }
}
