package io.machinepool.concurrency;

import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.LongAdder;

/** What the workers of a race did, summed over threads, and what went wrong. */
final class Tally {
  final LongAdder locksByName = new LongAdder();
  final LongAdder locksByType = new LongAdder();
  final LongAdder machinesLocked = new LongAdder();
  final LongAdder conflicts = new LongAdder();
  final LongAdder notEnough = new LongAdder();
  final LongAdder renewals = new LongAdder();
  final LongAdder leasesClosed = new LongAdder();
  final LongAdder explicitUnlocks = new LongAdder();
  private final ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();

  /** Successful locks of any kind. */
  long locks() {
    return locksByName.sum() + locksByType.sum();
  }

  void problem(String what) {
    problems.add(what);
  }

  /** Unexpected exceptions and wrong lease contents; empty when all went well. */
  List<String> problems() {
    return List.copyOf(problems);
  }

  /** One line, parsed back by {@link #parse(String)}. */
  String line() {
    return "locksByName="
        + locksByName.sum()
        + " locksByType="
        + locksByType.sum()
        + " machinesLocked="
        + machinesLocked.sum()
        + " conflicts="
        + conflicts.sum()
        + " notEnough="
        + notEnough.sum()
        + " renewals="
        + renewals.sum()
        + " leasesClosed="
        + leasesClosed.sum()
        + " explicitUnlocks="
        + explicitUnlocks.sum();
  }

  /**
   * Reads the counters of a {@link #line()}.
   *
   * @param line the line, possibly with other words around it
   * @return the tally
   */
  static Tally parse(String line) {
    Tally tally = new Tally();
    for (String word : line.trim().split("\\s+")) {
      int eq = word.indexOf('=');
      if (eq < 0) {
        continue;
      }
      long value = Long.parseLong(word.substring(eq + 1));
      LongAdder counter =
          switch (word.substring(0, eq)) {
            case "locksByName" -> tally.locksByName;
            case "locksByType" -> tally.locksByType;
            case "machinesLocked" -> tally.machinesLocked;
            case "conflicts" -> tally.conflicts;
            case "notEnough" -> tally.notEnough;
            case "renewals" -> tally.renewals;
            case "leasesClosed" -> tally.leasesClosed;
            case "explicitUnlocks" -> tally.explicitUnlocks;
            default -> null;
          };
      if (counter != null) {
        counter.add(value);
      }
    }
    return tally;
  }

  @Override
  public String toString() {
    return line();
  }
}
