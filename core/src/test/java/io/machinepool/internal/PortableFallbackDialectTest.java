package io.machinepool.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.machinepool.LockConflictException;
import io.machinepool.LockRequest;
import io.machinepool.Machine;
import io.machinepool.MachineQuery;
import io.machinepool.MachineSpec;
import io.machinepool.NotEnoughMachinesException;
import io.machinepool.testing.TestDatabase;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The portable fallback dialect, for databases machinepool has no SQL of its own for, run for real
 * on H2: standard DDL, {@code FETCH FIRST ... FOR UPDATE} without row skipping, standard interval
 * arithmetic.
 */
class PortableFallbackDialectTest {
  private TestDatabase db;
  private JdbcLockStore locks;
  private JdbcInventory inventory;

  @BeforeEach
  void setUp() {
    db = TestDatabase.open(TestDatabase.Kind.H2);
    Database database = Database.connect(db.dataSource(), db.prefix(), 3, Dialect.GENERIC);
    new Schema(database).migrate();
    new Schema(database).migrate();
    locks = new JdbcLockStore(database);
    inventory = new JdbcInventory(database);
    inventory.add(
        List.of(
            MachineSpec.physical("smithi001.front", "smithi"),
            MachineSpec.physical("smithi002.front", "smithi"),
            MachineSpec.physical("smithi003.front", "smithi")));
  }

  @AfterEach
  void tearDown() {
    db.close();
  }

  private static LockRequest.Builder alice() {
    return LockRequest.builder().owner("alice@h");
  }

  @Test
  void schemaIsCreatedOnceWithStandardSql() {
    assertThat(db.query("SELECT version FROM " + db.prefix() + "schema_version"))
        .containsExactlyInAnyOrder(
            List.of("1"), List.of("2"), List.of("3"), List.of("4"), List.of("5"));
  }

  @Test
  void lockManyAndUnlockWorkWithoutRowSkipping() {
    JdbcLockStore.Acquired acquired =
        locks.lockMany(
            alice().machineType("smithi").count(2).build(),
            "token-1",
            Duration.ofMinutes(1),
            Deadline.after(Duration.ofSeconds(5)));
    assertThat(acquired.machines())
        .extracting(Machine::name)
        .containsExactly("smithi001.front", "smithi002.front");
    assertThat(Duration.between(acquired.machines().get(0).lockedSince(), acquired.expiresAt()))
        .isEqualTo(Duration.ofMinutes(1));
    assertThatThrownBy(
            () ->
                locks.lockMany(
                    alice().machineType("smithi").count(2).build(),
                    "token-2",
                    Duration.ofMinutes(1),
                    Deadline.after(Duration.ofSeconds(5))))
        .isInstanceOf(NotEnoughMachinesException.class)
        .hasMessageContaining("only 1 smithi machine available, 2 requested");
    assertThat(
            locks
                .renew(
                    List.of(
                        new JdbcLockStore.Held(
                            "token-1", List.of("smithi001.front", "smithi002.front"))),
                    Duration.ofMinutes(2),
                    Deadline.after(Duration.ofSeconds(5)))
                .get("token-1"))
        .isAfter(acquired.expiresAt());
    assertThat(
            locks.unlock(
                "token-1",
                List.of("smithi001.front", "smithi002.front"),
                Deadline.after(Duration.ofSeconds(5))))
        .isEqualTo(2);
    assertThat(inventory.query(MachineQuery.builder().locked(true).build())).isEmpty();
  }

  @Test
  void lockByNameRefusesALockedMachine() {
    locks.lockNames(
        alice().names("smithi003.front").build(),
        "t1",
        null,
        Deadline.after(Duration.ofSeconds(5)));
    assertThatThrownBy(
            () ->
                locks.lockNames(
                    LockRequest.builder().owner("bob@h").names("smithi003.front").build(),
                    "t2",
                    null,
                    Deadline.after(Duration.ofSeconds(5))))
        .isInstanceOf(LockConflictException.class)
        .hasMessageContaining("is locked by alice@h");
  }
}
