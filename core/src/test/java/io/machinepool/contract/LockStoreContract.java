package io.machinepool.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariDataSource;
import io.machinepool.HostKey;
import io.machinepool.InvalidRequestException;
import io.machinepool.Lease;
import io.machinepool.LockConflictException;
import io.machinepool.LockRequest;
import io.machinepool.Machine;
import io.machinepool.MachinePool;
import io.machinepool.MachineQuery;
import io.machinepool.MachineSpec;
import io.machinepool.NoSuchMachineException;
import io.machinepool.NotEnoughMachinesException;
import io.machinepool.PoolListener;
import io.machinepool.Provisioner;
import io.machinepool.ProvisioningException;
import io.machinepool.testing.LogCapture;
import io.machinepool.testing.TestDatabase;
import io.machinepool.testing.TestValues;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.TimeZone;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The locking rules of README, Locking, run against every database: one subclass per database, each
 * skipped with its reason when that database is not configured.
 */
abstract class LockStoreContract {
  static final String ALICE = "alice@build7";
  static final String BOB = "bob@build9";
  static final HostKey KEY_A =
      new HostKey(
          "ssh-ed25519", "AAAAC3NzaC1lZDI1NTE5AAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
  static final HostKey KEY_B = new HostKey("ssh-rsa", "AAAAB3NzaC1yc2EAAAADAQABAAAAgQC7");

  @RegisterExtension final LogCapture log = new LogCapture();

  TestDatabase db;
  MachinePool pool;
  final List<MachinePool> extraPools = new ArrayList<>();

  abstract TestDatabase.Kind kind();

  @BeforeEach
  void openDatabase() {
    Assumptions.assumeTrue(kind().available(), kind()::skipReason);
    db = TestDatabase.open(kind());
    pool = newPool(b -> b);
    pool.inventory()
        .addAll(
            List.of(
                MachineSpec.physical("smithi001.front.sepia.ceph.com", "smithi")
                    .withOs("ubuntu", "22.04"),
                MachineSpec.physical("smithi002.front.sepia.ceph.com", "smithi")
                    .withOs("ubuntu", "22.04"),
                MachineSpec.physical("smithi003.front.sepia.ceph.com", "smithi")
                    .withOs("centos", "9"),
                MachineSpec.physical("mira001.front.sepia.ceph.com", "mira"),
                MachineSpec.physical("mira002.front.sepia.ceph.com", "mira"),
                MachineSpec.vm("vpm011.front.sepia.ceph.com", "vps", "mira001.front.sepia.ceph.com")
                    .withMacAddress("52:54:00:00:00:11")));
  }

  @AfterEach
  void closeDatabase() {
    extraPools.forEach(MachinePool::close);
    if (pool != null) {
      pool.close();
    }
    if (db != null) {
      db.close();
    }
  }

  MachinePool newPool(java.util.function.UnaryOperator<MachinePool.Builder> configure) {
    MachinePool built =
        configure
            .apply(
                MachinePool.builder()
                    .dataSource(db.dataSource())
                    .tablePrefix(db.prefix())
                    .releaseOnShutdown(false))
            .build();
    if (pool != null) {
      extraPools.add(built);
    }
    return built;
  }

  static LockRequest.Builder request(String owner) {
    return LockRequest.builder().owner(owner);
  }

  Machine machine(String name) {
    return pool.machine(name).orElseThrow();
  }

  /** Makes a lease look stalled: its expiry in the past, behind the library's back. */
  void expire(Lease lease) {
    db.execute(
        "UPDATE "
            + db.prefix()
            + "machine SET lease_expires = locked_since WHERE lease_token = '"
            + lease.token()
            + "'");
    db.execute(
        "UPDATE "
            + db.prefix()
            + "machine SET locked_since = lease_expires WHERE lease_token = '"
            + lease.token()
            + "'");
  }

  // ---- rule 1: owners, counts, types and names -----------------------------------------------

  @Test
  void lockByNameLocksTheMachineForTheOwner() {
    try (Lease lease =
        pool.lock(
            request(ALICE)
                .description("run-42/job-3")
                .names("smithi001.front.sepia.ceph.com")
                .build())) {
      Machine m = machine("smithi001.front.sepia.ceph.com");
      assertThat(m.locked()).isTrue();
      assertThat(m.lockedBy()).isEqualTo(ALICE);
      assertThat(m.description()).isEqualTo("run-42/job-3");
      assertThat(m.lockedSince()).isNotNull();
      assertThat(lease.machines()).extracting(Machine::name).containsExactly(m.name());
      assertThat(lease.owner()).isEqualTo(ALICE);
    }
  }

  @Test
  void unknownMachineTypeIsInvalidAndNamesTheKnownTypes() {
    List<List<String>> before = db.snapshot();
    assertThatThrownBy(() -> pool.lock(request(ALICE).machineType("nosuchtype").count(1).build()))
        .isInstanceOf(InvalidRequestException.class)
        .hasMessageContaining("unknown machine type nosuchtype")
        .hasMessageContaining("mira")
        .hasMessageContaining("smithi");
    assertThat(db.snapshot()).isEqualTo(before);
  }

  @Test
  void unknownMachineNameLocksNothing() {
    List<List<String>> before = db.snapshot();
    assertThatThrownBy(
            () ->
                pool.lock(
                    request(ALICE)
                        .names("smithi001.front.sepia.ceph.com", "smithi999.front.sepia.ceph.com")
                        .build()))
        .isInstanceOf(NoSuchMachineException.class)
        .hasMessageContaining("smithi999.front.sepia.ceph.com");
    assertThat(db.snapshot()).isEqualTo(before);
  }

  @Test
  void countAboveTheFreeMachinesSaysHowManyAreAvailable() {
    pool.lock(request(BOB).names("smithi001.front.sepia.ceph.com").keepUntilUnlocked().build());
    List<List<String>> before = db.snapshot();
    assertThatThrownBy(() -> pool.lock(request(ALICE).machineType("smithi").count(3).build()))
        .isInstanceOf(NotEnoughMachinesException.class)
        .hasMessageContaining("only 2 smithi machines available, 3 requested");
    assertThat(db.snapshot()).isEqualTo(before);
  }

  @Test
  void countAboveTheInventoryIsInvalidAndSaysHowManyThereAre() {
    List<List<String>> before = db.snapshot();
    assertThatThrownBy(() -> pool.lock(request(ALICE).machineType("smithi").count(5).build()))
        .isInstanceOf(InvalidRequestException.class)
        .hasMessage("only 3 smithi machines in the inventory, 5 requested; nothing was locked");
    assertThatThrownBy(
            () -> pool.lock(request(ALICE).machineTypes("smithi", "mira").count(6).build()))
        .isInstanceOf(InvalidRequestException.class)
        .hasMessageContaining("only 5 smithi/mira machines in the inventory, 6 requested");
    assertThat(db.snapshot()).isEqualTo(before);
  }

  @Test
  void sqlInjectionInTheDescriptionIsStoredVerbatim() {
    String evil = "x'); DROP TABLE " + db.prefix() + "machine; -- \" ` $(rm -rf /) %_";
    try (Lease lease =
        pool.lock(request(ALICE).description(evil).names("mira001.front.sepia.ceph.com").build())) {
      assertThat(machine("mira001.front.sepia.ceph.com").description()).isEqualTo(evil);
      assertThat(pool.machines(MachineQuery.builder().descriptionContains("%_").build()))
          .extracting(Machine::name)
          .containsExactly("mira001.front.sepia.ceph.com");
      assertThat(pool.machines(MachineQuery.builder().description(evil).build())).hasSize(1);
    }
    assertThat(pool.machines(MachineQuery.all())).hasSize(6);
  }

  // ---- rule 2: locked machines, re-locks, unlocking free machines -----------------------------

  @Test
  void lockingAMachineLockedByAnotherOwnerFailsAndNamesTheHolder() {
    try (Lease held =
        pool.lock(
            request(BOB)
                .description("bob's run")
                .names("smithi001.front.sepia.ceph.com")
                .build())) {
      List<List<String>> before = db.snapshot();
      assertThatThrownBy(
              () -> pool.lock(request(ALICE).names("smithi001.front.sepia.ceph.com").build()))
          .isInstanceOf(LockConflictException.class)
          .hasMessageContaining("is locked by " + BOB)
          .hasMessageContaining("bob's run");
      assertThat(db.snapshot()).isEqualTo(before);
    }
  }

  @Test
  void reLockOfALockKeptUntilUnlockedReturnsThatLockAndChangesNothing() {
    String one = "smithi001.front.sepia.ceph.com";
    String two = "smithi002.front.sepia.ceph.com";
    Lease first =
        pool.lock(request(ALICE).description("job-1").names(one, two).keepUntilUnlocked().build());
    List<List<String>> before = db.snapshot();

    Lease second =
        pool.lock(request(ALICE).description("job-1").names(one, two).keepUntilUnlocked().build());
    Lease third =
        pool.lock(request(ALICE).description("job-1").names(two).keepUntilUnlocked().build());

    assertThat(db.snapshot()).as("a re-lock writes nothing").isEqualTo(before);
    assertThat(List.of(second.token(), third.token())).containsOnly(first.token());
    assertThat(second.machines()).isEqualTo(first.machines());
    assertThat(third.names()).containsExactly(two);
    third.close();
    assertThat(machine(two).locked()).as("closing any handle unlocks what it names").isFalse();
    assertThat(machine(one).locked()).isTrue();
    first.close();
    assertThat(machine(one).locked()).isFalse();
  }

  @Test
  void reLockOfAMachineHeldByAnOpenLeaseIsRefusedAndTheLeaseKeepsWorking() {
    String name = "smithi001.front.sepia.ceph.com";
    try (Lease first = pool.lock(request(ALICE).description("job-1").names(name).build())) {
      List<List<String>> before = db.snapshot();
      for (LockRequest again :
          List.of(
              request(ALICE).description("job-1").names(name).build(),
              request(ALICE).description("job-1").names(name).keepUntilUnlocked().build())) {
        assertThatThrownBy(() -> pool.lock(again))
            .isInstanceOf(LockConflictException.class)
            .hasMessage(
                name
                    + " is held by an open lease of "
                    + ALICE
                    + " (description 'job-1'); close that lease, or wait for it to expire, before"
                    + " locking it again; nothing was locked");
        assertThat(db.snapshot()).isEqualTo(before);
      }
      first.renew();
      assertThat(first.isOpen()).isTrue();
      assertThat(machine(name).lockedBy()).isEqualTo(ALICE);
    }
    assertThat(machine(name).locked()).as("the first lease still unlocks its machine").isFalse();
  }

  @Test
  void reLockOfALockKeptUntilUnlockedUnderALeaseIsRefused() {
    String name = "smithi001.front.sepia.ceph.com";
    pool.lock(request(ALICE).description("job-1").names(name).keepUntilUnlocked().build());
    List<List<String>> before = db.snapshot();
    assertThatThrownBy(() -> pool.lock(request(ALICE).description("job-1").names(name).build()))
        .isInstanceOf(LockConflictException.class)
        .hasMessageContaining(name + " is locked by " + ALICE + " (description 'job-1')")
        .hasMessageContaining("until unlocked; a re-lock of it must keep it until unlocked too");
    assertThat(db.snapshot()).isEqualTo(before);
    assertThat(pool.reapExpired()).as("it is still kept until unlocked").isEmpty();
  }

  @Test
  void reLockThatAddsFreeMachinesOrJoinsTwoLocksIsRefused() {
    String one = "smithi001.front.sepia.ceph.com";
    String two = "smithi002.front.sepia.ceph.com";
    String three = "smithi003.front.sepia.ceph.com";
    pool.lock(request(ALICE).description("job-1").names(one).keepUntilUnlocked().build());
    pool.lock(request(ALICE).description("job-1").names(two).keepUntilUnlocked().build());
    List<List<String>> before = db.snapshot();
    assertThatThrownBy(
            () ->
                pool.lock(
                    request(ALICE)
                        .description("job-1")
                        .names(one, three)
                        .keepUntilUnlocked()
                        .build()))
        .isInstanceOf(LockConflictException.class)
        .hasMessageContaining(one + " is already locked by " + ALICE)
        .hasMessageContaining("lock " + three + " in a request of their own");
    assertThatThrownBy(
            () ->
                pool.lock(
                    request(ALICE)
                        .description("job-1")
                        .names(one, two)
                        .keepUntilUnlocked()
                        .build()))
        .isInstanceOf(LockConflictException.class)
        .hasMessageContaining("are held by 2 different locks of " + ALICE);
    assertThat(db.snapshot()).isEqualTo(before);
  }

  @Test
  void reLockOfAVmSlotKeptUntilUnlockedDoesNotProvisionItAgain() {
    java.util.concurrent.atomic.AtomicInteger provisioned =
        new java.util.concurrent.atomic.AtomicInteger();
    Provisioner counting =
        new Provisioner() {
          @Override
          public Machine provision(Machine machine, LockRequest request) {
            provisioned.incrementAndGet();
            return machine;
          }

          @Override
          public void release(Machine machine) {}
        };
    MachinePool vms = newPool(b -> b.provisioner(counting));
    String vm = "vpm011.front.sepia.ceph.com";
    Lease first =
        vms.lock(request(ALICE).description("job-1").names(vm).keepUntilUnlocked().build());
    List<List<String>> before = db.snapshot();
    Lease second =
        vms.lock(request(ALICE).description("job-1").names(vm).keepUntilUnlocked().build());
    assertThat(provisioned).as("the VM its holder uses is not re-imaged").hasValue(1);
    assertThat(second.token()).isEqualTo(first.token());
    assertThat(db.snapshot()).isEqualTo(before);
    second.close();
    assertThat(machine(vm).locked()).isFalse();
  }

  @Test
  void reLockBySameOwnerWithOtherOrNoDescriptionFails() {
    String name = "smithi001.front.sepia.ceph.com";
    try (Lease held = pool.lock(request(ALICE).description("job-1").names(name).build())) {
      assertThatThrownBy(() -> pool.lock(request(ALICE).description("job-2").names(name).build()))
          .isInstanceOf(LockConflictException.class)
          .hasMessageContaining("same non-empty description");
      assertThatThrownBy(() -> pool.lock(request(ALICE).names(name).build()))
          .isInstanceOf(LockConflictException.class);
    }
    try (Lease held = pool.lock(request(ALICE).description("").names(name).build())) {
      assertThatThrownBy(() -> pool.lock(request(ALICE).description("").names(name).build()))
          .as("an empty description never allows a re-lock")
          .isInstanceOf(LockConflictException.class);
    }
  }

  @Test
  void unlockingAFreeMachineFailsClearly() {
    assertThatThrownBy(() -> pool.unlock("smithi001.front.sepia.ceph.com", ALICE))
        .isInstanceOf(LockConflictException.class)
        .hasMessageContaining("is not locked");
  }

  @Test
  void closingALeaseTwiceIsHarmless() {
    Lease lease = pool.lock(request(ALICE).names("smithi001.front.sepia.ceph.com").build());
    lease.close();
    lease.close();
    assertThat(lease.isOpen()).isFalse();
    assertThat(machine("smithi001.front.sepia.ceph.com").locked()).isFalse();
  }

  // ---- rule 3: unlock by owner and description ------------------------------------------------

  @Test
  void unlockByAnotherOwnerFailsAndChangesNothing() {
    String name = "smithi001.front.sepia.ceph.com";
    pool.lock(request(BOB).names(name).keepUntilUnlocked().build());
    List<List<String>> before = db.snapshot();
    assertThatThrownBy(() -> pool.unlock(name, ALICE))
        .isInstanceOf(LockConflictException.class)
        .hasMessageContaining("locked by " + BOB + ", not by " + ALICE);
    assertThat(db.snapshot()).isEqualTo(before);
  }

  @Test
  void unlockWithADifferentDescriptionFails() {
    String name = "smithi001.front.sepia.ceph.com";
    pool.lock(request(ALICE).description("job-1").names(name).keepUntilUnlocked().build());
    assertThatThrownBy(() -> pool.unlock(name, ALICE, "job-2"))
        .isInstanceOf(LockConflictException.class)
        .hasMessageContaining("job-1");
    pool.unlock(name, ALICE, "job-1");
    assertThat(machine(name).locked()).isFalse();
  }

  @Test
  void unlockWithoutADescriptionIgnoresTheLocksDescription() {
    String name = "smithi001.front.sepia.ceph.com";
    pool.lock(request(ALICE).description("job-1").names(name).keepUntilUnlocked().build());
    pool.unlock(name, ALICE);
    assertThat(machine(name).locked()).isFalse();
  }

  @Test
  void unlockOfAnUnknownMachineIsNoSuchMachine() {
    assertThatThrownBy(() -> pool.unlock("smithi404.front.sepia.ceph.com", ALICE))
        .isInstanceOf(NoSuchMachineException.class);
  }

  // ---- rule 4: lock-many --------------------------------------------------------------------

  @Test
  void lockManyIsAllOrNothing() {
    try (Lease held = pool.lock(request(BOB).names("smithi001.front.sepia.ceph.com").build())) {
      List<List<String>> before = db.snapshot();
      assertThatThrownBy(() -> pool.lock(request(ALICE).machineType("smithi").count(3).build()))
          .isInstanceOf(NotEnoughMachinesException.class)
          .hasMessageContaining("only 2 smithi machines available, 3 requested");
      assertThat(db.snapshot()).as("not a single machine was locked").isEqualTo(before);
    }
  }

  @Test
  void lockManyTakesOnlyUpAndFreeMachines() {
    pool.inventory().markDown("smithi001.front.sepia.ceph.com", "disk errors on sdb");
    try (Lease held = pool.lock(request(BOB).names("smithi002.front.sepia.ceph.com").build());
        Lease lease = pool.lock(request(ALICE).machineType("smithi").count(1).build())) {
      assertThat(lease.names()).containsExactly("smithi003.front.sepia.ceph.com");
      assertThatThrownBy(() -> pool.lock(request(ALICE).machineType("smithi").count(1).build()))
          .isInstanceOf(NotEnoughMachinesException.class)
          .hasMessageContaining("only 0 smithi machines available, 1 requested");
    }
    assertThat(machine("smithi001.front.sepia.ceph.com").description())
        .isEqualTo("disk errors on sdb");
  }

  @Test
  void lockManyFiltersPhysicalMachinesByOs() {
    try (Lease lease =
        pool.lock(request(ALICE).machineType("smithi").count(2).os("ubuntu", "22.04").build())) {
      assertThat(lease.names())
          .containsExactlyInAnyOrder(
              "smithi001.front.sepia.ceph.com", "smithi002.front.sepia.ceph.com");
    }
    assertThatThrownBy(
            () ->
                pool.lock(request(ALICE).machineType("smithi").count(2).os("centos", "9").build()))
        .isInstanceOf(NotEnoughMachinesException.class)
        .hasMessageContaining(
            "only 1 smithi machine available with os centos, version 9, 2 requested");
  }

  @Test
  void lockManyFiltersPhysicalMachinesByOsVersionAloneAsTeuthologyLockDoes() {
    try (Lease lease =
        pool.lock(request(ALICE).machineType("smithi").count(1).os(null, "9").build())) {
      assertThat(lease.names()).containsExactly("smithi003.front.sepia.ceph.com");
    }
    assertThatThrownBy(
            () ->
                pool.lock(request(ALICE).machineType("smithi").count(3).os(null, "22.04").build()))
        .isInstanceOf(NotEnoughMachinesException.class)
        .hasMessageContaining("only 2 smithi machines available with version 22.04, 3 requested");
  }

  @Test
  void lockManyTakesFromSeveralTypes() {
    try (Lease lease = pool.lock(request(ALICE).machineTypes("smithi", "mira").count(5).build())) {
      assertThat(lease.machines()).extracting(Machine::machineType).containsOnly("smithi", "mira");
      assertThat(lease.machines()).hasSize(5);
    }
  }

  @Test
  void lockByNameOfASetWithOneLockedMachineLocksNone() {
    try (Lease held = pool.lock(request(BOB).names("mira002.front.sepia.ceph.com").build())) {
      List<List<String>> before = db.snapshot();
      assertThatThrownBy(
              () ->
                  pool.lock(
                      request(ALICE)
                          .names("mira001.front.sepia.ceph.com", "mira002.front.sepia.ceph.com")
                          .build()))
          .isInstanceOf(LockConflictException.class);
      assertThat(db.snapshot()).isEqualTo(before);
    }
  }

  @Test
  void twoRequestersRacingForTheLastMachinesGetAllOrNothingEach() throws Exception {
    for (int round = 0; round < 5; round++) {
      CountDownLatch start = new CountDownLatch(1);
      ExecutorService threads = Executors.newFixedThreadPool(2);
      try {
        List<Future<Lease>> results = new ArrayList<>();
        for (String owner : List.of(ALICE, BOB)) {
          Callable<Lease> race =
              () -> {
                start.await(10, TimeUnit.SECONDS);
                try {
                  return pool.lock(request(owner).machineType("smithi").count(3).build());
                } catch (NotEnoughMachinesException e) {
                  return null;
                }
              };
          results.add(threads.submit(race));
        }
        start.countDown();
        List<Lease> winners = new ArrayList<>();
        for (Future<Lease> result : results) {
          Lease lease = result.get(30, TimeUnit.SECONDS);
          if (lease != null) {
            winners.add(lease);
          }
        }
        assertThat(winners).hasSize(1);
        assertThat(winners.get(0).machines()).hasSize(3);
        assertThat(pool.machines(MachineQuery.builder().machineType("smithi").build()))
            .allSatisfy(m -> assertThat(m.lockedBy()).isEqualTo(winners.get(0).owner()));
        winners.get(0).close();
      } finally {
        threads.shutdownNow();
      }
    }
  }

  @Test
  void waitUpToTakesMachinesFreedWhileWaiting() throws Exception {
    Lease held = pool.lock(request(BOB).machineType("mira").count(2).build());
    ExecutorService releaser = Executors.newSingleThreadExecutor();
    try {
      releaser.submit(
          () -> {
            Thread.sleep(300);
            held.close();
            return null;
          });
      try (Lease lease =
          pool.lock(
              request(ALICE)
                  .machineType("mira")
                  .count(2)
                  .waitUpTo(Duration.ofSeconds(20))
                  .build())) {
        assertThat(lease.machines()).hasSize(2);
        assertThat(held.isOpen()).isFalse();
      }
    } finally {
      releaser.shutdownNow();
    }
  }

  @Test
  void aWaitLongerThanTheContentionTimeoutEndsWithNotEnoughMachinesWithinIt() {
    MachinePool quick = newPool(b -> b.contentionTimeout(Duration.ofMillis(300)));
    try (Lease held = pool.lock(request(BOB).machineType("mira").count(2).build())) {
      long started = System.nanoTime();
      assertThatThrownBy(
              () ->
                  quick.lock(
                      request(ALICE)
                          .machineType("mira")
                          .count(1)
                          .waitUpTo(Duration.ofMillis(1500))
                          .build()))
          .as("the last attempt runs before the deadline, not after it")
          .isInstanceOf(NotEnoughMachinesException.class);
      assertThat(Duration.ofNanos(System.nanoTime() - started))
          .isLessThan(Duration.ofMillis(1500 + 1000));
    }
  }

  @Test
  void waitUpToGivesUpAfterTheDeadline() {
    try (Lease held = pool.lock(request(BOB).machineType("mira").count(2).build())) {
      long started = System.nanoTime();
      assertThatThrownBy(
              () ->
                  pool.lock(
                      request(ALICE)
                          .machineType("mira")
                          .count(1)
                          .waitUpTo(Duration.ofMillis(500))
                          .build()))
          .isInstanceOf(NotEnoughMachinesException.class);
      assertThat(Duration.ofNanos(System.nanoTime() - started))
          .isGreaterThanOrEqualTo(Duration.ofMillis(500));
    }
  }

  // ---- rule 5: database clock -----------------------------------------------------------------

  @Test
  void lockTimesComeFromTheDatabaseClock() {
    MachinePool shortLeases =
        newPool(
            b -> b.leaseDuration(Duration.ofSeconds(37)).heartbeatInterval(Duration.ofSeconds(30)));
    Instant before = databaseNow();
    try (Lease lease =
        shortLeases.lock(request(ALICE).names("mira001.front.sepia.ceph.com").build())) {
      Instant after = databaseNow();
      Instant since = machine("mira001.front.sepia.ceph.com").lockedSince();
      assertThat(since).isBetween(before.minusMillis(1), after.plusMillis(1));
      assertThat(Duration.between(since, lease.expiresAt().orElseThrow()))
          .as("expiry = lock time + lease, both computed by the database in one statement")
          .isEqualTo(Duration.ofSeconds(37));
    }
  }

  private Instant databaseNow() {
    String sql =
        kind() == TestDatabase.Kind.MARIADB
            ? "SELECT UNIX_TIMESTAMP(CURRENT_TIMESTAMP(3)) * 1000"
            : kind() == TestDatabase.Kind.H2
                ? "SELECT DATEDIFF(MILLISECOND, TIMESTAMP WITH TIME ZONE '1970-01-01 00:00:00+00', CURRENT_TIMESTAMP)"
                : "SELECT EXTRACT(EPOCH FROM CURRENT_TIMESTAMP) * 1000";
    return Instant.ofEpochMilli((long) Double.parseDouble(db.query(sql).get(0).get(0)));
  }

  // ---- rule 6: fencing -----------------------------------------------------------------------

  @Test
  void anExpiredHolderCanNeitherRenewNorUnlockAfterSomeoneElseLocked() {
    String name = "smithi001.front.sepia.ceph.com";
    MachinePool stalled =
        newPool(
            b -> b.leaseDuration(Duration.ofMinutes(10)).heartbeatInterval(Duration.ofMinutes(9)));
    Lease old = stalled.lock(request(ALICE).description("old").names(name).build());
    long oldGeneration = machine(name).generation();
    expire(old);
    assertThat(pool.reapExpired()).extracting(Machine::name).containsExactly(name);
    try (Lease current = pool.lock(request(BOB).description("new").names(name).build())) {
      assertThat(machine(name).generation()).isGreaterThan(oldGeneration);
      assertThatThrownBy(old::renew).isInstanceOf(LockConflictException.class);
      old.close();
      Machine m = machine(name);
      assertThat(m.locked()).isTrue();
      assertThat(m.lockedBy()).isEqualTo(BOB);
      assertThat(m.description()).isEqualTo("new");
      assertThat(current.isOpen()).isTrue();
    }
  }

  @Test
  void everyLockIncrementsTheGeneration() {
    String name = "mira002.front.sepia.ceph.com";
    long start = machine(name).generation();
    for (int i = 1; i <= 3; i++) {
      try (Lease lease = pool.lock(request(ALICE).names(name).build())) {
        assertThat(lease.machines().get(0).generation()).isEqualTo(start + i);
      }
    }
  }

  // ---- rule 7: expiry, heartbeat and reaping --------------------------------------------------

  @Test
  void heartbeatKeepsAnOpenLeaseAlive() throws Exception {
    MachinePool beating =
        newPool(
            b -> b.leaseDuration(Duration.ofMillis(900)).heartbeatInterval(Duration.ofMillis(150)));
    try (Lease lease = beating.lock(request(ALICE).names("mira001.front.sepia.ceph.com").build())) {
      Instant firstExpiry = lease.expiresAt().orElseThrow();
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (!lease.expiresAt().orElseThrow().isAfter(firstExpiry.plusMillis(1000))) {
        assertThat(System.nanoTime())
            .as("heartbeat renewed the lease in time")
            .isLessThan(deadline);
        Thread.sleep(50);
        assertThat(pool.reapExpired()).isEmpty();
      }
      assertThat(lease.isOpen()).isTrue();
      assertThat(machine("mira001.front.sepia.ceph.com").lockedBy()).isEqualTo(ALICE);
    }
  }

  /**
   * A renewal finds a lease's rows by their names, at most 500 names per statement: leases of 400,
   * 400 and 1 machines take two statements, and every row of each is extended.
   */
  @Test
  void heartbeatRenewsLeasesOfMoreMachinesThanOneStatementNames() throws Exception {
    List<MachineSpec> big = new ArrayList<>();
    for (int i = 0; i < 801; i++) {
      big.add(MachineSpec.physical(String.format(Locale.ROOT, "big%04d.front", i), "big"));
    }
    pool.inventory().addAll(big);
    MachinePool beating =
        newPool(
            b -> b.leaseDuration(Duration.ofSeconds(5)).heartbeatInterval(Duration.ofMillis(300)));
    List<Lease> leases = new ArrayList<>();
    try {
      for (int count : List.of(400, 400, 1)) {
        leases.add(beating.lock(request(ALICE).machineType("big").count(count).build()));
      }
      Instant lockedUntil =
          leases.stream().map(l -> l.expiresAt().orElseThrow()).max(Instant::compareTo).get();
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (leases.stream().anyMatch(l -> !l.expiresAt().orElseThrow().isAfter(lockedUntil))) {
        assertThat(System.nanoTime()).as("every lease renewed in time").isLessThan(deadline);
        Thread.sleep(50);
      }
      assertThat(leases).allMatch(Lease::isOpen);
      List<Machine> held = pool.machines(MachineQuery.builder().machineType("big").build());
      assertThat(held).hasSize(801).allMatch(Machine::locked);
      assertThat(
              db.query(
                  "SELECT COUNT(*) FROM "
                      + db.prefix()
                      + "machine WHERE machine_type = 'big' AND lease_expires > "
                      + (kind() == TestDatabase.Kind.MARIADB ? "'" : "TIMESTAMP WITH TIME ZONE '")
                      + lockedUntil.toString().replace('T', ' ').replace("Z", "")
                      + (kind() == TestDatabase.Kind.MARIADB ? "'" : "+00:00'")))
          .as("every row of every lease was extended past the first expiry")
          .containsExactly(List.of("801"));
    } finally {
      leases.forEach(Lease::close);
    }
  }

  @Test
  void reapingReleasesOnlyExpiredLeases() {
    MachinePool stalled =
        newPool(
            b -> b.leaseDuration(Duration.ofMinutes(10)).heartbeatInterval(Duration.ofMinutes(9)));
    Lease expired = stalled.lock(request(ALICE).machineType("smithi").count(2).build());
    try (Lease alive = stalled.lock(request(BOB).machineType("mira").count(1).build())) {
      expire(expired);
      List<Machine> released = pool.reapExpired();
      assertThat(released)
          .extracting(Machine::name)
          .containsExactlyInAnyOrderElementsOf(expired.names());
      assertThat(pool.reapExpired()).as("nothing left to reap").isEmpty();
      assertThat(machine(alive.names().get(0)).lockedBy()).isEqualTo(BOB);
      for (String name : expired.names()) {
        Machine m = machine(name);
        assertThat(m.locked()).isFalse();
        assertThat(m.lockedBy()).isNull();
        assertThat(m.lockedSince()).isNull();
      }
    }
  }

  @Test
  void backgroundReaperFreesExpiredLeases() throws Exception {
    MachinePool stalled =
        newPool(
            b -> b.leaseDuration(Duration.ofMinutes(10)).heartbeatInterval(Duration.ofMinutes(9)));
    Lease expired = stalled.lock(request(ALICE).names("mira002.front.sepia.ceph.com").build());
    List<String> heard = new CopyOnWriteArrayList<>();
    newPool(
        b ->
            b.reapExpiredEvery(Duration.ofMillis(100))
                .listener(
                    new PoolListener() {
                      @Override
                      public void leaseExpired(String token, List<String> machines) {
                        heard.add(token);
                      }
                    }));
    expire(expired);
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (machine("mira002.front.sepia.ceph.com").locked()) {
      assertThat(System.nanoTime()).as("reaped within 10 s").isLessThan(deadline);
      Thread.sleep(50);
    }
    assertThat(heard).containsExactly(expired.token());
  }

  @Test
  void heartbeatNoticesALostLease() throws Exception {
    List<String> lost = Collections.synchronizedList(new ArrayList<>());
    MachinePool beating =
        newPool(
            b ->
                b.leaseDuration(Duration.ofSeconds(3))
                    .heartbeatInterval(Duration.ofMillis(100))
                    .listener(
                        new PoolListener() {
                          @Override
                          public void leaseExpired(String token, List<String> machines) {
                            lost.add(token);
                          }
                        }));
    Lease lease = beating.lock(request(ALICE).names("mira001.front.sepia.ceph.com").build());
    pool.unlock("mira001.front.sepia.ceph.com", ALICE);
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (!lease.isLost()) {
      assertThat(System.nanoTime()).as("lost lease noticed within 10 s").isLessThan(deadline);
      Thread.sleep(20);
    }
    assertThat(lost).containsExactly(lease.token());
    assertThat(beating.leases()).doesNotContain(lease);
  }

  @Test
  void closingThePoolReleasesItsLeasesButNotLocksKeptUntilUnlocked() {
    MachinePool other = newPool(b -> b);
    other.lock(request(ALICE).names("smithi001.front.sepia.ceph.com").build());
    Lease kept =
        other.lock(
            request(ALICE).names("smithi002.front.sepia.ceph.com").keepUntilUnlocked().build());
    assertThat(kept.expiresAt()).isEmpty();
    other.close();
    assertThat(machine("smithi001.front.sepia.ceph.com").locked()).isFalse();
    assertThat(machine("smithi002.front.sepia.ceph.com").lockedBy()).isEqualTo(ALICE);
    assertThat(pool.reapExpired()).as("a lock without expiry is never reaped").isEmpty();
    pool.unlock("smithi002.front.sepia.ceph.com", ALICE);
    assertThat(machine("smithi002.front.sepia.ceph.com").locked()).isFalse();
  }

  // ---- rule 8: locked_since and locked_by ----------------------------------------------------

  @Test
  void unlockClearsLockedByAndLockedSinceButKeepsTheDescription() {
    String name = "mira001.front.sepia.ceph.com";
    try (Lease lease = pool.lock(request(ALICE).description("job-9").names(name).build())) {
      assertThat(machine(name).lockedSince()).isNotNull();
    }
    Machine m = machine(name);
    assertThat(m.locked()).isFalse();
    assertThat(m.lockedBy()).isNull();
    assertThat(m.lockedSince()).isNull();
    assertThat(m.description()).isEqualTo("job-9");
    assertThat(
            db.query(
                "SELECT lease_token, lease_expires FROM "
                    + db.prefix()
                    + "machine WHERE name = '"
                    + name
                    + "'"))
        .containsExactly(java.util.Arrays.asList(null, null));
  }

  @Test
  void markDownWithoutAReasonKeepsTheHoldersDescriptionSoTheHolderCanStillUnlock() {
    String name = "mira001.front.sepia.ceph.com";
    pool.lock(request(ALICE).description("job-9").names(name).keepUntilUnlocked().build());

    pool.inventory().markDown(name);

    Machine down = machine(name);
    assertThat(down.up()).isFalse();
    assertThat(down.locked()).isTrue();
    assertThat(down.lockedBy()).isEqualTo(ALICE);
    assertThat(down.description()).isEqualTo("job-9");
    pool.unlock(name, ALICE, "job-9");
    assertThat(machine(name).locked()).isFalse();
    assertThat(machine(name).up()).as("unlocking does not mark it up").isFalse();
    assertThatThrownBy(() -> pool.inventory().markDown("nosuch.front.sepia.ceph.com"))
        .isInstanceOf(NoSuchMachineException.class);
  }

  // ---- rule 10: exact identity, times in UTC ------------------------------------------------

  @Test
  void anOwnerOrDescriptionDifferingOnlyInCaseCanNeitherReLockNorUnlock() {
    String name = "smithi001.front.sepia.ceph.com";
    String shouting = ALICE.toUpperCase(Locale.ROOT);
    pool.lock(request(ALICE).description("job-1").names(name).keepUntilUnlocked().build());
    List<List<String>> before = db.snapshot();
    assertThatThrownBy(() -> pool.lock(request(shouting).description("job-1").names(name).build()))
        .isInstanceOf(LockConflictException.class)
        .hasMessageContaining("is locked by " + ALICE);
    assertThatThrownBy(() -> pool.lock(request(ALICE).description("JOB-1").names(name).build()))
        .isInstanceOf(LockConflictException.class)
        .hasMessageContaining("same non-empty description");
    assertThatThrownBy(() -> pool.unlock(name, shouting))
        .isInstanceOf(LockConflictException.class)
        .hasMessageContaining("not by " + shouting);
    assertThatThrownBy(() -> pool.unlock(name, ALICE, "JOB-1"))
        .isInstanceOf(LockConflictException.class);
    assertThat(pool.machines(MachineQuery.builder().owner(shouting).build())).isEmpty();
    assertThat(pool.machines(MachineQuery.builder().description("JOB-1").build())).isEmpty();
    assertThat(db.snapshot()).as("nothing changed").isEqualTo(before);
    pool.unlock(name, ALICE, "job-1");
    assertThat(machine(name).locked()).isFalse();
  }

  @Test
  void anOwnerOrDescriptionWithATrailingSpaceCanNeitherReLockNorUnlock() {
    String name = "smithi001.front.sepia.ceph.com";
    pool.lock(request(ALICE).description("job-1").names(name).keepUntilUnlocked().build());
    List<List<String>> before = db.snapshot();
    assertThatThrownBy(
            () -> pool.lock(request(ALICE + " ").description("job-1").names(name).build()))
        .isInstanceOf(LockConflictException.class)
        .hasMessageContaining("is locked by " + ALICE);
    assertThatThrownBy(() -> pool.lock(request(ALICE).description("job-1 ").names(name).build()))
        .isInstanceOf(LockConflictException.class)
        .hasMessageContaining("same non-empty description");
    assertThatThrownBy(() -> pool.unlock(name, ALICE + " "))
        .isInstanceOf(LockConflictException.class);
    assertThatThrownBy(() -> pool.unlock(name, ALICE, "job-1 "))
        .isInstanceOf(LockConflictException.class);
    assertThat(pool.machines(MachineQuery.builder().owner(ALICE + " ").build())).isEmpty();
    assertThat(pool.machines(MachineQuery.builder().description("job-1 ").build())).isEmpty();
    assertThat(db.snapshot()).as("nothing changed").isEqualTo(before);
    pool.unlock(name, ALICE, "job-1");
    assertThat(machine(name).locked()).isFalse();
  }

  @Test
  void machineNamesAndTypesDifferingOnlyInCaseAreDifferentMachinesAndTypes() {
    String lower = "smithi001.front.sepia.ceph.com";
    String upper = "SMITHI001.front.sepia.ceph.com";
    pool.inventory().add(MachineSpec.physical(upper, "smithi"));
    pool.hostKeys().replace(upper, List.of(KEY_B));
    assertThat(pool.machine(upper)).map(Machine::name).contains(upper);
    try (Lease alice = pool.lock(request(ALICE).names(lower).build());
        Lease bob = pool.lock(request(BOB).names(upper).build())) {
      assertThat(machine(lower).lockedBy()).isEqualTo(ALICE);
      assertThat(machine(upper).lockedBy()).isEqualTo(BOB);
      assertThat(machine(lower).hostKeys()).isEmpty();
      assertThat(machine(upper).hostKeys()).containsExactly(KEY_B);
    }
    String mira = "mira001.front.sepia.ceph.com";
    String otherCase = "MIRA001.front.sepia.ceph.com";
    pool.lock(request(ALICE).names(mira).keepUntilUnlocked().build());
    List<List<String>> before = db.snapshot();
    assertThat(pool.machine(otherCase)).isEmpty();
    assertThatThrownBy(() -> pool.lock(request(ALICE).names(otherCase).build()))
        .isInstanceOf(NoSuchMachineException.class);
    assertThatThrownBy(() -> pool.unlock(otherCase, ALICE))
        .isInstanceOf(NoSuchMachineException.class);
    assertThatThrownBy(() -> pool.hostKeys().replace(otherCase, List.of(KEY_A)))
        .isInstanceOf(NoSuchMachineException.class);
    assertThatThrownBy(() -> pool.lock(request(ALICE).machineType("SMITHI").count(1).build()))
        .isInstanceOf(InvalidRequestException.class)
        .hasMessageContaining("unknown machine type SMITHI");
    assertThat(db.snapshot()).as("nothing changed").isEqualTo(before);
    pool.unlock(mira, ALICE);
    pool.inventory().remove(upper);
    assertThat(pool.machine(lower)).isPresent();
  }

  /**
   * Locks, reads and renews through a pool whose connections were all made while the JVM's default
   * time zone was far from UTC (and, on MariaDB, with the session's time zone elsewhere again): the
   * times must still be the database clock's instants.
   */
  @ParameterizedTest
  @ValueSource(strings = {"Asia/Kolkata", "America/Los_Angeles"})
  void lockTimesAreTheDatabaseClocksInstantsWhateverTheJvmTimeZone(String zone) {
    String name = "mira001.front.sepia.ceph.com";
    Duration leaseDuration = Duration.ofSeconds(37);
    TimeZone jvmZone = TimeZone.getDefault();
    TimeZone.setDefault(TimeZone.getTimeZone(zone));
    try (HikariDataSource fresh =
            db.newDataSource(
                kind() == TestDatabase.Kind.MARIADB ? "SET time_zone = '+09:00'" : null);
        MachinePool local =
            MachinePool.builder()
                .dataSource(fresh)
                .tablePrefix(db.prefix())
                .releaseOnShutdown(false)
                .leaseDuration(leaseDuration)
                .heartbeatInterval(Duration.ofSeconds(30))
                .build()) {
      Instant before = databaseNow();
      try (Lease lease = local.lock(request(ALICE).names(name).build())) {
        Instant after = databaseNow();
        Instant since = local.machine(name).orElseThrow().lockedSince();
        assertThat(since)
            .as("locked_since read in JVM zone %s", zone)
            .isBetween(before.minusMillis(1), after.plusMillis(1));
        assertThat(lease.machines().get(0).lockedSince()).isEqualTo(since);
        assertThat(lease.expiresAt()).contains(since.plus(leaseDuration));
        lease.renew();
        Instant renewed = databaseNow();
        assertThat(lease.expiresAt().orElseThrow())
            .as("the renewed expiry read in JVM zone %s", zone)
            .isBetween(
                after.plus(leaseDuration).minusMillis(1),
                renewed.plus(leaseDuration).plusMillis(1));
        assertThat(local.reapExpired()).as("a fresh lease is not expired").isEmpty();
        assertThat(lease.isOpen()).isTrue();
      }
      assertThat(machine(name).locked()).isFalse();
    } finally {
      TimeZone.setDefault(jvmZone);
    }
  }

  @Test
  void aLeaseExpiringAfter2038LocksAndKnowsItsExpiry() {
    String name = "mira002.front.sepia.ceph.com";
    Duration thirtyYears = Duration.ofDays(365 * 30);
    MachinePool longLeases = newPool(b -> b.leaseDuration(thirtyYears));
    Instant before = databaseNow();
    try (Lease lease = longLeases.lock(request(ALICE).names(name).build())) {
      Instant after = databaseNow();
      Instant expires = lease.expiresAt().orElseThrow();
      assertThat(expires)
          .isAfter(Instant.parse("2038-01-19T03:14:08Z"))
          .isBetween(
              before.plus(thirtyYears).minusMillis(1), after.plus(thirtyYears).plusMillis(1));
      assertThat(Duration.between(machine(name).lockedSince(), expires)).isEqualTo(thirtyYears);
      lease.renew();
      assertThat(lease.expiresAt().orElseThrow()).isAfterOrEqualTo(expires);
      assertThat(pool.reapExpired()).isEmpty();
      assertThat(machine(name).lockedBy()).isEqualTo(ALICE);
    }
    assertThat(machine(name).locked()).isFalse();
  }

  // ---- provisioning lifecycle as far as core goes ---------------------------------------------

  @Test
  void aVmSlotIsNotHandedOutWithoutAProvisioner() {
    List<List<String>> before = db.snapshot();
    assertThatThrownBy(() -> pool.lock(request(ALICE).machineType("vps").count(1).build()))
        .isInstanceOf(ProvisioningException.class)
        .hasMessageContaining("no provisioner for VM slots");
    assertThat(machine("vpm011.front.sepia.ceph.com").locked()).isFalse();
    assertThat(db.snapshot().size()).isEqualTo(before.size());
  }

  @Test
  void aVmSlotIsNotUnlockedByAPoolThatCannotDestroyItsVm() {
    MachinePool vms = newPool(b -> b.provisioner(Provisioner.none()));
    vms.lock(request(ALICE).machineType("vps").count(1).keepUntilUnlocked().build());
    List<List<String>> before = db.snapshot();
    assertThatThrownBy(() -> pool.unlock("vpm011.front.sepia.ceph.com", ALICE))
        .isInstanceOf(ProvisioningException.class)
        .hasMessageContaining("destroying its VM needs a provisioner");
    assertThat(db.snapshot()).isEqualTo(before);
    vms.unlock("vpm011.front.sepia.ceph.com", ALICE);
    assertThat(machine("vpm011.front.sepia.ceph.com").locked()).isFalse();
  }

  @Test
  void theProvisionerValidatesARequestWithItsVmHostsBeforeAnythingIsLocked() {
    pool.inventory()
        .add(MachineSpec.vm("vpm012.front.sepia.ceph.com", "vps", "mira002.front.sepia.ceph.com"));
    List<java.util.SortedSet<String>> asked = new CopyOnWriteArrayList<>();
    Provisioner refusing =
        new Provisioner() {
          @Override
          public void validate(LockRequest request, java.util.SortedSet<String> vmHosts) {
            asked.add(vmHosts);
            if ("plan9".equals(request.osType())) {
              throw new InvalidRequestException("unknown OS plan9");
            }
          }

          @Override
          public Machine provision(Machine machine, LockRequest request) {
            return machine;
          }

          @Override
          public void release(Machine machine) {}
        };
    MachinePool vms = newPool(b -> b.provisioner(refusing));
    List<List<String>> before = db.snapshot();
    assertThatThrownBy(
            () -> vms.lock(request(ALICE).machineType("vps").count(1).os("plan9", "4").build()))
        .isInstanceOf(InvalidRequestException.class)
        .hasMessageContaining("plan9");
    assertThat(db.snapshot()).isEqualTo(before);
    assertThat(asked)
        .containsExactly(
            new java.util.TreeSet<>(
                List.of("mira001.front.sepia.ceph.com", "mira002.front.sepia.ceph.com")));
    vms.lock(request(ALICE).names("vpm012.front.sepia.ceph.com").build()).close();
    vms.lock(request(ALICE).names("smithi001.front.sepia.ceph.com").build()).close();
    assertThat(asked)
        .as("a request by name asks about its own VM hosts only; a physical one is not asked about")
        .hasSize(2)
        .last()
        .isEqualTo(new java.util.TreeSet<>(List.of("mira002.front.sepia.ceph.com")));
  }

  @Test
  void aFailedProvisioningReleasesEveryMachineOfTheRequest() {
    pool.inventory()
        .add(MachineSpec.vm("vpm012.front.sepia.ceph.com", "vps", "mira002.front.sepia.ceph.com"));
    List<String> released = new CopyOnWriteArrayList<>();
    Provisioner failing =
        new Provisioner() {
          @Override
          public Machine provision(Machine machine, LockRequest request) {
            if (machine.name().startsWith("vpm012")) {
              throw new ProvisioningException(machine.name(), "create failed", 1, "boom", null);
            }
            return machine;
          }

          @Override
          public void release(Machine machine) {
            released.add(machine.name());
          }
        };
    MachinePool vms = newPool(b -> b.provisioner(failing));
    assertThatThrownBy(() -> vms.lock(request(ALICE).machineType("vps").count(2).build()))
        .isInstanceOf(ProvisioningException.class)
        .hasMessageContaining("vpm012.front.sepia.ceph.com: create failed (exit code 1)")
        .satisfies(e -> assertThat(((ProvisioningException) e).exitCode()).hasValue(1));
    assertThat(released)
        .containsExactlyInAnyOrder("vpm011.front.sepia.ceph.com", "vpm012.front.sepia.ceph.com");
    assertThat(pool.machines(MachineQuery.builder().machineType("vps").build()))
        .noneMatch(Machine::locked);
  }

  @Test
  void theOsOfAVmIsClearedBeforeItsCreateAndRecordedAfter() {
    List<String> seenDuringCreate = new CopyOnWriteArrayList<>();
    Provisioner installing =
        new Provisioner() {
          @Override
          public Machine provision(Machine machine, LockRequest request) {
            Machine now = pool.machine(machine.name()).orElseThrow();
            seenDuringCreate.add(now.osType() + " " + now.osVersion());
            return machine.withOs("ubuntu", "24.04", "x86_64");
          }

          @Override
          public void release(Machine machine) {}
        };
    pool.inventory()
        .update(
            MachineSpec.vm("vpm011.front.sepia.ceph.com", "vps", "mira001.front.sepia.ceph.com")
                .withOs("centos", "9.stream"));
    MachinePool vms = newPool(b -> b.provisioner(installing));
    try (Lease lease = vms.lock(request(ALICE).machineType("vps").count(1).build())) {
      assertThat(seenDuringCreate).containsExactly("null null");
      assertThat(lease.machines().get(0).osVersion()).isEqualTo("24.04");
      Machine vm = machine("vpm011.front.sepia.ceph.com");
      assertThat(List.of(vm.osType(), vm.osVersion(), vm.arch()))
          .containsExactly("ubuntu", "24.04", "x86_64");
    }
  }

  @Test
  void aVmThatFailsToProvisionKTimesInARowIsMarkedDownWithTheReason() {
    log.expect("io.machinepool.Provisioning", "marked down after");
    java.util.concurrent.atomic.AtomicBoolean failing =
        new java.util.concurrent.atomic.AtomicBoolean(true);
    Provisioner flaky =
        new Provisioner() {
          @Override
          public Machine provision(Machine machine, LockRequest request) {
            if (failing.get()) {
              throw new ProvisioningException(machine.name(), "libvirt said no", 1, "", null);
            }
            return machine;
          }

          @Override
          public void release(Machine machine) {}
        };
    MachinePool vms = newPool(b -> b.provisioner(flaky).markDownAfterFailures(2));
    String vm = "vpm011.front.sepia.ceph.com";
    assertThatThrownBy(() -> vms.lock(request(ALICE).names(vm).build()))
        .isInstanceOf(ProvisioningException.class);
    failing.set(false);
    vms.lock(request(ALICE).names(vm).build()).close();
    failing.set(true);
    assertThatThrownBy(() -> vms.lock(request(ALICE).names(vm).build()))
        .isInstanceOf(ProvisioningException.class);
    assertThat(machine(vm).up()).as("a success in between resets the count").isTrue();
    assertThatThrownBy(() -> vms.lock(request(ALICE).names(vm).build()))
        .isInstanceOf(ProvisioningException.class);
    Machine down = machine(vm);
    assertThat(down.up()).isFalse();
    assertThat(down.locked()).isFalse();
    assertThat(down.description())
        .startsWith("marked down after 2 provisioning failures in a row")
        .contains("libvirt said no");
    assertThat(log.entries("io.machinepool.Provisioning", "marked down after 2"))
        .as("an operator is told once, at WARN")
        .singleElement()
        .satisfies(e -> assertThat(e.level()).isEqualTo("WARN"));
    assertThatThrownBy(() -> vms.lock(request(ALICE).machineType("vps").count(1).build()))
        .isInstanceOf(NotEnoughMachinesException.class);
  }

  @Test
  void aFailureWithControlCharactersIsStoredAsTheReasonWithThemReplaced() {
    log.expect("io.machinepool.Provisioning", "marked down after");
    Provisioner garbling =
        new Provisioner() {
          @Override
          public Machine provision(Machine machine, LockRequest request) {
            throw new ProvisioningException(
                machine.name(),
                "libvirt said \u001b[31mno\u0000 \ud800",
                1,
                "Traceback\n  nul \u0000 here",
                null);
          }

          @Override
          public void release(Machine machine) {}
        };
    MachinePool vms = newPool(b -> b.provisioner(garbling).markDownAfterFailures(1));
    String vm = "vpm011.front.sepia.ceph.com";
    assertThatThrownBy(() -> vms.lock(request(ALICE).names(vm).build()))
        .isInstanceOf(ProvisioningException.class);
    Machine down = machine(vm);
    assertThat(down.up()).as("the reason could be stored").isFalse();
    assertThat(down.description())
        .startsWith("marked down after 1 provisioning failures in a row")
        .contains("libvirt said \ufffd[31mno\ufffd \ufffd")
        .as("one line: the stderr tail stays in the exception")
        .doesNotContain("Traceback")
        .doesNotContain("\n")
        .doesNotContain("\u0000");
  }

  @Test
  void aVmSlotMarkedDownIsNotLockedByNameWhileAPhysicalMachineIs() {
    pool.inventory().markDown("vpm011.front.sepia.ceph.com", "destroy failed on mira001");
    pool.inventory().markDown("smithi001.front.sepia.ceph.com", "under repair");
    MachinePool vms = newPool(b -> b.provisioner(Provisioner.none()));
    List<List<String>> before = db.snapshot();
    assertThatThrownBy(() -> vms.lock(request(ALICE).names("vpm011.front.sepia.ceph.com").build()))
        .isInstanceOf(LockConflictException.class)
        .hasMessageContaining("is a VM slot marked down")
        .hasMessageContaining("destroy failed on mira001");
    assertThat(db.snapshot()).isEqualTo(before);
    try (Lease lease = vms.lock(request(ALICE).names("smithi001.front.sepia.ceph.com").build())) {
      assertThat(lease.machines().get(0).up()).isFalse();
    }
  }

  @Test
  void closingAnExpiredLeaseLeavesItsVmsToTheReaper() {
    List<String> destroyed = new CopyOnWriteArrayList<>();
    Provisioner recording =
        new Provisioner() {
          @Override
          public Machine provision(Machine machine, LockRequest request) {
            return machine;
          }

          @Override
          public void release(Machine machine) {
            destroyed.add(machine.name());
          }
        };
    MachinePool stalled =
        newPool(
            b ->
                b.provisioner(recording)
                    .leaseDuration(Duration.ofMinutes(10))
                    .heartbeatInterval(Duration.ofMinutes(9)));
    Lease lease = stalled.lock(request(ALICE).machineTypes("vps", "mira").count(3).build());
    expire(lease);
    lease.close();
    assertThat(destroyed).as("an expired lease destroys nothing on close").isEmpty();
    assertThat(machine("vpm011.front.sepia.ceph.com").locked()).isTrue();
    assertThat(stalled.reapExpired())
        .extracting(Machine::name)
        .contains("vpm011.front.sepia.ceph.com");
    assertThat(destroyed).containsExactly("vpm011.front.sepia.ceph.com");
    assertThat(pool.machines(MachineQuery.builder().locked(true).build())).isEmpty();
  }

  @Test
  void aFailedDestroyLeavesTheVmLockedAndMarkedDown() {
    Provisioner cannotDestroy =
        new Provisioner() {
          @Override
          public Machine provision(Machine machine, LockRequest request) {
            return machine;
          }

          @Override
          public void release(Machine machine) {
            throw new ProvisioningException(
                machine.name(), "destroy failed", 1, "libvirt error", null);
          }
        };
    MachinePool vms = newPool(b -> b.provisioner(cannotDestroy));
    Lease lease = vms.lock(request(ALICE).machineType("vps").count(1).build());
    assertThatThrownBy(lease::close).isInstanceOf(ProvisioningException.class);
    Machine vm = machine("vpm011.front.sepia.ceph.com");
    assertThat(vm.locked()).isTrue();
    assertThat(vm.up()).isFalse();
    assertThat(vm.description()).contains("destroy failed");
    assertThat(log.entries("io.machinepool.VmCleanup", "stays locked and is marked down"))
        .singleElement()
        .satisfies(e -> assertThat(e.level()).isEqualTo("ERROR"))
        .satisfies(e -> assertThat(e.text()).contains("vpm011", "destroy failed (exit code 1)"))
        .satisfies(e -> assertThat(e.text()).as("one line").doesNotContain("libvirt error"));
    log.expect("io.machinepool.VmCleanup", "stays locked and is marked down");
  }

  // ---- inventory, queries, summary, targets, host keys -----------------------------------------

  @Test
  void addingAMachineTwiceIsInvalidAndChangesNothing() {
    List<List<String>> before = db.snapshot();
    assertThatThrownBy(
            () ->
                pool.inventory()
                    .addAll(
                        MachineSpec.physical("smithi004.front.sepia.ceph.com", "smithi"),
                        MachineSpec.physical("smithi001.front.sepia.ceph.com", "smithi")))
        .isInstanceOf(InvalidRequestException.class)
        .hasMessageContaining("already in the inventory: smithi001.front.sepia.ceph.com");
    assertThat(db.snapshot()).isEqualTo(before);
  }

  @Test
  void aLockedMachineCannotBeRemoved() {
    try (Lease lease = pool.lock(request(ALICE).names("mira001.front.sepia.ceph.com").build())) {
      assertThatThrownBy(() -> pool.inventory().remove("mira001.front.sepia.ceph.com"))
          .isInstanceOf(LockConflictException.class)
          .hasMessageContaining("unlock it before removing it");
    }
    pool.inventory().remove("mira001.front.sepia.ceph.com");
    assertThat(pool.machine("mira001.front.sepia.ceph.com")).isEmpty();
    assertThatThrownBy(() -> pool.inventory().remove("mira001.front.sepia.ceph.com"))
        .isInstanceOf(NoSuchMachineException.class);
  }

  @Test
  void updateChangesInventoryFieldsButNotTheLock() {
    try (Lease lease = pool.lock(request(ALICE).names("mira001.front.sepia.ceph.com").build())) {
      pool.inventory()
          .update(
              MachineSpec.physical("mira001.front.sepia.ceph.com", "mira")
                  .withArch("aarch64")
                  .withSshPort(2222));
      Machine m = machine("mira001.front.sepia.ceph.com");
      assertThat(m.arch()).isEqualTo("aarch64");
      assertThat(m.sshPort()).isEqualTo(2222);
      assertThat(m.lockedBy()).isEqualTo(ALICE);
    }
  }

  @Test
  void queriesFilterByEveryCriterion() {
    try (Lease lease =
        pool.lock(
            request(ALICE).description("run-42/job-3").machineType("mira").count(2).build())) {
      assertThat(pool.machines(MachineQuery.builder().locked(true).build())).hasSize(2);
      assertThat(pool.machines(MachineQuery.builder().owner(ALICE).build())).hasSize(2);
      assertThat(pool.machines(MachineQuery.builder().owner(BOB).build())).isEmpty();
      assertThat(pool.machines(MachineQuery.builder().descriptionContains("job-3").build()))
          .hasSize(2);
      assertThat(
              pool.machines(
                  MachineQuery.builder().machineType("smithi").os("ubuntu", null).build()))
          .hasSize(2);
      assertThat(
              pool.machines(MachineQuery.builder().vpsHost("mira001.front.sepia.ceph.com").build()))
          .extracting(Machine::name)
          .containsExactly("vpm011.front.sepia.ceph.com");
      assertThat(pool.machines(MachineQuery.builder().up(false).build())).isEmpty();
      assertThat(pool.machines(MachineQuery.all())).extracting(Machine::name).isSorted();
    }
  }

  @Test
  void summaryCountsByTypeAndOwner() {
    pool.inventory().markDown("smithi003.front.sepia.ceph.com", "broken fan");
    try (Lease lease = pool.lock(request(ALICE).machineType("smithi").count(1).build())) {
      var smithi = pool.summary().of("smithi");
      assertThat(smithi.total()).isEqualTo(3);
      assertThat(smithi.up()).isEqualTo(2);
      assertThat(smithi.locked()).isEqualTo(1);
      assertThat(smithi.free()).isEqualTo(1);
      assertThat(pool.summary().entries()).contains(TestValues.summaryEntry("smithi", ALICE, 1, 1));
      assertThat(pool.summary().total()).isEqualTo(6);
    }
  }

  @Test
  void targetsListLockedMachinesWithTheirPreferredKey() {
    pool.hostKeys().replace("smithi001.front.sepia.ceph.com", List.of(KEY_B, KEY_A));
    try (Lease lease =
        pool.lock(
            request(ALICE)
                .names("smithi001.front.sepia.ceph.com", "smithi002.front.sepia.ceph.com")
                .build())) {
      String yaml = lease.targets().toYaml();
      assertThat(yaml)
          .isEqualTo(
              "targets:\n  smithi001.front.sepia.ceph.com: "
                  + KEY_A
                  + "\n  smithi002.front.sepia.ceph.com: null\n");
      assertThat(pool.targets(MachineQuery.builder().owner(ALICE).build()).toYaml())
          .isEqualTo(yaml);
      assertThat(lease.machines().get(0).hostKeys()).containsExactlyInAnyOrder(KEY_A, KEY_B);
    }
    assertThat(pool.targets(MachineQuery.all()).toYaml()).isEqualTo("targets: {}\n");
  }

  @Test
  void hostKeysAreReplacedInOneStepAndForgotten() {
    String name = "mira002.front.sepia.ceph.com";
    pool.hostKeys().replace(name, List.of(KEY_A, KEY_B));
    pool.hostKeys().replace(name, List.of(KEY_B));
    assertThat(pool.hostKeys().keys(name)).containsExactly(KEY_B);
    pool.hostKeys().forget(name);
    assertThat(pool.hostKeys().keys(name)).isEmpty();
    assertThatThrownBy(() -> pool.hostKeys().replace("nosuch.front", List.of(KEY_A)))
        .isInstanceOf(NoSuchMachineException.class);
  }

  // ---- schema ------------------------------------------------------------------------------

  @Test
  void schemaCreationIsIdempotentAndSafeWhenManyPoolsStartAtOnce() throws Exception {
    String fresh = db.prefix().substring(0, db.prefix().length() - 1) + "x_";
    ExecutorService threads = Executors.newFixedThreadPool(4);
    List<MachinePool> built = new CopyOnWriteArrayList<>();
    try {
      CountDownLatch start = new CountDownLatch(1);
      List<Future<?>> futures = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        futures.add(
            threads.submit(
                () -> {
                  start.await(10, TimeUnit.SECONDS);
                  built.add(
                      MachinePool.builder()
                          .dataSource(db.dataSource())
                          .tablePrefix(fresh)
                          .releaseOnShutdown(false)
                          .build());
                  return null;
                }));
      }
      start.countDown();
      for (Future<?> future : futures) {
        future.get(60, TimeUnit.SECONDS);
      }
      assertThat(built).hasSize(4);
      assertThat(db.query("SELECT version FROM " + fresh + "schema_version"))
          .containsExactlyInAnyOrder(
              List.of("1"), List.of("2"), List.of("3"), List.of("4"), List.of("5"));
      built.get(0).inventory().add(MachineSpec.physical("h1.front", "t"));
      assertThat(built.get(3).machines(MachineQuery.all())).hasSize(1);
    } finally {
      built.forEach(MachinePool::close);
      threads.shutdownNow();
      for (String table : List.of("host_key", "machine", "schema_version")) {
        db.execute("DROP TABLE IF EXISTS " + fresh + table);
      }
    }
  }
}
