package io.machinepool;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Counts of the inventory by machine type and owner, as {@code teuthology-lock --summary} shows
 * them, and the requests waiting for machines. Only the library creates summaries; two are equal
 * when their entries and waiters are.
 */
public final class Summary {
  private final List<Entry> entries;
  private final List<Waiter> waiters;

  /** Keeps copies of the lists. */
  Summary(List<Entry> entries, List<Waiter> waiters) {
    this.entries = List.copyOf(entries);
    this.waiters = List.copyOf(waiters);
  }

  /**
   * The entries of the summary.
   *
   * @return one entry per machine type and owner (free machines have a {@code null} owner), sorted
   *     by type and owner
   */
  public List<Entry> entries() {
    return entries;
  }

  /**
   * The requests waiting for machines.
   *
   * @return the queue of requests waiting for machines, the first to be served first
   */
  public List<Waiter> waiters() {
    return waiters;
  }

  /** The machines of one type held by one owner (or free). Only the library creates entries. */
  public static final class Entry {
    private final String machineType;
    private final String owner;
    private final int count;
    private final int up;

    /** Keeps the fields. */
    Entry(String machineType, String owner, int count, int up) {
      this.machineType = machineType;
      this.owner = owner;
      this.count = count;
      this.up = up;
    }

    /**
     * The machine type.
     *
     * @return the type
     */
    public String machineType() {
      return machineType;
    }

    /**
     * Who holds the machines.
     *
     * @return the owner, or {@code null} for free machines
     */
    public String owner() {
      return owner;
    }

    /**
     * How many machines.
     *
     * @return the count
     */
    public int count() {
      return count;
    }

    /**
     * How many of the machines are up.
     *
     * @return the count
     */
    public int up() {
      return up;
    }

    /**
     * Whether the other object is an entry with equal fields.
     *
     * @param other the object to compare with
     * @return {@code true} when every field is equal
     */
    @Override
    public boolean equals(Object other) {
      return other instanceof Entry that
          && count == that.count
          && up == that.up
          && Objects.equals(machineType, that.machineType)
          && Objects.equals(owner, that.owner);
    }

    @Override
    public int hashCode() {
      return Objects.hash(machineType, owner, count, up);
    }

    /**
     * Every field, in the form a record prints.
     *
     * @return e.g. {@code Entry[machineType=smithi, owner=null, count=3, up=2]}
     */
    @Override
    public String toString() {
      return "Entry[machineType="
          + machineType
          + ", owner="
          + owner
          + ", count="
          + count
          + ", up="
          + up
          + "]";
    }
  }

  /** Totals of one machine type, computed by {@link Summary#byType()}. */
  public static final class TypeTotals {
    private final String machineType;
    private final int total;
    private final int up;
    private final int locked;
    private final int free;

    /** Keeps the fields. */
    TypeTotals(String machineType, int total, int up, int locked, int free) {
      this.machineType = machineType;
      this.total = total;
      this.up = up;
      this.locked = locked;
      this.free = free;
    }

    /**
     * The machine type.
     *
     * @return the type
     */
    public String machineType() {
      return machineType;
    }

    /**
     * Machines of the type.
     *
     * @return how many
     */
    public int total() {
      return total;
    }

    /**
     * Machines of the type that are up.
     *
     * @return how many
     */
    public int up() {
      return up;
    }

    /**
     * Machines of the type that are locked.
     *
     * @return how many
     */
    public int locked() {
      return locked;
    }

    /**
     * Machines of the type that are up and not locked: what a lock request can get.
     *
     * @return how many
     */
    public int free() {
      return free;
    }

    /**
     * Whether the other object is a total with equal fields.
     *
     * @param other the object to compare with
     * @return {@code true} when every field is equal
     */
    @Override
    public boolean equals(Object other) {
      return other instanceof TypeTotals that
          && total == that.total
          && up == that.up
          && locked == that.locked
          && free == that.free
          && Objects.equals(machineType, that.machineType);
    }

    @Override
    public int hashCode() {
      return Objects.hash(machineType, total, up, locked, free);
    }

    /**
     * Every field, in the form a record prints.
     *
     * @return e.g. {@code TypeTotals[machineType=smithi, total=7, up=6, locked=2, free=4]}
     */
    @Override
    public String toString() {
      return "TypeTotals[machineType="
          + machineType
          + ", total="
          + total
          + ", up="
          + up
          + ", locked="
          + locked
          + ", free="
          + free
          + "]";
    }
  }

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

  /**
   * Whether the other object is a summary with equal entries and waiters.
   *
   * @param other the object to compare with
   * @return {@code true} when both lists are equal
   */
  @Override
  public boolean equals(Object other) {
    return other instanceof Summary that
        && entries.equals(that.entries)
        && waiters.equals(that.waiters);
  }

  @Override
  public int hashCode() {
    return Objects.hash(entries, waiters);
  }

  /**
   * Both lists, in the form a record prints.
   *
   * @return e.g. {@code Summary[entries=[...], waiters=[]]}
   */
  @Override
  public String toString() {
    return "Summary[entries=" + entries + ", waiters=" + waiters + "]";
  }
}
