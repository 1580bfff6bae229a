package io.machinepool.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.machinepool.Lease;
import io.machinepool.LockConflictException;
import io.machinepool.LockRequest;
import io.machinepool.Machine;
import io.machinepool.MachinePool;
import io.machinepool.MachinePoolException;
import io.machinepool.MachineSpec;
import io.machinepool.NotEnoughMachinesException;
import io.machinepool.PoolClosedException;
import io.machinepool.Waiter;
import io.machinepool.testing.TestDatabase;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Fair waiting (README, Waiting: a fair queue in the database), run against every database:
 * requests that wait form a queue in the database, served by priority then arrival; a request takes
 * only machines that no request ahead of it needs; a waiter that times out, is interrupted or whose
 * pool closes leaves the queue in that call. One subclass per database, each skipped with its
 * reason when that database is not configured.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
abstract class QueueContract {
  static final String BOB = "bob@build9";
  static final String ALICE = "alice@build7";
  static final String CAROL = "carol@build3";
  static final Duration LONG_WAIT = Duration.ofSeconds(30);

  TestDatabase db;
  MachinePool pool;
  final List<MachinePool> pools = new ArrayList<>();
  final ExecutorService waiters = Executors.newCachedThreadPool();

  abstract TestDatabase.Kind kind();

  @BeforeEach
  void openDatabase() {
    Assumptions.assumeTrue(kind().available(), kind()::skipReason);
    db = TestDatabase.open(kind());
    pool = newPool();
    List<MachineSpec> lab = new ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      lab.add(MachineSpec.physical("smithi00" + i, "smithi").withOs("ubuntu", "22.04"));
    }
    lab.add(MachineSpec.physical("smithi004", "smithi").withOs("centos", "9"));
    lab.add(MachineSpec.physical("mira001", "mira"));
    lab.add(MachineSpec.physical("mira002", "mira"));
    pool.inventory().addAll(lab);
  }

  @AfterEach
  void closeDatabase() throws InterruptedException {
    waiters.shutdownNow();
    waiters.awaitTermination(10, TimeUnit.SECONDS);
    pools.forEach(MachinePool::close);
    if (db != null) {
      db.close();
    }
  }

  MachinePool newPool() {
    MachinePool built =
        MachinePool.builder()
            .dataSource(db.dataSource())
            .tablePrefix(db.prefix())
            .releaseOnShutdown(false)
            .build();
    pools.add(built);
    return built;
  }

  static LockRequest.Builder smithi(String owner, int count) {
    return LockRequest.builder().owner(owner).machineType("smithi").count(count);
  }

  /** Locks in the background, as a harness thread that waits would. */
  Future<Lease> inBackground(MachinePool on, LockRequest request) {
    return waiters.submit(() -> on.lock(request));
  }

  /** Waits until the queue, as every pool sees it, satisfies a condition. */
  List<Waiter> queueUntil(Predicate<List<Waiter>> condition) throws InterruptedException {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    List<Waiter> queue = pool.waiters();
    while (!condition.test(queue)) {
      assertThat(System.nanoTime())
          .as("the queue never became as expected: " + queue)
          .isLessThan(until);
      Thread.sleep(10);
      queue = pool.waiters();
    }
    return queue;
  }

  List<Waiter> queueOf(int size) throws InterruptedException {
    return queueUntil(q -> q.size() == size);
  }

  static List<String> names(Lease lease) {
    return lease.machines().stream().map(Machine::name).toList();
  }

  /** Rows in the waiter table, live or not: what a waiter that left must not leave behind. */
  int waiterRows() {
    return Integer.parseInt(
        db.query("SELECT COUNT(*) FROM " + db.prefix() + "waiter").get(0).get(0));
  }

  static void assertStillWaiting(Future<Lease> waiting) throws Exception {
    assertThatThrownBy(() -> waiting.get(300, TimeUnit.MILLISECONDS))
        .isInstanceOf(TimeoutException.class);
  }

  // ---- order ----------------------------------------------------------------------------------

  @Test
  void aRequestForManyIsServedBeforeSmallerRequestsThatCameAfterIt() throws Exception {
    Lease bob1 = pool.lock(LockRequest.builder().owner(BOB).names("smithi001").build());
    Lease bob2 = pool.lock(LockRequest.builder().owner(BOB).names("smithi002").build());
    Future<Lease> alice = inBackground(pool, smithi(ALICE, 4).waitUpTo(LONG_WAIT).build());
    queueOf(1);
    // smithi003 and smithi004 are free, and held back for alice: a small request that does not
    // wait is refused at once, one that waits queues behind her.
    assertThatThrownBy(() -> pool.lock(smithi(CAROL, 1).build()))
        .isInstanceOf(NotEnoughMachinesException.class)
        .hasMessageContaining("2 smithi machines are free, 2 of them held back for 1 request")
        .hasMessageContaining("first " + ALICE + " for 4 smithi, priority 1000");
    Future<Lease> carol = inBackground(pool, smithi(CAROL, 1).waitUpTo(LONG_WAIT).build());
    List<Waiter> queue = queueOf(2);
    assertThat(queue).extracting(Waiter::owner).containsExactly(ALICE, CAROL);

    bob1.close();
    assertStillWaiting(alice);
    assertStillWaiting(carol);
    bob2.close();
    try (Lease big = alice.get(10, TimeUnit.SECONDS)) {
      assertThat(big.machines()).hasSize(4);
      assertStillWaiting(carol);
    }
    try (Lease small = carol.get(10, TimeUnit.SECONDS)) {
      assertThat(small.machines()).hasSize(1);
    }
    assertThat(pool.waiters()).isEmpty();
    assertThat(waiterRows()).isZero();
  }

  @Test
  void equalPrioritiesAreServedInTheOrderTheyJoinedWhicheverPoolFreesTheMachine() throws Exception {
    MachinePool other = newPool();
    List<Lease> held = new ArrayList<>();
    for (int i = 1; i <= 4; i++) {
      held.add(other.lock(LockRequest.builder().owner(BOB).names("smithi00" + i).build()));
    }
    Future<Lease> alice = inBackground(pool, smithi(ALICE, 1).waitUpTo(LONG_WAIT).build());
    queueOf(1);
    Future<Lease> carol = inBackground(other, smithi(CAROL, 1).waitUpTo(LONG_WAIT).build());
    queueOf(2);
    // Closing in carol's pool wakes carol at once; the machine is alice's all the same.
    held.get(0).close();
    try (Lease first = alice.get(10, TimeUnit.SECONDS)) {
      assertThat(names(first)).containsExactly("smithi001");
      assertStillWaiting(carol);
      held.get(1).close();
      assertThat(names(carol.get(10, TimeUnit.SECONDS))).containsExactly("smithi002");
    }
    held.forEach(Lease::close);
  }

  @Test
  void aLowerPriorityNumberIsServedFirst() throws Exception {
    List<Lease> held = new ArrayList<>();
    for (int i = 1; i <= 4; i++) {
      held.add(pool.lock(LockRequest.builder().owner(BOB).names("smithi00" + i).build()));
    }
    Future<Lease> alice = inBackground(pool, smithi(ALICE, 1).waitUpTo(LONG_WAIT).build());
    queueOf(1);
    Future<Lease> carol =
        inBackground(pool, smithi(CAROL, 1).priority(10).waitUpTo(LONG_WAIT).build());
    List<Waiter> queue = queueOf(2);
    assertThat(queue).extracting(Waiter::owner).containsExactly(CAROL, ALICE);
    assertThat(queue).extracting(Waiter::position).containsExactly(1, 2);
    assertThat(queue).extracting(Waiter::priority).containsExactly(10, 1000);

    held.get(0).close();
    assertThat(carol.get(10, TimeUnit.SECONDS).machines()).hasSize(1);
    assertStillWaiting(alice);
    held.get(1).close();
    assertThat(alice.get(10, TimeUnit.SECONDS).machines()).hasSize(1);
  }

  @Test
  void anUrgentRequestThatDoesNotWaitTakesWhatLessUrgentWaitersHoldBack() throws Exception {
    Lease bob = pool.lock(LockRequest.builder().owner(BOB).names("smithi001").build());
    Future<Lease> alice = inBackground(pool, smithi(ALICE, 4).waitUpTo(LONG_WAIT).build());
    queueOf(1);
    try (Lease urgent = pool.lock(smithi(CAROL, 2).priority(0).build())) {
      assertThat(urgent.machines()).hasSize(2);
    }
    bob.close();
    assertThat(alice.get(10, TimeUnit.SECONDS).machines()).hasSize(4);
  }

  // ---- backfilling ----------------------------------------------------------------------------

  @Test
  void aLaterRequestTakesOnlyMachinesNoRequestAheadOfItCanUse() throws Exception {
    Lease bob = pool.lock(LockRequest.builder().owner(BOB).names("smithi001").build());
    // Alice waits for the three ubuntu machines; smithi002 and smithi003 are held back for her.
    Future<Lease> alice =
        inBackground(pool, smithi(ALICE, 3).os("ubuntu", "22.04").waitUpTo(LONG_WAIT).build());
    queueOf(1);
    try (Lease mira =
        pool.lock(LockRequest.builder().owner(CAROL).machineType("mira").count(2).build())) {
      assertThat(mira.machines()).hasSize(2);
    }
    try (Lease centos = pool.lock(smithi(CAROL, 1).build())) {
      assertThat(names(centos)).containsExactly("smithi004");
    }
    assertThatThrownBy(() -> pool.lock(smithi(CAROL, 2).build()))
        .isInstanceOf(NotEnoughMachinesException.class)
        .hasMessageContaining("3 smithi machines are free, 2 of them held back");
    assertThatThrownBy(
            () -> pool.lock(LockRequest.builder().owner(CAROL).names("smithi002").build()))
        .isInstanceOf(LockConflictException.class)
        .hasMessageContaining("held back for 1 request waiting ahead of this one");
    bob.close();
    assertThat(names(alice.get(10, TimeUnit.SECONDS)))
        .containsExactly("smithi001", "smithi002", "smithi003");
  }

  @Test
  void aRequestByNameWaitsForItsMachinesWhenItMay() throws Exception {
    Lease bob = pool.lock(LockRequest.builder().owner(BOB).names("smithi001").build());
    assertThatThrownBy(
            () -> pool.lock(LockRequest.builder().owner(ALICE).names("smithi001").build()))
        .isInstanceOf(LockConflictException.class)
        .hasMessageContaining("smithi001 is locked by " + BOB);
    Future<Lease> alice =
        inBackground(
            pool,
            LockRequest.builder()
                .owner(ALICE)
                .names("smithi001", "smithi002")
                .waitUpTo(LONG_WAIT)
                .build());
    Waiter waiting = queueOf(1).get(0);
    assertThat(waiting.names()).containsExactly("smithi001", "smithi002");
    assertThat(waiting.machineTypes()).containsExactly("smithi");
    // smithi002 is held back for alice's request.
    assertThatThrownBy(() -> pool.lock(smithi(CAROL, 4).build()))
        .isInstanceOf(NotEnoughMachinesException.class);
    bob.close();
    assertThat(names(alice.get(10, TimeUnit.SECONDS))).containsExactly("smithi001", "smithi002");
  }

  // ---- visibility -----------------------------------------------------------------------------

  @Test
  void waitersListsTheQueueWithWhatEachAsksForAndSinceWhen() throws Exception {
    Lease bob = pool.lock(smithi(BOB, 4).build());
    Instant before = Instant.now().minusSeconds(60);
    inBackground(
        pool,
        smithi(ALICE, 2)
            .description("run-42/job-3")
            .os("ubuntu", "22.04")
            .priority(500)
            .waitUpTo(LONG_WAIT)
            .build());
    Waiter alice = queueOf(1).get(0);
    assertThat(alice.position()).isEqualTo(1);
    assertThat(alice.owner()).isEqualTo(ALICE);
    assertThat(alice.description()).isEqualTo("run-42/job-3");
    assertThat(alice.machineTypes()).containsExactly("smithi");
    assertThat(alice.names()).isEmpty();
    assertThat(alice.count()).isEqualTo(2);
    assertThat(alice.osType()).isEqualTo("ubuntu");
    assertThat(alice.osVersion()).isEqualTo("22.04");
    assertThat(alice.priority()).isEqualTo(500);
    assertThat(alice.asks()).isEqualTo("2 smithi with os ubuntu 22.04");
    assertThat(alice.since()).isAfter(before).isBefore(Instant.now().plusSeconds(60));
    assertThat(pool.summary().waiters()).containsExactly(alice);
    bob.close();
  }

  @Test
  void aPlaceWhoseHeartbeatStoppedIsIgnoredAndRemoved() throws Exception {
    // A waiter whose process died: its row's expiry has passed (MariaDB's times are UTC).
    String now = kind() == TestDatabase.Kind.MARIADB ? "UTC_TIMESTAMP(3)" : "CURRENT_TIMESTAMP";
    db.execute(
        "INSERT INTO "
            + db.prefix()
            + "waiter (token, owner, priority, machine_count, machine_types, joined, expires)"
            + " VALUES ('dead', 'ghost@gone', 1000, 4, 'smithi', "
            + now
            + ", "
            + now
            + ")");
    assertThat(pool.waiters()).isEmpty();
    try (Lease lease = pool.lock(smithi(ALICE, 2).build())) {
      assertThat(lease.machines()).hasSize(2);
    }
    // The next request that goes through the queue deletes it.
    Lease bob = pool.lock(smithi(BOB, 4).build());
    Future<Lease> alice = inBackground(pool, smithi(ALICE, 1).waitUpTo(LONG_WAIT).build());
    queueOf(1);
    // alice's place is live as soon as she joins; her first turn at the queue, a moment later,
    // deletes the dead row.
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    List<List<String>> owners = db.query("SELECT owner FROM " + db.prefix() + "waiter");
    while (owners.size() > 1 && System.nanoTime() < until) {
      Thread.sleep(10);
      owners = db.query("SELECT owner FROM " + db.prefix() + "waiter");
    }
    assertThat(owners).containsExactly(List.of(ALICE));
    bob.close();
    alice.get(10, TimeUnit.SECONDS).close();
  }

  // ---- leaving --------------------------------------------------------------------------------

  @Test
  void aWaiterThatTimesOutLeavesTheQueueAndWaitedNoLongerThanAsked() throws Exception {
    Lease bob = pool.lock(smithi(BOB, 4).build());
    Future<Lease> alice = inBackground(pool, smithi(ALICE, 1).waitUpTo(LONG_WAIT).build());
    queueOf(1);
    long started = System.nanoTime();
    assertThatThrownBy(() -> pool.lock(smithi(CAROL, 1).waitUpTo(Duration.ofMillis(700)).build()))
        .isInstanceOf(NotEnoughMachinesException.class)
        .hasMessageContaining("waited 0.")
        .hasMessageContaining("(place 2)")
        .hasMessageContaining("only 0 smithi machines available, 1 requested; nothing was locked");
    Duration took = Duration.ofNanos(System.nanoTime() - started);
    assertThat(took).isBetween(Duration.ofMillis(700), Duration.ofMillis(1500));
    assertThat(pool.waiters()).extracting(Waiter::owner).containsExactly(ALICE);
    bob.close();
    alice.get(10, TimeUnit.SECONDS).close();
    assertThat(waiterRows()).isZero();
  }

  @Test
  void anInterruptedWaiterLeavesTheQueueAndKeepsItsInterrupt() throws Exception {
    Lease bob = pool.lock(smithi(BOB, 4).build());
    AtomicReference<Thread> thread = new AtomicReference<>();
    AtomicReference<Boolean> interruptKept = new AtomicReference<>();
    Future<Lease> alice =
        waiters.submit(
            () -> {
              thread.set(Thread.currentThread());
              try {
                return pool.lock(smithi(ALICE, 1).waitUpTo(LONG_WAIT).build());
              } finally {
                interruptKept.set(Thread.currentThread().isInterrupted());
              }
            });
    queueOf(1);
    thread.get().interrupt();
    assertThatThrownBy(() -> alice.get(10, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .cause()
        .isInstanceOf(MachinePoolException.class)
        .hasMessageContaining("interrupted while waiting in the queue for 1 smithi");
    assertThat(interruptKept.get()).isTrue();
    assertThat(pool.waiters()).isEmpty();
    assertThat(waiterRows()).isZero();
    bob.close();
  }

  @Test
  void closingAPoolTakesItsWaitersOutOfTheQueue() throws Exception {
    Lease bob = pool.lock(smithi(BOB, 4).build());
    MachinePool other = newPool();
    Future<Lease> alice = inBackground(other, smithi(ALICE, 1).waitUpTo(LONG_WAIT).build());
    queueOf(1);
    other.close();
    assertThat(pool.waiters()).isEmpty();
    assertThat(waiterRows()).isZero();
    assertThatThrownBy(() -> alice.get(10, TimeUnit.SECONDS))
        .cause()
        .isInstanceOf(PoolClosedException.class)
        .hasMessageContaining("left the queue, nothing was locked");
    bob.close();
  }

  @Test
  void aLockThatFindsNobodyWaitingLeavesNoTraceInTheQueue() {
    try (Lease lease = pool.lock(smithi(ALICE, 2).waitUpTo(LONG_WAIT).build())) {
      assertThat(lease.machines()).hasSize(2);
    }
    assertThat(waiterRows()).isZero();
  }

  @Test
  void priorityOutsideItsRangeIsInvalid() {
    assertThatThrownBy(() -> smithi(ALICE, 1).priority(-1).build())
        .isInstanceOf(io.machinepool.InvalidRequestException.class)
        .hasMessageContaining("priority must be between 0 (most urgent) and 1000000, got -1");
    assertThatThrownBy(() -> smithi(ALICE, 1).priority(1_000_001).build())
        .isInstanceOf(io.machinepool.InvalidRequestException.class);
  }
}
