package io.machinepool.examples.cli;

import io.machinepool.Waiter;
import java.util.List;
import java.util.function.Function;

/**
 * The queue of lock requests waiting for machines as the tool prints it: {@code --queue} prints the
 * table, {@code --summary} appends it under a count. A header, then one line per request in the
 * order the requests will be served, as {@code teuthology-queue} lists its jobs with their
 * priorities; each column is padded to its widest value, two spaces apart:
 *
 * <pre>
 * POS  PRIORITY  WAITING SINCE (UTC)         OWNER         ASKS FOR  DESCRIPTION
 *   1       100  2026-12-01 16:59:37.629266  bob@build9    1 smithi  "urgent"
 *   2      1000  2026-12-01 16:58:02.004512  alice@build7  2 smithi  "None"
 * </pre>
 *
 * {@code POS} is the place in the whole queue, so a list narrowed by machine type may skip numbers;
 * the time is when the request joined, in UTC as {@code --list} writes {@code locked_since}; the
 * description is quoted, {@code "None"} when there is none, as {@code --brief} writes it.
 */
final class QueueTable {
  private static final List<Column> COLUMNS =
      List.of(
          new Column("POS", true, w -> Integer.toString(w.position())),
          new Column("PRIORITY", true, w -> Integer.toString(w.priority())),
          new Column("WAITING SINCE (UTC)", false, w -> Listing.lockedSince(w.since())),
          new Column("OWNER", false, Waiter::owner),
          new Column("ASKS FOR", false, Waiter::asks),
          new Column(
              "DESCRIPTION",
              false,
              w -> "\"" + (w.description() == null ? "None" : w.description()) + "\""));

  private QueueTable() {}

  /** One column: its header, its alignment, and its value for a request. */
  private record Column(String header, boolean right, Function<Waiter, String> value) {
    String cell(String text, int width, boolean last) {
      if (last || text.length() >= width) {
        return text;
      }
      String padding = " ".repeat(width - text.length());
      return right ? padding + text : text + padding;
    }
  }

  /**
   * The {@code --queue} table.
   *
   * @param waiters the waiting requests, the first to be served first; not empty
   * @return the header and one line per request, each ending in a newline
   */
  static String format(List<Waiter> waiters) {
    int[] widths = new int[COLUMNS.size()];
    for (int c = 0; c < widths.length; c++) {
      Column column = COLUMNS.get(c);
      widths[c] =
          Math.max(
              column.header().length(),
              waiters.stream().mapToInt(w -> column.value().apply(w).length()).max().orElse(0));
    }
    StringBuilder table = new StringBuilder();
    line(table, widths, COLUMNS.stream().map(Column::header).toList());
    for (Waiter waiter : waiters) {
      line(table, widths, COLUMNS.stream().map(c -> c.value().apply(waiter)).toList());
    }
    return table.toString();
  }

  private static void line(StringBuilder table, int[] widths, List<String> cells) {
    for (int c = 0; c < cells.size(); c++) {
      boolean last = c + 1 == cells.size();
      table.append(COLUMNS.get(c).cell(cells.get(c), widths[c], last)).append(last ? "\n" : "  ");
    }
  }

  /**
   * What {@code --summary} appends to its table when requests wait: an empty line, the number of
   * requests, and the {@link #format(List) --queue table}.
   *
   * @param waiters the waiting requests, the first to be served first; not empty
   * @return the section, each line ending in a newline
   */
  static String section(List<Waiter> waiters) {
    return "\n"
        + waiters.size()
        + (waiters.size() == 1 ? " request" : " requests")
        + " waiting for machines:\n"
        + format(waiters);
  }
}
