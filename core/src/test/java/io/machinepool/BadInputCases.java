package io.machinepool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.machinepool.testing.TestDatabase;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.UnaryOperator;
import java.util.logging.Logger;
import java.util.stream.IntStream;
import javax.sql.DataSource;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Bad input of every kind gets a typed exception with a clear message, and changes nothing. {@link
 * BadInputTest} runs these cases on every database, each skipped with its reason when it is not
 * configured.
 */
abstract class BadInputCases {
  private static final String OWNER = "alice@build7";

  /** Control characters and unpaired UTF-16 surrogates, which no stored text may hold. */
  private static final String[] FORBIDDEN = {
    "\u0000",
    "run\u00002",
    "\u001b[31mred",
    "bell\u0007",
    "del\u007f",
    "next\u0085line",
    "\ud800",
    "x\udc00y",
    "cut\ud83d",
    "\ude00swapped\ud83d"
  };

  private final TestDatabase.Kind kind;
  private TestDatabase db;
  private MachinePool pool;
  private List<List<String>> before;

  BadInputCases(TestDatabase.Kind kind) {
    this.kind = kind;
  }

  @BeforeEach
  void setUp() {
    Assumptions.assumeTrue(kind.available(), kind::skipReason);
    db = TestDatabase.open(kind);
    pool =
        MachinePool.builder()
            .dataSource(db.dataSource())
            .tablePrefix(db.prefix())
            .releaseOnShutdown(false)
            .build();
    pool.inventory().add(MachineSpec.physical("smithi001.front", "smithi"));
    pool.inventory().add(MachineSpec.physical("smithi002.front", "smithi"));
    pool.lock(
        LockRequest.builder().owner("bob@h").names("smithi002.front").keepUntilUnlocked().build());
    before = db.snapshot();
  }

  @AfterEach
  void tearDown() {
    if (pool != null) {
      pool.close();
    }
    if (db != null) {
      db.close();
    }
  }

  private void rejected(
      ThrowingCallable call, Class<? extends MachinePoolException> type, String message) {
    assertThatThrownBy(call).isInstanceOf(type).hasMessageContaining(message);
    assertThat(db.snapshot()).as("the database is unchanged").isEqualTo(before);
  }

  @ParameterizedTest
  @ValueSource(strings = {"", " ", "\t"})
  void blankOwnerIsRejected(String owner) {
    rejected(
        () -> pool.lock(LockRequest.builder().owner(owner).names("smithi001.front").build()),
        InvalidRequestException.class,
        "an owner is required");
    rejected(
        () -> pool.unlock("smithi002.front", owner),
        InvalidRequestException.class,
        "an owner is required");
  }

  @Test
  void nullOwnerIsRejected() {
    rejected(
        () -> pool.lock(LockRequest.builder().owner(null).machineType("smithi").count(1).build()),
        InvalidRequestException.class,
        "an owner is required");
    rejected(
        () -> pool.unlock("smithi002.front", null),
        InvalidRequestException.class,
        "an owner is required");
  }

  @ParameterizedTest
  @ValueSource(ints = {0, -1, Integer.MIN_VALUE})
  void countBelowOneIsRejected(int count) {
    rejected(
        () ->
            pool.lock(
                LockRequest.builder().owner(OWNER).machineType("smithi").count(count).build()),
        InvalidRequestException.class,
        "count must be at least 1, was " + count);
  }

  @Test
  void countAboveTheFreeMachinesIsNotEnoughMachines() {
    rejected(
        () -> pool.lock(LockRequest.builder().owner(OWNER).machineType("smithi").count(2).build()),
        NotEnoughMachinesException.class,
        "only 1 smithi machine available, 2 requested");
  }

  @Test
  void countAboveTheInventoryIsInvalidAtOnceEvenWhenTheRequestWouldWait() {
    long start = System.nanoTime();
    rejected(
        () ->
            pool.lock(
                LockRequest.builder()
                    .owner(OWNER)
                    .machineType("smithi")
                    .count(3)
                    .waitUpTo(Duration.ofMinutes(1))
                    .build()),
        InvalidRequestException.class,
        "only 2 smithi machines in the inventory, 3 requested");
    assertThat(Duration.ofNanos(System.nanoTime() - start))
        .as("no wait can make the inventory larger")
        .isLessThan(Duration.ofSeconds(20));
  }

  @ParameterizedTest
  @ValueSource(ints = {1001, 100_000_000, Integer.MAX_VALUE})
  void countAboveWhatOneRequestMayLockIsRefusedBeforeAnythingIsAllocated(int count) {
    rejected(
        () ->
            pool.lock(
                LockRequest.builder().owner(OWNER).machineType("smithi").count(count).build()),
        InvalidRequestException.class,
        "count " + count + " is more than one request may lock: at most 1000 machines");
  }

  @Test
  void unknownMachineTypeIsRejected() {
    rejected(
        () -> pool.lock(LockRequest.builder().owner(OWNER).machineType("plana").count(1).build()),
        InvalidRequestException.class,
        "unknown machine type plana");
  }

  @Test
  void unknownMachineNameIsRejected() {
    rejected(
        () -> pool.lock(LockRequest.builder().owner(OWNER).names("smithi404.front").build()),
        NoSuchMachineException.class,
        "no machine named smithi404.front");
    rejected(
        () -> pool.unlock("smithi404.front", OWNER),
        NoSuchMachineException.class,
        "smithi404.front");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "smithi'001",
        "smithi\"001",
        "smithi001;",
        "smithi 001",
        "smithi001$(reboot)",
        "smithi`id`",
        "a|b",
        "a&b",
        "a>b",
        "a\nb",
        "a\\b",
        "a/b",
        "smithi001' OR '1'='1",
        "a\u0000b",
        "a\ud800b"
      })
  void namesWithCharactersOutsideTheAllowedSetAreRejected(String name) {
    rejected(
        () -> pool.lock(LockRequest.builder().owner(OWNER).names(name).build()),
        InvalidRequestException.class,
        "has characters outside [A-Za-z0-9._@:-]");
    rejected(
        () -> pool.unlock(name, OWNER), InvalidRequestException.class, "has characters outside");
    rejected(() -> pool.machine(name), InvalidRequestException.class, "has characters outside");
    rejected(
        () -> pool.inventory().add(MachineSpec.physical(name, "smithi")),
        InvalidRequestException.class,
        "has characters outside");
    rejected(
        () -> pool.lock(LockRequest.builder().owner(OWNER).machineType(name).count(1).build()),
        InvalidRequestException.class,
        "has characters outside");
  }

  @Test
  void nullArgumentsAreRejected() {
    rejected(() -> pool.lock(null), InvalidRequestException.class, "lock request must not be null");
    rejected(
        () -> pool.unlock(null, OWNER),
        InvalidRequestException.class,
        "machine name must not be blank");
    rejected(() -> pool.machines(null), InvalidRequestException.class, "query must not be null");
    rejected(() -> pool.targets(null), InvalidRequestException.class, "query must not be null");
    rejected(
        () -> pool.machine(null), InvalidRequestException.class, "machine name must not be blank");
    rejected(
        () -> pool.inventory().add(null),
        InvalidRequestException.class,
        "machine spec must not be null");
    rejected(
        () -> pool.inventory().update(null),
        InvalidRequestException.class,
        "machine spec must not be null");
    rejected(
        () -> pool.inventory().markDown("smithi001.front", null),
        InvalidRequestException.class,
        "say why");
    rejected(
        () -> LockRequest.builder().owner(OWNER).names((String[]) null),
        InvalidRequestException.class,
        "machine names must not be null");
    rejected(
        () -> LockRequest.builder().owner(OWNER).names("smithi001.front").waitUpTo(null).build(),
        InvalidRequestException.class,
        "waitUpTo must not be null");
    rejected(() -> HostKey.parse(null), InvalidRequestException.class, "host key text is null");
  }

  @Test
  void contradictoryRequestsAreRejected() {
    rejected(
        () ->
            LockRequest.builder()
                .owner(OWNER)
                .names("a.front")
                .machineType("smithi")
                .count(1)
                .build(),
        InvalidRequestException.class,
        "not both");
    rejected(
        () -> LockRequest.builder().owner(OWNER).build(),
        InvalidRequestException.class,
        "say what to lock");
    rejected(
        () -> LockRequest.builder().owner(OWNER).names("a.front", "a.front").build(),
        InvalidRequestException.class,
        "more than once");
    rejected(
        () ->
            LockRequest.builder()
                .owner(OWNER)
                .names("a.front")
                .waitUpTo(Duration.ofSeconds(-1))
                .build(),
        InvalidRequestException.class,
        "must not be negative");
    rejected(
        () ->
            LockRequest.builder()
                .owner(OWNER)
                .description("x".repeat(4001))
                .names("a.front")
                .build(),
        InvalidRequestException.class,
        "at most 4000");
  }

  @Test
  void badMachineSpecsAreRejected() {
    rejected(
        () -> MachineSpec.physical("a.front", "smithi").withMacAddress("52:54:00:zz:00:11"),
        InvalidRequestException.class,
        "MAC address");
    rejected(
        () -> MachineSpec.physical("a.front", "smithi").withSshPort(0),
        InvalidRequestException.class,
        "outside 1..65535");
    rejected(
        () -> MachineSpec.vm("a.front", "vps", "a.front"),
        InvalidRequestException.class,
        "its own VM host");
    rejected(
        () -> MachineSpec.vm("a.front", "vps", null),
        InvalidRequestException.class,
        "must not be null");
  }

  @Test
  void badHostKeysAreRejected() {
    rejected(
        () -> HostKey.parse("ssh-ed25519"),
        InvalidRequestException.class,
        "expected 'type base64'");
    rejected(
        () -> new HostKey("ssh-ed25519", "not base64!"),
        InvalidRequestException.class,
        "not valid base64");
    rejected(
        () -> new HostKey("ssh ed25519", "AAAA"),
        InvalidRequestException.class,
        "is not a key type");
    rejected(
        () ->
            pool.hostKeys()
                .replace(
                    "smithi001.front",
                    List.of(new HostKey("ssh-rsa", "AAAA"), new HostKey("ssh-rsa", "AAAB"))),
        InvalidRequestException.class,
        "list a key type twice");
  }

  @Test
  void badPoolConfigurationIsRejectedBeforeTouchingTheDatabase() {
    rejected(
        () -> MachinePool.builder().build(),
        InvalidRequestException.class,
        "a DataSource is required");
    rejected(
        () ->
            MachinePool.builder().dataSource(db.dataSource()).leaseDuration(Duration.ZERO).build(),
        InvalidRequestException.class,
        "leaseDuration must be positive");
    rejected(
        () ->
            MachinePool.builder()
                .dataSource(db.dataSource())
                .leaseDuration(Duration.ofSeconds(10))
                .heartbeatInterval(Duration.ofSeconds(10))
                .build(),
        InvalidRequestException.class,
        "must be shorter than leaseDuration");
    rejected(
        () ->
            MachinePool.builder()
                .dataSource(db.dataSource())
                .tablePrefix("x; DROP TABLE y")
                .build(),
        InvalidRequestException.class,
        "table prefix");
    rejected(
        () -> MachinePool.builder().dataSource(db.dataSource()).retryAttempts(0).build(),
        InvalidRequestException.class,
        "retryAttempts must be 1 to 100");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "heartbeatInterval",
        "reapExpiredEvery",
        "contentionTimeout",
        "sshTimeout",
        "provisionTimeout"
      })
  void absurdPoolDurationsAreRefusedWithTheirBoundByBuild(String setting) {
    for (Duration absurd : List.of(Duration.ofSeconds(Long.MAX_VALUE), Duration.ofDays(8))) {
      rejected(
          () -> configured(setting, absurd).build(),
          InvalidRequestException.class,
          setting + " must be at most 7 days, was " + absurd.toDays() + " days");
    }
  }

  @Test
  void anAbsurdLeaseDurationIsRefusedWithItsBoundByBuild() {
    for (Duration absurd : List.of(Duration.ofSeconds(Long.MAX_VALUE), Duration.ofDays(36_501))) {
      rejected(
          () -> configured("leaseDuration", absurd).build(),
          InvalidRequestException.class,
          "leaseDuration must be at most 36500 days, was " + absurd.toDays() + " days");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"heartbeatInterval", "reapExpiredEvery"})
  void periodsBelowAMillisecondAreRefusedByBuild(String setting) {
    rejected(
        () -> configured(setting, Duration.ofNanos(999_999)).build(),
        InvalidRequestException.class,
        setting + " must be at least 1 ms");
  }

  private MachinePool.Builder configured(String setting, Duration value) {
    MachinePool.Builder builder =
        MachinePool.builder()
            .dataSource(db.dataSource())
            .tablePrefix(db.prefix())
            .releaseOnShutdown(false);
    UnaryOperator<MachinePool.Builder> set =
        switch (setting) {
          case "leaseDuration" -> b -> b.leaseDuration(value);
          case "heartbeatInterval" -> b -> b.heartbeatInterval(value);
          case "reapExpiredEvery" -> b -> b.reapExpiredEvery(value);
          case "contentionTimeout" -> b -> b.contentionTimeout(value);
          case "sshTimeout" -> b -> b.sshTimeout(value);
          case "provisionTimeout" -> b -> b.provisionTimeout(value);
          default -> throw new IllegalArgumentException(setting);
        };
    return set.apply(builder);
  }

  @Test
  void anAbsurdWaitIsRefusedWhenTheRequestIsBuilt() {
    for (Duration absurd : List.of(Duration.ofSeconds(Long.MAX_VALUE), Duration.ofDays(8))) {
      rejected(
          () ->
              pool.lock(
                  LockRequest.builder()
                      .owner(OWNER)
                      .machineType("smithi")
                      .count(1)
                      .waitUpTo(absurd)
                      .build()),
          InvalidRequestException.class,
          "waitUpTo must be at most 7 days, was " + absurd.toDays() + " days");
    }
  }

  private static List<String> names(int count) {
    return IntStream.range(0, count).mapToObj(i -> String.format("smithi%05d.front", i)).toList();
  }

  @ParameterizedTest
  @ValueSource(ints = {1001, 70_000})
  void moreNamesThanOneRequestMayNameAreRefusedInAShortMessage(int count) {
    List<String> many = names(count);
    String message = count + " machine names in one request; at most 1000 may be named at once";
    for (ThrowingCallable call :
        List.<ThrowingCallable>of(
            () -> pool.lock(LockRequest.builder().owner(OWNER).names(many).build()),
            () -> pool.machines(MachineQuery.builder().names(many).build()),
            () -> pool.refreshHostKeys(many))) {
      rejected(call, InvalidRequestException.class, message);
      assertThatThrownBy(call).message().hasSizeLessThan(200);
    }
  }

  @Test
  void messagesNameAFewOfTheNamesGivenAndCountTheRest() {
    List<String> unknown = names(1000);
    assertThatThrownBy(() -> pool.lock(LockRequest.builder().owner(OWNER).names(unknown).build()))
        .isInstanceOf(NoSuchMachineException.class)
        .hasMessageContaining("no machines named smithi00000.front, smithi00001.front")
        .hasMessageContaining("and 995 more in the inventory; nothing was locked")
        .message()
        .hasSizeLessThan(300);
    assertThat(db.snapshot()).isEqualTo(before);

    List<String> twice = new ArrayList<>(names(999));
    twice.add("smithi00007.front");
    assertThatThrownBy(() -> pool.lock(LockRequest.builder().owner(OWNER).names(twice).build()))
        .isInstanceOf(InvalidRequestException.class)
        .hasMessage("machine names are listed more than once: smithi00007.front");

    List<MachineSpec> specs =
        new ArrayList<>(names(999).stream().map(n -> MachineSpec.physical(n, "smithi")).toList());
    specs.add(MachineSpec.physical("smithi00007.front", "smithi"));
    rejected(
        () -> pool.inventory().addAll(specs),
        InvalidRequestException.class,
        "the machines to add name one machine twice: smithi00007.front");

    List<String> locked = new ArrayList<>(names(7));
    locked.add("smithi001.front");
    locked.add("smithi002.front");
    pool.inventory().addAll(names(7).stream().map(n -> MachineSpec.physical(n, "smithi")).toList());
    for (String name : names(7)) {
      pool.lock(LockRequest.builder().owner("bob@h").names(name).keepUntilUnlocked().build());
    }
    List<List<String>> held = db.snapshot();
    assertThatThrownBy(() -> pool.lock(LockRequest.builder().owner(OWNER).names(locked).build()))
        .isInstanceOf(LockConflictException.class)
        .hasMessageContaining("smithi00000.front is locked by bob@h")
        .hasMessageEndingWith("; and 3 more machines cannot be locked; nothing was locked");
    assertThat(db.snapshot()).isEqualTo(held);
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
  void controlCharactersAndUnpairedSurrogatesAreRefusedInEveryText(int which) {
    String bad = FORBIDDEN[which];
    String kindOfCharacter =
        bad.chars().anyMatch(c -> Character.isSurrogate((char) c))
                && bad.chars().noneMatch(c -> Character.isISOControl((char) c))
            ? "an unpaired UTF-16 surrogate"
            : "a control character";
    String name = "smithi001.front";
    List<ThrowingCallable> calls =
        List.of(
            () -> pool.lock(LockRequest.builder().owner("alice" + bad).names(name).build()),
            () ->
                pool.lock(LockRequest.builder().owner(OWNER).description(bad).names(name).build()),
            () ->
                pool.lock(
                    LockRequest.builder()
                        .owner(OWNER)
                        .description(bad)
                        .machineType("smithi")
                        .count(1)
                        .build()),
            () -> pool.unlock("smithi002.front", "bob@h" + bad),
            () -> pool.unlock("smithi002.front", "bob@h", bad),
            () -> pool.inventory().markDown(name, "disk " + bad),
            () -> pool.inventory().describe(name, bad),
            () -> pool.machines(MachineQuery.builder().owner(bad + "@h").build()),
            () -> pool.machines(MachineQuery.builder().description(bad).build()),
            () -> pool.machines(MachineQuery.builder().descriptionContains(bad).build()));
    for (ThrowingCallable call : calls) {
      rejected(call, InvalidRequestException.class, kindOfCharacter);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"smithi\u0000001", "smithi001\ud800", "smithi\u00a0001"})
  void machineNamesWithControlCharactersOrSurrogatesAreRefusedEverywhere(String name) {
    List<ThrowingCallable> calls =
        List.of(
            () -> pool.lock(LockRequest.builder().owner(OWNER).names(name).build()),
            () -> pool.unlock(name, OWNER),
            () -> pool.machine(name),
            () -> pool.inventory().add(MachineSpec.physical(name, "smithi")),
            () -> pool.inventory().markDown(name, "broken"),
            () -> pool.inventory().markDown(name),
            () -> pool.hostKeys().replace(name, List.of(new HostKey("ssh-rsa", "AAAA"))),
            () -> pool.hostKeys().keys(name),
            () -> pool.hostKeys().forget(name),
            () -> pool.machines(MachineQuery.builder().vpsHost(name).build()));
    for (ThrowingCallable call : calls) {
      rejected(call, InvalidRequestException.class, "has characters outside [A-Za-z0-9._@:-]");
    }
  }

  @Test
  void tabsLineBreaksAndCharactersBeyondTheBasicPlaneAreStoredAsGiven() {
    String owner = "\u00e5lice\ud83d\ude00@build7";
    String description = "run 42\tjob 3\r\nline 2 \u2603 \ud83d\ude00";
    pool.lock(
        LockRequest.builder()
            .owner(owner)
            .description(description)
            .names("smithi001.front")
            .keepUntilUnlocked()
            .build());
    Machine locked = pool.machine("smithi001.front").orElseThrow();
    assertThat(locked.lockedBy()).isEqualTo(owner);
    assertThat(locked.description()).isEqualTo(description);
    assertThat(pool.machines(MachineQuery.builder().owner(owner).build())).hasSize(1);
    pool.unlock("smithi001.front", owner, description);
    assertThat(pool.machine("smithi001.front").orElseThrow().locked()).isFalse();
  }

  @Test
  void aClosedPoolRefusesEveryCall() {
    Lease lease = pool.lock(LockRequest.builder().owner(OWNER).names("smithi001.front").build());
    pool.close();
    assertThat(lease.isOpen()).as("closing the pool released its lease").isFalse();
    List<ThrowingCallable> calls =
        List.of(
            () -> pool.lock(LockRequest.builder().owner(OWNER).names("smithi001.front").build()),
            () -> pool.unlock("smithi002.front", "bob@h"),
            () -> pool.machines(MachineQuery.all()),
            () -> pool.machine("smithi001.front"),
            () -> pool.targets(MachineQuery.all()),
            pool::summary,
            pool::reapExpired,
            pool::inventory,
            pool::hostKeys,
            lease::renew);
    for (ThrowingCallable call : calls) {
      assertThatThrownBy(call)
          .isInstanceOf(PoolClosedException.class)
          .hasMessageContaining("closed");
    }
    lease.close(); // idempotent, even on a closed pool
    pool.close(); // idempotent
  }

  @Test
  void aDataSourceThatRefusesConnectionsGivesADatabaseException() {
    DataSource refusing = new SwitchableDataSource(db.dataSource(), new AtomicBoolean(true));
    assertThatThrownBy(() -> MachinePool.builder().dataSource(refusing).build())
        .isInstanceOf(DatabaseException.class)
        .hasMessageContaining("could not connect to the lock database")
        .hasMessageContaining("SQL state 08001")
        .hasMessageContaining("cannot be reached");
  }

  @Test
  void callsFailCleanlyWhileTheDatabaseIsDownAndWorkResumesAfter() {
    AtomicBoolean down = new AtomicBoolean(false);
    MachinePool flaky =
        MachinePool.builder()
            .dataSource(new SwitchableDataSource(db.dataSource(), down))
            .tablePrefix(db.prefix())
            .releaseOnShutdown(false)
            .build();
    try {
      down.set(true);
      assertThatThrownBy(
              () -> flaky.lock(LockRequest.builder().owner(OWNER).names("smithi001.front").build()))
          .isInstanceOf(DatabaseException.class)
          .hasMessageContaining("cannot be reached");
      assertThatThrownBy(flaky::summary).isInstanceOf(DatabaseException.class);
      assertThat(db.snapshot()).isEqualTo(before);
      down.set(false);
      try (Lease lease =
          flaky.lock(LockRequest.builder().owner(OWNER).names("smithi001.front").build())) {
        assertThat(lease.machines()).hasSize(1);
      }
    } finally {
      flaky.close();
    }
  }

  /** A data source that refuses connections while a switch is on, as a stopped server does. */
  static final class SwitchableDataSource implements DataSource {
    private final DataSource delegate;
    private final AtomicBoolean down;

    SwitchableDataSource(DataSource delegate, AtomicBoolean down) {
      this.delegate = delegate;
      this.down = down;
    }

    @Override
    public Connection getConnection() throws SQLException {
      if (down.get()) {
        throw new SQLNonTransientConnectionException("Connection refused", "08001");
      }
      return delegate.getConnection();
    }

    @Override
    public Connection getConnection(String user, String password) throws SQLException {
      return getConnection();
    }

    @Override
    public PrintWriter getLogWriter() {
      return null;
    }

    @Override
    public void setLogWriter(PrintWriter out) {}

    @Override
    public void setLoginTimeout(int seconds) {}

    @Override
    public int getLoginTimeout() {
      return 0;
    }

    @Override
    public Logger getParentLogger() {
      return Logger.getGlobal();
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
      throw new SQLException("not a wrapper");
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) {
      return false;
    }
  }
}
