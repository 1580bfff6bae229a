package io.machinepool.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.machinepool.DatabaseException;
import io.machinepool.Lease;
import io.machinepool.LeaseLostException;
import io.machinepool.LockContentionException;
import io.machinepool.LockRequest;
import io.machinepool.Machine;
import io.machinepool.MachinePool;
import io.machinepool.MachineQuery;
import io.machinepool.MachineSpec;
import io.machinepool.PoolListener;
import io.machinepool.Provisioner;
import io.machinepool.testing.FaultProxy;
import io.machinepool.testing.FaultyDatabase;
import io.machinepool.testing.Figures;
import io.machinepool.testing.LogCapture;
import io.machinepool.testing.TestDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The lease around the lock under faults, on every database: a pool reaches the database through a
 * {@link FaultProxy} that the tests break (a partition that keeps sockets open, answers that are
 * lost, a server that resets every connection), while another pool and the checks reach it
 * directly. Each test proves one promise of README's "What a holder is told, and when".
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
abstract class LeaseFaultContract {
  static final String ALICE = "alice@build7";
  static final String BOB = "bob@build9";
  static final String ONE = "smithi001.front.sepia.ceph.com";
  static final String TWO = "smithi002.front.sepia.ceph.com";
  static final String THREE = "smithi003.front.sepia.ceph.com";

  @RegisterExtension final LogCapture log = new LogCapture();

  FaultyDatabase db;
  final List<MachinePool> pools = new ArrayList<>();

  abstract TestDatabase.Kind kind();

  /**
   * The fault that cuts a holder off. A black hole where the driver bounds reads by the network
   * timeout; H2's client has no network timeout, so on H2 the server resets every connection
   * instead.
   */
  FaultProxy.Mode cutOff() {
    return FaultProxy.Mode.BLACK_HOLE;
  }

  @BeforeEach
  void openDatabase() {
    Assumptions.assumeTrue(kind().available(), kind()::skipReason);
    db = FaultyDatabase.open(kind());
    MachinePool setup = direct(b -> b);
    setup.inventory().add(MachineSpec.physical(ONE, "smithi"));
    setup.inventory().add(MachineSpec.physical(TWO, "smithi"));
    setup.inventory().add(MachineSpec.physical(THREE, "smithi"));
  }

  @AfterEach
  void closeDatabase() {
    if (db != null) {
      db.proxy().heal();
    }
    pools.forEach(MachinePool::close);
    if (db != null) {
      db.close();
    }
  }

  MachinePool direct(UnaryOperator<MachinePool.Builder> settings) {
    return pool(db.direct().dataSource(), settings);
  }

  MachinePool proxied(UnaryOperator<MachinePool.Builder> settings) {
    return pool(db.proxied(), settings);
  }

  private MachinePool pool(DataSource dataSource, UnaryOperator<MachinePool.Builder> settings) {
    MachinePool pool =
        settings
            .apply(
                MachinePool.builder()
                    .dataSource(dataSource)
                    .tablePrefix(db.prefix())
                    .releaseOnShutdown(false))
            .build();
    pools.add(pool);
    return pool;
  }

  static LockRequest.Builder alice() {
    return LockRequest.builder().owner(ALICE).description("run-1/job-1");
  }

  /** Who holds a machine now, and under which token, read directly. */
  List<String> holder(String name) {
    return db
        .direct()
        .query(
            "SELECT locked_by, lease_token FROM "
                + db.prefix()
                + "machine WHERE name = '"
                + name
                + "' AND locked = TRUE")
        .stream()
        .findFirst()
        .orElse(List.of());
  }

  /**
   * A proxied pool with warm connections whose drivers bound reads by the network timeout, so that
   * an answer can be lost; skips the test on H2, whose client has none.
   */
  MachinePool poolThatLosesAnswers(Duration contention, Duration database) {
    MachinePool pool =
        proxied(
            b -> b.contentionTimeout(contention).databaseTimeout(database).backgroundReaper(false));
    pool.lock(alice().names(TWO).build()).close(); // warm connections
    Assumptions.assumeTrue(
        cutOff() == FaultProxy.Mode.BLACK_HOLE,
        "a lost answer needs a driver with a network timeout; H2's client has none");
    return pool;
  }

  /** Waits until a machine is free, at most the given time. */
  void awaitFree(String name, long millis) {
    long start = System.nanoTime();
    while (!holder(name).isEmpty() && millisSince(start) < millis) {
      sleep(50);
    }
  }

  void figure(String what, long value) {
    Figures.record(getClass().getSimpleName(), what, value);
  }

  static long millisSince(long startNanos) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
  }

  @Test
  void aHolderCutOffLongerThanItsLeaseIsToldBeforeAnyoneElseIsGrantedItsMachines()
      throws Exception {
    log.expect("io.machinepool.LeaseKeeper", "could not renew");
    // Closing the cut-off pool's HikariCP pool may find a connection attempt still hanging.
    log.expect(
        "com.zaxxer.hikari.pool.HikariPool", "Timed-out waiting for add connection executor");
    AtomicReference<Instant> toldLostAt = new AtomicReference<>();
    AtomicReference<String> reason = new AtomicReference<>();
    MachinePool cutOff =
        proxied(
            b ->
                b.leaseDuration(Duration.ofSeconds(3))
                    .heartbeatInterval(Duration.ofMillis(500))
                    .databaseTimeout(Duration.ofSeconds(1))
                    .backgroundReaper(false)
                    .listener(
                        new PoolListener() {
                          @Override
                          public void leaseLost(Lease lease, String why) {
                            toldLostAt.compareAndSet(null, Instant.now());
                            reason.set(why);
                          }
                        }));
    MachinePool other =
        direct(
            b -> b.leaseDuration(Duration.ofSeconds(3)).reapExpiredEvery(Duration.ofMillis(200)));
    Lease held = cutOff.lock(alice().names(ONE).build());
    assertThat(held.remainingSafeTime()).get().isNotEqualTo(Duration.ZERO);

    db.proxy().mode(cutOff());
    Lease taken =
        other.lock(
            LockRequest.builder()
                .owner(BOB)
                .machineType("smithi")
                .count(3)
                .waitUpTo(Duration.ofSeconds(20))
                .build());
    Instant grantedAt = taken.machines().get(0).lockedSince();

    assertThat(toldLostAt.get())
        .as("the cut-off holder was told its lease was lost (%s)", reason.get())
        .isNotNull();
    assertThat(toldLostAt.get())
        .as("told lost before the database granted the machine to someone else")
        .isBefore(grantedAt);
    figure(
        "told lost before the machine was granted again (ms)",
        Duration.between(toldLostAt.get(), grantedAt).toMillis());
    assertThat(held.isOpen()).isFalse();
    assertThat(held.isLost()).isTrue();
    assertThat(held.remainingSafeTime()).contains(Duration.ZERO);
    assertThatThrownBy(held::machines)
        .isInstanceOf(LeaseLostException.class)
        .hasMessageContaining("is lost");
    assertThatThrownBy(held::renew).isInstanceOf(LeaseLostException.class);

    db.proxy().heal();
    try {
      held.close();
    } catch (DatabaseException e) {
      // the proxied pool's connections were cut: the release goes on in the background
    }
    assertThat(holder(ONE)).as("the old holder's close leaves the new holder's lock").contains(BOB);
  }

  @Test
  void everyCallIsBoundedByItsDeadlineWhileTheDatabaseDoesNotAnswer() {
    MachinePool cutOff =
        proxied(
            b ->
                b.contentionTimeout(Duration.ofSeconds(1))
                    .databaseTimeout(Duration.ofSeconds(1))
                    .leaseDuration(Duration.ofSeconds(30))
                    .backgroundReaper(false));
    Lease held = cutOff.lock(alice().names(ONE).build());
    cutOff.lock(alice().names(TWO).build()).close(); // warm connections

    db.proxy().mode(cutOff());
    long start = System.nanoTime();
    assertThatThrownBy(() -> cutOff.lock(alice().names(TWO).build()))
        .isInstanceOf(io.machinepool.MachinePoolException.class);
    figure("lock during a partition, contention timeout 1 s (ms)", millisSince(start));
    assertThat(millisSince(start)).as("lock, bounded by the contention timeout").isLessThan(4_000);

    start = System.nanoTime();
    assertThatThrownBy(() -> cutOff.machines(MachineQuery.builder().build()))
        .isInstanceOf(DatabaseException.class);
    figure("listing during a partition, database timeout 1 s (ms)", millisSince(start));
    assertThat(millisSince(start))
        .as("a listing, bounded by the database timeout")
        .isLessThan(4_000);

    start = System.nanoTime();
    assertThatThrownBy(held::close)
        .isInstanceOf(DatabaseException.class)
        .hasMessageContaining("keeps trying in the background");
    figure("close during a partition, database timeout 1 s (ms)", millisSince(start));
    assertThat(millisSince(start)).as("close, bounded by the database timeout").isLessThan(4_000);
    assertThat(held.state()).isEqualTo(Lease.State.RELEASING);
    assertThat(holder(ONE)).as("still locked while the database cannot be reached").contains(ALICE);

    db.proxy().heal();
    awaitFree(ONE, 20_000);
    assertThat(holder(ONE)).as("released in the background once the database answers").isEmpty();
    assertThat(held.state()).isEqualTo(Lease.State.CLOSED);
  }

  @Test
  void aLockWhoseAcknowledgementIsLostReturnsTheLeaseItCommitted() {
    MachinePool pool = poolThatLosesAnswers(Duration.ofSeconds(6), Duration.ofSeconds(2));

    db.proxy().mode(FaultProxy.Mode.DROP_RESPONSES);
    CompletableFuture.runAsync(
        () -> {
          sleep(1_500);
          db.proxy().heal();
        });
    long start = System.nanoTime();
    Lease lease = pool.lock(alice().names(ONE).build());
    figure("lock whose answer was lost, resolved by its token (ms)", millisSince(start));

    assertThat(holder(ONE))
        .as("the lock the caller was given is the one the database committed")
        .containsExactly(ALICE, lease.token());
    lease.close();
    assertThat(holder(ONE)).isEmpty();
  }

  @Test
  void aLockWhoseOutcomeStaysUnknownIsReleasedInTheBackground() {
    MachinePool pool = poolThatLosesAnswers(Duration.ofSeconds(2), Duration.ofSeconds(1));

    db.proxy().mode(FaultProxy.Mode.DROP_RESPONSES);
    assertThatThrownBy(() -> pool.lock(alice().names(ONE).keepUntilUnlocked().build()))
        .isInstanceOf(DatabaseException.class)
        .hasMessageContaining("releases whatever lease");
    assertThat(holder(ONE))
        .as("the lock committed although the caller was told it may not have")
        .isNotEmpty();

    db.proxy().heal();
    awaitFree(ONE, 20_000);
    assertThat(holder(ONE))
        .as("a lock nobody was given is released in the background, even one kept until unlocked")
        .isEmpty();
  }

  @ParameterizedTest(name = "contention timeout {0} s")
  @ValueSource(ints = {1, 4})
  void lockByNameDoesNotWaitBehindATransactionThatHoldsTheRow(int seconds) throws Exception {
    MachinePool pool = direct(b -> b.contentionTimeout(Duration.ofSeconds(seconds)));
    try (Connection stalled = db.direct().dataSource().getConnection()) {
      stalled.setAutoCommit(false);
      try (PreparedStatement hold =
          stalled.prepareStatement(
              "SELECT name FROM " + db.prefix() + "machine WHERE name = ? FOR UPDATE")) {
        hold.setString(1, ONE);
        try (ResultSet rs = hold.executeQuery()) {
          assertThat(rs.next()).isTrue();
        }
      }
      long start = System.nanoTime();
      assertThatThrownBy(() -> pool.lock(alice().names(ONE).build()))
          .isInstanceOf(LockContentionException.class)
          .hasMessageContaining("held by an unfinished transaction")
          .hasMessageContaining("nothing was locked");
      figure(
          "lock by name behind a stalled transaction, contention " + seconds + " s (ms)",
          millisSince(start));
      assertThat(millisSince(start))
          .as("bounded by the contention timeout, not by the stalled transaction")
          .isLessThan(seconds * 1000L + 2_500);
      stalled.rollback();
    }
    sleep(500);
    assertThat(holder(ONE))
        .as("no abandoned statement committed a lock once the row was let go")
        .isEmpty();
    assertThat(pool.lock(LockRequest.builder().owner(BOB).names(ONE).build()).names())
        .containsExactly(ONE);
  }

  @Test
  void aDatabaseThatResetsEveryConnectionFailsCallsCleanlyAndWorkResumesAfterIt() {
    MachinePool pool =
        proxied(
            b ->
                b.contentionTimeout(Duration.ofSeconds(1))
                    .databaseTimeout(Duration.ofSeconds(1))
                    .backgroundReaper(false));
    pool.lock(alice().names(TWO).build()).close();

    db.proxy().mode(FaultProxy.Mode.REFUSE);
    long start = System.nanoTime();
    assertThatThrownBy(() -> pool.lock(alice().names(ONE).build()))
        .isInstanceOf(io.machinepool.MachinePoolException.class);
    assertThat(millisSince(start)).isLessThan(4_000);
    assertThat(holder(ONE)).as("nothing was locked").isEmpty();

    db.proxy().heal();
    long healed = System.nanoTime();
    Lease lease = null;
    while (lease == null && millisSince(healed) < 20_000) {
      try {
        lease = pool.lock(alice().names(ONE).build());
      } catch (DatabaseException e) {
        sleep(100); // the data source replaces its broken connections
      }
    }
    assertThat(lease).as("locking works again after the database came back").isNotNull();
    assertThat(holder(ONE)).containsExactly(ALICE, lease.token());
  }

  @Test
  void expiredLeasesOfAVanishedHolderAreFreedWithoutAnyoneAsking() {
    lockedByAVanishedHolder(ONE, TWO);

    MachinePool defaults = direct(b -> b.leaseDuration(Duration.ofSeconds(2)));
    Lease both =
        defaults.lock(
            LockRequest.builder()
                .owner(BOB)
                .machineType("smithi")
                .count(3)
                .waitUpTo(Duration.ofSeconds(15))
                .build());
    assertThat(both.names()).containsExactly(ONE, TWO, THREE);
  }

  static final String VM = "vpm011.front.sepia.ceph.com";
  static final String VM_HOST = "mira001.front.sepia.ceph.com";

  /** A provisioner whose destroys wait for a latch, and that counts them. */
  static final class SlowDestroys implements Provisioner {
    final CountDownLatch finish = new CountDownLatch(1);
    final AtomicInteger destroys = new AtomicInteger();
    final boolean slow;

    SlowDestroys(boolean slow) {
      this.slow = slow;
    }

    @Override
    public Machine provision(Machine machine, LockRequest request) {
      return machine;
    }

    @Override
    public void release(Machine machine) {
      destroys.incrementAndGet();
      if (slow) {
        try {
          finish.await(20, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }

  /** Locks the VM slot and a physical machine, then lets the lease's holder vanish. */
  void vanishedHolderOfTheVmAnd(String physical) {
    MachinePool setup = direct(b -> b);
    setup.inventory().add(MachineSpec.physical(VM_HOST, "mira"));
    setup.inventory().add(MachineSpec.vm(VM, "vps", VM_HOST));
    lockedByAVanishedHolder(VM, physical);
  }

  /**
   * Locks machines under a 2 s lease whose holder then vanishes: the token its pool renews is gone
   * from the rows (they keep the token 'vanished'), so nothing renews or releases them.
   */
  void lockedByAVanishedHolder(String... names) {
    MachinePool crashed =
        direct(
            b ->
                b.provisioner(new SlowDestroys(false))
                    .leaseDuration(Duration.ofSeconds(2))
                    .heartbeatInterval(Duration.ofMillis(500))
                    .backgroundReaper(false));
    Lease lease = crashed.lock(alice().names(names).build());
    db.direct()
        .execute(
            "UPDATE "
                + db.prefix()
                + "machine SET lease_token = 'vanished' WHERE lease_token = '"
                + lease.token()
                + "'");
  }

  @Test
  void renewalsGoOnAndNoSecondReaperStepsInWhileAVmDestroyHangs() {
    vanishedHolderOfTheVmAnd(THREE);
    SlowDestroys slow = new SlowDestroys(true);
    List<String> lost = new CopyOnWriteArrayList<>();
    List<String> released = new CopyOnWriteArrayList<>();
    MachinePool busy =
        direct(
            b ->
                b.provisioner(slow)
                    .leaseDuration(Duration.ofSeconds(2))
                    .heartbeatInterval(Duration.ofMillis(300))
                    .reapExpiredEvery(Duration.ofMillis(200))
                    .listener(
                        new PoolListener() {
                          @Override
                          public void leaseLost(Lease lease, String reason) {
                            lost.add(lease.token() + ": " + reason);
                          }

                          @Override
                          public void released(Machine machine) {
                            released.add(machine.name());
                          }
                        }));
    Lease healthy = busy.lock(alice().names(ONE).build());
    long start = System.nanoTime();
    while (slow.destroys.get() == 0 && millisSince(start) < 15_000) {
      sleep(50);
    }
    assertThat(slow.destroys.get()).as("the reaper started destroying the VM").isEqualTo(1);
    SlowDestroys second = new SlowDestroys(false);
    direct(
        b ->
            b.provisioner(second)
                .leaseDuration(Duration.ofSeconds(2))
                .reapExpiredEvery(Duration.ofMillis(100)));
    sleep(4_500); // more than two lease durations with the destroy hanging

    assertThat(lost).as("no lease of the busy pool was lost").isEmpty();
    assertThat(healthy.isOpen()).isTrue();
    assertThat(holder(ONE)).containsExactly(ALICE, healthy.token());
    assertThat(second.destroys.get())
        .as("the reaper's claim was renewed: no second reaper took over the VM")
        .isZero();
    assertThat(holder(VM)).as("the VM slot stays locked while its VM is destroyed").isNotEmpty();
    List<String> claim = holder(VM);
    // Meanwhile an operator hands the claimed physical machine to someone else by hand.
    db.direct()
        .execute(
            "UPDATE "
                + db.prefix()
                + "machine SET locked_by = '"
                + BOB
                + "', lease_token = 'by-hand' WHERE name = '"
                + THREE
                + "' AND lease_token = '"
                + claim.get(1)
                + "'");

    slow.finish.countDown();
    awaitFree(VM, 10_000);
    assertThat(holder(VM)).as("freed once its VM is gone").isEmpty();
    // The listener hears of the release just after the commit that the database shows.
    long freed = System.nanoTime();
    while (!released.contains(VM) && millisSince(freed) < 5_000) {
      sleep(20);
    }
    assertThat(released).as("reported released exactly once").containsOnlyOnce(VM);
    assertThat(released)
        .as("what the reaper no longer held is not reported released")
        .doesNotContain(THREE);
    assertThat(holder(THREE)).containsExactly(BOB, "by-hand");
    assertThat(second.destroys.get()).isZero();
  }

  @Test
  void aPoolWithoutAProvisionerFreesTheExpiredPhysicalMachinesButNotTheVmSlots() {
    vanishedHolderOfTheVmAnd(THREE);
    MachinePool noProvisioner =
        direct(b -> b.leaseDuration(Duration.ofSeconds(2)).backgroundReaper(false));
    long start = System.nanoTime();
    List<Machine> reaped = List.of();
    while (reaped.isEmpty() && millisSince(start) < 10_000) {
      sleep(200);
      reaped = noProvisioner.reapExpired();
    }
    assertThat(names(reaped)).containsExactly(THREE);
    assertThat(holder(THREE)).isEmpty();
    assertThat(holder(VM))
        .as("its VM may still use its host: only a pool that can destroy it frees it")
        .containsExactly(ALICE, "vanished");
    log.expect("io.machinepool.Reaper", "this pool has no provisioner to destroy their VMs");
    assertThat(log.entries("io.machinepool.Reaper", "no provisioner to destroy their VMs"))
        .isNotEmpty()
        .allSatisfy(e -> assertThat(e.text()).contains(VM));

    SlowDestroys destroyer = new SlowDestroys(false);
    MachinePool withProvisioner =
        direct(
            b ->
                b.provisioner(destroyer)
                    .leaseDuration(Duration.ofSeconds(2))
                    .backgroundReaper(false));
    assertThat(names(withProvisioner.reapExpired())).containsExactly(VM);
    assertThat(destroyer.destroys.get()).isEqualTo(1);
    assertThat(holder(VM)).isEmpty();
  }

  static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  static List<String> names(List<Machine> machines) {
    return machines.stream().map(Machine::name).toList();
  }
}
