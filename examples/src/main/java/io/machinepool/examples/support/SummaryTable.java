package io.machinepool.examples.support;

import io.machinepool.Summary;
import java.util.Comparator;
import java.util.List;

/**
 * Renders a {@link Summary} the way {@code teuthology-lock --summary} prints it: one line per
 * machine type and owner ({@code (free)} for free machines), sorted by type and then count, and the
 * totals of machines and of machines that are up.
 *
 * <pre>
 * TYPE     COUNT  UP  OWNER
 * mira       1    1  (free)
 * mira       1    1  bob@build9
 *          ---  ---
 *            2    2
 * </pre>
 */
public final class SummaryTable {
  /** The header line, as teuthology prints it. */
  public static final String HEADER = "TYPE     COUNT  UP  OWNER";

  /** What teuthology shows in the owner column for free machines. */
  public static final String FREE = "(free)";

  private SummaryTable() {}

  /**
   * Formats a summary.
   *
   * @param summary the pool's summary
   * @return the table, one line per entry and two lines of totals, each ending in a newline
   */
  public static String format(Summary summary) {
    return format(summary.entries());
  }

  /**
   * Formats the entries of a summary, e.g. those of some machine types only.
   *
   * @param entries entries of the pool's summary
   * @return the table, one line per entry and two lines of totals, each ending in a newline
   */
  public static String format(List<Summary.Entry> entries) {
    List<Summary.Entry> sorted =
        entries.stream()
            .sorted(
                Comparator.comparing(Summary.Entry::machineType)
                    .thenComparingInt(Summary.Entry::count)
                    .thenComparing(e -> e.owner() == null ? FREE : e.owner()))
            .toList();
    StringBuilder table = new StringBuilder(HEADER).append('\n');
    int total = 0;
    int up = 0;
    for (Summary.Entry entry : sorted) {
      table.append(
          String.format(
              "%-8s %3d  %3d  %s\n",
              entry.machineType(),
              entry.count(),
              entry.up(),
              entry.owner() == null ? FREE : entry.owner()));
      total += entry.count();
      up += entry.up();
    }
    table.append("         ---  ---\n");
    table.append(String.format("%12d  %3d\n", total, up));
    return table.toString();
  }
}
