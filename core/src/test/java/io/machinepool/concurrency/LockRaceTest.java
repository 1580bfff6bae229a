package io.machinepool.concurrency;

import static org.assertj.core.api.Assertions.assertThat;

import io.machinepool.Lease;
import io.machinepool.LockRequest;
import io.machinepool.MachinePool;
import io.machinepool.MachineQuery;
import io.machinepool.NotEnoughMachinesException;
import io.machinepool.testing.TestDatabase;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Many threads of one JVM racing for a lab smaller than their demand, checked by an in-memory
 * ledger that knows nothing of machinepool's tables (README, Locking; "correctness under
 * concurrency").
 */
class LockRaceTest {
  private static final int THREADS = 12;
  private static final Duration RUN_FOR = Duration.ofSeconds(8);
  private static final int MIN_LOCKS = 60;
  private static final int ROUNDS = 10;

  @ParameterizedTest
  @EnumSource(TestDatabase.Kind.class)
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void noMachineIsEverHeldByTwoOwnersWhileTwelveThreadsLockRenewAndUnlockAtRandom(
      TestDatabase.Kind kind) throws Exception {
    Assumptions.assumeTrue(kind.available(), kind::skipReason);
    List<String> names = Lab.names(6, 4);
    MemoryLedger ledger = new MemoryLedger();
    Tally tally = new Tally();
    try (TestDatabase db = TestDatabase.open(kind, THREADS + 8);
        MachinePool pool =
            MachinePool.builder().dataSource(db.dataSource()).tablePrefix(db.prefix()).build()) {
      Lab.add(pool, names);
      ExecutorService threads = Executors.newFixedThreadPool(THREADS + 1);
      AtomicBoolean racing = new AtomicBoolean(true);
      ConcurrentLinkedQueue<String> reaped = new ConcurrentLinkedQueue<>();
      AtomicLong reaps = new AtomicLong();
      long seed = System.nanoTime();
      try {
        List<Future<?>> workers = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
          workers.add(
              threads.submit(
                  new RaceWorker(
                      pool,
                      "worker" + t + "@fuzz",
                      names,
                      Lab.TYPES,
                      ledger,
                      tally,
                      seed + t,
                      RUN_FOR,
                      20_000)));
        }
        // No lease can expire (10 minutes, renewed): a reaper running all along must find nothing.
        Future<?> reaper =
            threads.submit(
                () -> {
                  while (racing.get()) {
                    pool.reapExpired().forEach(m -> reaped.add(m.name()));
                    reaps.incrementAndGet();
                    Thread.sleep(20);
                  }
                  return null;
                });
        for (Future<?> worker : workers) {
          worker.get(RUN_FOR.toSeconds() + 60, TimeUnit.SECONDS);
        }
        racing.set(false);
        reaper.get(30, TimeUnit.SECONDS);
      } finally {
        racing.set(false);
        threads.shutdownNow();
        assertThat(threads.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
      }
      System.out.println(
          kind + " in-process race (seed " + seed + "): " + tally + " reaps=" + reaps.get());

      assertThat(ledger.violations()).as("moments two owners held one machine").isEmpty();
      assertThat(tally.problems()).as("unexpected outcomes").isEmpty();
      assertThat(ledger.held()).as("ledger claims left open").isEmpty();
      assertThat(reaped).as("machines a reaper took from live leases").isEmpty();
      assertThat(tally.locks()).as("successful locks").isGreaterThanOrEqualTo(MIN_LOCKS);
      assertThat(tally.locksByName.sum()).as("locks by name").isPositive();
      assertThat(tally.locksByType.sum()).as("locks by type").isPositive();
      assertThat(tally.conflicts.sum()).as("requests by name refused").isPositive();
      assertThat(tally.notEnough.sum()).as("requests by type refused").isPositive();
      assertThat(tally.renewals.sum()).as("renewals").isPositive();
      assertThat(tally.explicitUnlocks.sum()).as("unlocks by owner").isPositive();
      assertThat(tally.leasesClosed.sum()).as("leases closed").isPositive();
      assertThat(pool.leases()).as("leases the pool still tracks").isEmpty();
      Lab.assertAllFree(db, names);
      // every successful lock of a machine was one committed write, and nothing else wrote one
      assertThat(Lab.generations(db))
          .as("sum of fencing generations")
          .isEqualTo(tally.machinesLocked.sum());
    }
  }

  @ParameterizedTest
  @EnumSource(TestDatabase.Kind.class)
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void ofTwentyRacersForAllTenMachinesOfATypeOneWinsAndNineteenAreToldThereAreNotEnough(
      TestDatabase.Kind kind) throws Exception {
    Assumptions.assumeTrue(kind.available(), kind::skipReason);
    int racers = 20;
    List<String> smithi = Lab.names(10, 0);
    List<String> mira = Lab.names(0, 3);
    try (TestDatabase db = TestDatabase.open(kind, racers + 4);
        MachinePool pool =
            MachinePool.builder().dataSource(db.dataSource()).tablePrefix(db.prefix()).build()) {
      Lab.add(pool, smithi);
      Lab.add(pool, mira);
      ExecutorService threads = Executors.newFixedThreadPool(racers);
      try {
        for (int round = 1; round <= ROUNDS; round++) {
          CyclicBarrier start = new CyclicBarrier(racers);
          List<Future<Lease>> attempts = new ArrayList<>();
          for (int r = 0; r < racers; r++) {
            String owner = "racer" + r + "@round" + round;
            attempts.add(
                threads.submit(
                    () -> {
                      LockRequest request =
                          LockRequest.builder()
                              .owner(owner)
                              .description("all-of-smithi")
                              .machineType("smithi")
                              .count(10)
                              .build();
                      start.await(30, TimeUnit.SECONDS);
                      return pool.lock(request);
                    }));
          }
          List<Lease> winners = new ArrayList<>();
          List<Throwable> losers = new ArrayList<>();
          for (Future<Lease> attempt : attempts) {
            try {
              winners.add(attempt.get(60, TimeUnit.SECONDS));
            } catch (ExecutionException e) {
              losers.add(e.getCause());
            }
          }
          try {
            assertThat(losers)
                .as("round %d: the losers' failures", round)
                .hasSize(racers - 1)
                .allSatisfy(
                    e ->
                        // told the committed truth: the winner holds all ten, so none is free
                        assertThat(e)
                            .isInstanceOf(NotEnoughMachinesException.class)
                            .hasMessageStartingWith(
                                "only 0 smithi machines available, 10 requested"));
            assertThat(winners).as("round %d: winners", round).hasSize(1);
            Lease winner = winners.get(0);
            assertThat(winner.names()).containsExactlyElementsOf(smithi);
            assertThat(
                    db.query(
                        "SELECT name, locked_by, lease_token FROM "
                            + db.prefix()
                            + "machine WHERE locked = TRUE ORDER BY name"))
                .as("round %d: the locked rows", round)
                .containsExactlyElementsOf(
                    smithi.stream().map(n -> List.of(n, winner.owner(), winner.token())).toList());
          } finally {
            winners.forEach(Lease::close);
          }
          Lab.assertAllFree(db, concat(smithi, mira));
        }
      } finally {
        threads.shutdownNow();
        assertThat(threads.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
      }
      assertThat(pool.machines(MachineQuery.all()))
          .as("generations: one lock of each smithi per round, none of mira")
          .allSatisfy(
              m ->
                  assertThat(m.generation())
                      .isEqualTo(m.machineType().equals("smithi") ? ROUNDS : 0L));
    }
  }

  private static <T> List<T> concat(List<? extends T> a, List<? extends T> b) {
    List<T> all = new ArrayList<>(a);
    all.addAll(b);
    return all;
  }
}
