package io.machinepool.concurrency;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/** A {@link Ledger} for the threads of one JVM: one {@code putIfAbsent} per claim. */
final class MemoryLedger implements Ledger {
  private final ConcurrentHashMap<String, String> holders = new ConcurrentHashMap<>();
  private final ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();

  @Override
  public void claim(String machine, String holder) {
    String other = holders.putIfAbsent(machine, holder);
    if (other != null) {
      violations.add(machine + " was locked by " + holder + " while " + other + " still held it");
    }
  }

  @Override
  public void release(String machine, String holder) {
    if (!holders.remove(machine, holder)) {
      violations.add(
          holder + " released " + machine + " but the ledger says " + holders.get(machine));
    }
  }

  @Override
  public List<String> violations() {
    return List.copyOf(violations);
  }

  /**
   * The claims still open.
   *
   * @return machine to holder
   */
  Map<String, String> held() {
    return Map.copyOf(holders);
  }
}
