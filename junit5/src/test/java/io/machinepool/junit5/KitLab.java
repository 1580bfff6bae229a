package io.machinepool.junit5;

import static org.assertj.core.api.Assertions.assertThat;

import io.machinepool.Machine;
import io.machinepool.MachinePool;
import io.machinepool.MachineQuery;
import io.machinepool.MachineSpec;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.IntStream;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.platform.engine.DiscoverySelector;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.discovery.DiscoverySelectors;
import org.junit.platform.testkit.engine.EngineExecutionResults;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Event;

/**
 * A lab in a fresh in-memory H2 database, and the JUnit Platform test kit to run {@link KitOnly}
 * test classes against it through the {@link DefaultPoolProvider} (the kit passes the database's
 * URL as {@value DefaultPoolProvider#URL_PROPERTY}). Its own pool, {@link #observer()}, looks at
 * the database independently of the pool the extension opens.
 */
final class KitLab implements AutoCloseable {
  /** The configuration parameter that enables {@link KitOnly} classes. */
  static final String KIT = "machinepool.junit.kit";

  static final String DOMAIN = ".front.sepia.ceph.com";

  private static volatile KitLab current;

  private final String url;
  private final JdbcDataSource dataSource;
  private final MachinePool observer;

  private KitLab(String url, JdbcDataSource dataSource, MachinePool observer) {
    this.url = url;
    this.dataSource = dataSource;
    this.observer = observer;
  }

  /** A lab of these machines; the kit classes reach it through {@link #current()}. */
  static KitLab create(List<MachineSpec> machines) {
    return create("machinepool_", machines);
  }

  /** A lab of these machines in the tables of a prefix. */
  static KitLab create(String tablePrefix, List<MachineSpec> machines) {
    String url = "jdbc:h2:mem:junit-kit-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
    JdbcDataSource h2 = new JdbcDataSource();
    h2.setURL(url);
    MachinePool observer =
        MachinePool.builder()
            .dataSource(h2)
            .tablePrefix(tablePrefix)
            .releaseOnShutdown(false)
            .build();
    observer.inventory().addAll(machines);
    KitLab lab = new KitLab(url, h2, observer);
    current = lab;
    return lab;
  }

  /** {@code count} physical machines {@code <type>001...} of a type. */
  static List<MachineSpec> physical(String type, int count) {
    return IntStream.rangeClosed(1, count)
        .mapToObj(i -> MachineSpec.physical(String.format("%s%03d%s", type, i, DOMAIN), type))
        .toList();
  }

  /** The lab of the kit run under way. */
  static KitLab current() {
    KitLab lab = current;
    if (lab == null) {
      throw new IllegalStateException("no KitLab: run this class through KitLab.run");
    }
    return lab;
  }

  String url() {
    return url;
  }

  /** A pool of its own on the lab's database. */
  MachinePool observer() {
    return observer;
  }

  /** Runs test classes through the test kit, on this lab. */
  EngineExecutionResults run(Class<?>... classes) {
    return run(Map.of(), classes);
  }

  /** Runs test classes through the test kit, on this lab, with more configuration parameters. */
  EngineExecutionResults run(Map<String, String> parameters, Class<?>... classes) {
    return EngineTestKit.engine("junit-jupiter")
        .selectors(
            Arrays.stream(classes)
                .map(DiscoverySelectors::selectClass)
                .toArray(DiscoverySelector[]::new))
        .configurationParameter(KIT, "true")
        .configurationParameter(DefaultPoolProvider.URL_PROPERTY, url)
        .configurationParameters(parameters)
        .execute();
  }

  /** Every machine of the lab, as the database has it now. */
  List<Machine> machines() {
    return observer.machines(MachineQuery.all());
  }

  Machine machine(String name) {
    return observer.machine(name).orElseThrow();
  }

  /** How many locks the lab has seen: every lock increments its machines' generations. */
  long locks() {
    return machines().stream().mapToLong(Machine::generation).sum();
  }

  void assertAllFree() {
    assertThat(machines())
        .as("every machine is unlocked after the run")
        .allSatisfy(
            m -> assertThat(m.locked()).as(m.name() + " locked by " + m.lockedBy()).isFalse());
  }

  /**
   * Asserts that the run started this many tests and all of them succeeded, and that no class
   * failed; else fails listing what was thrown.
   */
  static void assertSucceeded(EngineExecutionResults results, int tests) {
    List<String> failures =
        results.allEvents().failed().stream()
            .map(e -> e.getTestDescriptor().getDisplayName() + ": " + failureOf(e).orElse(null))
            .toList();
    assertThat(failures).as("failures of the kit run").isEmpty();
    results.testEvents().assertStatistics(s -> s.started(tests).succeeded(tests));
  }

  /** The exception an event (a failed test or container) reported. */
  static Throwable failure(Event event) {
    return event
        .getPayload(TestExecutionResult.class)
        .flatMap(TestExecutionResult::getThrowable)
        .orElseThrow(() -> new AssertionError("no failure in " + event));
  }

  static Optional<Throwable> failureOf(Event event) {
    return event.getPayload(TestExecutionResult.class).flatMap(TestExecutionResult::getThrowable);
  }

  /** Closes the observer and drops the in-memory database. */
  @Override
  public void close() throws SQLException {
    current = null;
    observer.close();
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement()) {
      s.execute("SHUTDOWN");
    }
  }
}
