package io.machinepool.examples.cli;

import static io.machinepool.examples.cli.Lab.BOB;
import static io.machinepool.examples.cli.Lab.KEY;
import static io.machinepool.examples.cli.Lab.ME;
import static io.machinepool.examples.cli.Lab.name;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.machinepool.Lease;
import io.machinepool.LockRequest;
import io.machinepool.Machine;
import io.machinepool.Waiter;
import io.machinepool.testing.LogCapture;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code --queue}, the queue under {@code --summary}, and locks that wait in it: {@code --wait},
 * {@code --priority} and their progress line. The requests that wait run in background threads,
 * through the library or through the tool; every smithi is held by {@link Lab#BOB} so that they
 * wait.
 */
class QueueCommandsTest {
  /** The tool scans the host keys of the machines it locks, whose names do not resolve here. */
  @RegisterExtension
  final LogCapture log =
      new LogCapture().expect("io.machinepool.Provisioning", "is locked without host keys");

  private static final String CAROL = "carol@build3";
  private static final String DAVE = "dave@build4";
  private static final Duration LONG_WAIT = Duration.ofSeconds(60);

  private Lab lab;
  private final ExecutorService background = Executors.newCachedThreadPool();

  @BeforeEach
  void lab() {
    lab = new Lab();
  }

  @AfterEach
  void close() throws InterruptedException {
    background.shutdownNow(); // a tool still waiting is interrupted, and leaves the queue
    lab.close(); // a library waiter on the lab's pool leaves the queue
    assertThat(background.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
  }

  private void bobHoldsEverySmithi() {
    lab.lockAs(BOB, "bob's run", "smithi001", "smithi002", "smithi003");
  }

  /** A request by type that waits in the queue, through the library, on the lab's pool. */
  private Future<Lease> waitThroughTheLibrary(
      String owner, String description, int count, int priority) {
    return background.submit(
        () ->
            lab.pool.lock(
                LockRequest.builder()
                    .owner(owner)
                    .description(description)
                    .machineType("smithi")
                    .count(count)
                    .priority(priority)
                    .waitUpTo(LONG_WAIT)
                    .build()));
  }

  /** The tool run in a background thread, e.g. a lock with {@code --wait}. */
  private Future<Lab.Result> runInTheBackground(String... args) {
    return background.submit(() -> lab.run(args));
  }

  /** Waits until the queue holds this many requests. */
  private List<Waiter> awaitWaiters(int count) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    List<Waiter> waiters = lab.pool.waiters();
    while (waiters.size() != count && System.nanoTime() < deadline) {
      Thread.sleep(20);
      waiters = lab.pool.waiters();
    }
    assertThat(waiters).as("the queue").hasSize(count);
    return waiters;
  }

  /** The --queue table of these requests, each column padded to its widest value. */
  private static String queueTable(List<Waiter> waiters, List<String[]> rows) {
    int since = "WAITING SINCE (UTC)".length();
    int owner = "OWNER".length();
    int asks = "ASKS FOR".length();
    for (int i = 0; i < rows.size(); i++) {
      since = Math.max(since, Listing.lockedSince(waiters.get(i).since()).length());
      owner = Math.max(owner, rows.get(i)[0].length());
      asks = Math.max(asks, rows.get(i)[1].length());
    }
    String format = "%3s  %8s  %-" + since + "s  %-" + owner + "s  %-" + asks + "s  %s\n";
    StringBuilder table =
        new StringBuilder(
            String.format(
                format,
                "POS",
                "PRIORITY",
                "WAITING SINCE (UTC)",
                "OWNER",
                "ASKS FOR",
                "DESCRIPTION"));
    for (int i = 0; i < rows.size(); i++) {
      Waiter waiter = waiters.get(i);
      table.append(
          String.format(
              format,
              waiter.position(),
              waiter.priority(),
              Listing.lockedSince(waiter.since()),
              rows.get(i)[0],
              rows.get(i)[1],
              rows.get(i)[2]));
    }
    return table.toString();
  }

  private static String[] row(String owner, String asks, String quotedDescription) {
    return new String[] {owner, asks, quotedDescription};
  }

  @Test
  void queueOfNobodyWaitingPrintsNothingAndSaysSoOnStandardError() {
    Lab.Result all = lab.run("--queue");
    assertThat(all.status()).as("%s", all).isZero();
    assertThat(all.out()).isEmpty();
    assertThat(all.err()).isEqualTo("no request is waiting for machines\n");

    Lab.Result ofTypes = lab.run("--queue", "-m", "mira|vps");
    assertThat(ofTypes.status()).isZero();
    assertThat(ofTypes.out()).isEmpty();
    assertThat(ofTypes.err()).isEqualTo("no request is waiting for mira/vps machines\n");
  }

  @Test
  void queueListsTheWaitersInTheOrderServedLowerPriorityFirstAndTheToolWaitsItsTurn()
      throws Exception {
    bobHoldsEverySmithi();
    Future<Lease> carol = waitThroughTheLibrary(CAROL, null, 2, LockRequest.DEFAULT_PRIORITY);
    awaitWaiters(1);
    Future<Lab.Result> urgent =
        runInTheBackground(
            "--lock-many",
            "1",
            "-m",
            "smithi",
            "--wait",
            "60",
            "--priority",
            "10",
            "--desc",
            "urgent fix");
    List<Waiter> waiters = awaitWaiters(2);

    Lab.Result queue = lab.run("--queue");
    assertThat(queue.status()).as("%s", queue).isZero();
    assertThat(queue.err()).isEmpty();
    assertThat(waiters).extracting(Waiter::owner).containsExactly(ME, CAROL);
    assertThat(queue.out())
        .as("the tool's request joined later, and is served first for its priority")
        .isEqualTo(
            queueTable(
                waiters,
                List.of(
                    row(ME, "1 smithi", "\"urgent fix\""), row(CAROL, "2 smithi", "\"None\""))));
    assertThat(queue.out().lines().toList().get(1)).startsWith("  1        10  ");
    assertThat(queue.out().lines().toList().get(2)).startsWith("  2      1000  ");
    assertThat(lab.run("--queue", "-m", "smithi").out()).isEqualTo(queue.out());
    assertThat(lab.run("--queue", "-m", "mira").err())
        .isEqualTo("no request is waiting for mira machines\n");

    lab.pool.unlock(name("smithi001"), BOB);
    Lab.Result served = urgent.get(10, TimeUnit.SECONDS);
    assertThat(served.status()).as("%s", served).isZero();
    assertThat(served.out()).isEqualTo("targets:\n  " + name("smithi001") + ": " + KEY + "\n");
    assertThat(served.err())
        .as("the progress line, without -v")
        .isEqualTo("waiting in the queue for 1 smithi (priority 10)\n");
    assertThat(lab.machine("smithi001").description()).isEqualTo("urgent fix");
    assertThat(carol).isNotDone();
    assertThat(awaitWaiters(1))
        .extracting(Waiter::position, Waiter::owner)
        .containsExactly(tuple(1, CAROL));

    lab.pool.unlock(name("smithi002"), BOB);
    lab.pool.unlock(name("smithi003"), BOB);
    assertThat(carol.get(10, TimeUnit.SECONDS).names())
        .containsExactly(name("smithi002"), name("smithi003"));
    assertThat(lab.run("--queue").err()).isEqualTo("no request is waiting for machines\n");
  }

  @Test
  void summaryIsTeuthologysTableAloneWhenNobodyWaitsAndTheQueueFollowsItWhenRequestsWait()
      throws Exception {
    bobHoldsEverySmithi();
    Lab.Result alone = lab.run("--summary");
    Lab.Result miraAlone = lab.run("--summary", "-m", "mira");
    assertThat(alone.status()).isZero();
    assertThat(alone.err()).isEmpty();
    assertThat(alone.out())
        .isEqualTo(
            "TYPE     COUNT  UP  OWNER\n"
                + "mira       1    0  (free)\n"
                + "mira       1    1  lab-admin@infra\n"
                + "smithi     3    3  bob@build9\n"
                + "vps        2    2  (free)\n"
                + "         ---  ---\n"
                + "           7    6\n");

    waitThroughTheLibrary(CAROL, "carol's suite", 2, 500);
    awaitWaiters(1);
    waitThroughTheLibrary(DAVE, null, 3, LockRequest.MAX_PRIORITY);
    List<Waiter> waiters = awaitWaiters(2);
    Lab.Result queue = lab.run("--queue");
    assertThat(queue.out())
        .isEqualTo(
            queueTable(
                waiters,
                List.of(
                    row(CAROL, "2 smithi", "\"carol's suite\""),
                    row(DAVE, "3 smithi", "\"None\""))));

    Lab.Result withQueue = lab.run("--summary");
    assertThat(withQueue.status()).isZero();
    assertThat(withQueue.err()).isEmpty();
    assertThat(withQueue.out())
        .isEqualTo(alone.out() + "\n2 requests waiting for machines:\n" + queue.out());
    assertThat(lab.run("--summary", "-m", "mira").out())
        .as("nobody waits for a mira")
        .isEqualTo(miraAlone.out());
    assertThat(lab.run("--summary", "-m", "smithi").out())
        .endsWith("           3    3\n\n2 requests waiting for machines:\n" + queue.out());
  }

  @Test
  void lockByNameWithWaitWaitsUntilTheMachineIsFreeAndSaysSo() throws Exception {
    lab.lockAs(BOB, "bob's run", "smithi002");

    Future<Lab.Result> mine =
        runInTheBackground("--lock", "--wait", "60", "--desc", "run-9", "smithi002");
    Waiter waiter = awaitWaiters(1).get(0);
    assertThat(waiter.owner()).isEqualTo(ME);
    assertThat(waiter.names()).containsExactly(name("smithi002"));
    assertThat(waiter.priority()).isEqualTo(LockRequest.DEFAULT_PRIORITY);
    assertThat(waiter.description()).isEqualTo("run-9");
    assertThat(mine).isNotDone();

    lab.pool.unlock(name("smithi002"), BOB);
    Lab.Result result = mine.get(10, TimeUnit.SECONDS);
    assertThat(result.status()).as("%s", result).isZero();
    assertThat(result.out()).isEmpty();
    assertThat(result.err())
        .isEqualTo("waiting in the queue for " + name("smithi002") + " (priority 1000)\n");
    Machine m = lab.machine("smithi002");
    assertThat(m.lockedBy()).isEqualTo(ME);
    assertThat(m.description()).isEqualTo("run-9");
  }

  @Test
  void lockManyWithWaitGivesUpWhenTheWaitIsOverAndLeavesTheQueue() {
    bobHoldsEverySmithi();
    List<Machine> before = lab.snapshot();

    Lab.Result result =
        lab.run("--lock-many", "1", "-m", "smithi", "--wait", "1", "--priority", "7");

    assertThat(result.status()).as("%s", result).isEqualTo(1);
    assertThat(result.out()).isEmpty();
    assertThat(result.errLines())
        .hasSize(2)
        .startsWith("waiting in the queue for 1 smithi (priority 7)");
    assertThat(result.errLines().get(1))
        .startsWith("machinepool: waited ")
        .contains("in the queue (place 1), then gave up: only 0 smithi machines available");
    assertThat(lab.snapshot()).isEqualTo(before);
    assertThat(lab.pool.waiters()).isEmpty();
  }

  @Test
  void priorityOfALockThatDoesNotWaitPutsItAheadOfTheWaitersOfALargerNumber() throws Exception {
    lab.lockAs(BOB, "bob's run", "smithi001", "smithi002");
    waitThroughTheLibrary(CAROL, null, 2, LockRequest.DEFAULT_PRIORITY);
    awaitWaiters(1);
    List<Machine> before = lab.snapshot();

    Lab.Result behind = lab.run("--lock-many", "1", "-m", "smithi");
    assertThat(behind.status()).as("%s", behind).isEqualTo(1);
    assertThat(behind.errLines())
        .singleElement()
        .asString()
        .contains("1 of them held back for 1 request waiting ahead of this one", CAROL);
    assertThat(lab.snapshot()).isEqualTo(before);

    Lab.Result ahead = lab.run("--lock-many", "1", "-m", "smithi", "--priority", "999");
    assertThat(ahead.status()).as("%s", ahead).isZero();
    assertThat(ahead.err()).as("it did not wait").isEmpty();
    assertThat(ahead.out()).isEqualTo("targets:\n  " + name("smithi003") + ": null\n");
    assertThat(lab.pool.waiters()).extracting(Waiter::owner).containsExactly(CAROL);
  }
}
