package io.machinepool;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Counts of the inventory by machine type and owner, as {@code teuthology-lock --summary} shows
 * them, and the requests waiting for machines.
 *
 * @param entries one entry per machine type and owner (free machines have a {@code null} owner),
 *     sorted by type and owner
 * @param waiters the queue of requests waiting for machines, the first to be served first
 */
public record Summary(List<Summary.Entry> entries, List<Waiter> waiters) {

  /** Copies the lists. */
  public Summary {
    entries = List.copyOf(entries);
    waiters = List.copyOf(waiters);
  }

  /**
   * A summary of the inventory alone, with nobody waiting.
   *
   * @param entries one entry per machine type and owner
   */
  public Summary(List<Summary.Entry> entries) {
    this(entries, List.of());
  }

  /**
   * The machines of one type held by one owner (or free).
   *
   * @param machineType the type
   * @param owner who holds them, or {@code null} for free machines
   * @param count how many machines
   * @param up how many of them are up
   */
  public record Entry(String machineType, String owner, int count, int up) {}

  /**
   * Totals of one machine type.
   *
   * @param machineType the type
   * @param total machines of the type
   * @param up machines that are up
   * @param locked machines that are locked
   * @param free machines that are up and not locked: what a lock request can get
   */
  public record TypeTotals(String machineType, int total, int up, int locked, int free) {}

  /**
   * The totals per machine type, sorted by type. Needs the free up-count, which entries carry.
   *
   * @return one row per type
   */
  public List<TypeTotals> byType() {
    Map<String, int[]> totals = new TreeMap<>();
    for (Entry entry : entries) {
      int[] t = totals.computeIfAbsent(entry.machineType(), k -> new int[4]);
      t[0] += entry.count();
      t[1] += entry.up();
      if (entry.owner() != null) {
        t[2] += entry.count();
      } else {
        t[3] += entry.up();
      }
    }
    return totals.entrySet().stream()
        .map(
            e ->
                new TypeTotals(
                    e.getKey(), e.getValue()[0], e.getValue()[1], e.getValue()[2], e.getValue()[3]))
        .toList();
  }

  /**
   * The totals of one machine type.
   *
   * @param machineType the type
   * @return its totals, all zero for an unknown type
   */
  public TypeTotals of(String machineType) {
    return byType().stream()
        .filter(t -> t.machineType().equals(machineType))
        .findFirst()
        .orElse(new TypeTotals(machineType, 0, 0, 0, 0));
  }

  /**
   * Total number of machines.
   *
   * @return the count
   */
  public int total() {
    return entries.stream().mapToInt(Entry::count).sum();
  }
}
