package io.machinepool.examples.benchmark;

import java.util.Arrays;

/**
 * The durations of one repeated call, and their order statistics in milliseconds. Percentiles are
 * nearest-rank: p90 of 200 calls is the 180th fastest.
 */
final class Latencies {
  private long[] nanos = new long[64];
  private int size;

  /**
   * Records one call.
   *
   * @param duration its duration in nanoseconds
   */
  void add(long duration) {
    if (size == nanos.length) {
      nanos = Arrays.copyOf(nanos, size * 2);
    }
    nanos[size++] = duration;
  }

  /**
   * How many calls were recorded.
   *
   * @return the count
   */
  int count() {
    return size;
  }

  /**
   * The median: the middle duration, or the mean of the two in the middle.
   *
   * @return milliseconds, or NaN when nothing was recorded
   */
  double medianMillis() {
    if (size == 0) {
      return Double.NaN;
    }
    long[] sorted = sorted();
    return (size % 2 == 1 ? sorted[size / 2] : (sorted[size / 2 - 1] + sorted[size / 2]) / 2.0)
        / 1e6;
  }

  /**
   * A percentile, nearest rank.
   *
   * @param percent 0 (exclusive) to 100
   * @return milliseconds, or NaN when nothing was recorded
   */
  double percentileMillis(double percent) {
    if (size == 0) {
      return Double.NaN;
    }
    int rank = (int) Math.ceil(percent / 100 * size);
    return sorted()[Math.max(0, Math.min(size, rank) - 1)] / 1e6;
  }

  /**
   * The longest duration.
   *
   * @return milliseconds, or NaN when nothing was recorded
   */
  double maxMillis() {
    return percentileMillis(100);
  }

  private long[] sorted() {
    long[] sorted = Arrays.copyOf(nanos, size);
    Arrays.sort(sorted);
    return sorted;
  }
}
