package io.machinepool.downburst;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Drains one output stream of a child process and keeps only its tail: at most {@code maxLines}
 * lines and about {@code maxBytes} bytes, however much the process writes. While draining it also
 * notes which of some marker strings occurred in any line (compared without regard to case), so
 * that a marker early in a long output is not lost with the lines that are dropped.
 *
 * <p>A line longer than half of {@code maxBytes} is cut to that length, so that it leaves room for
 * the lines after it. Bytes are decoded as UTF-8, malformed input replaced. Thread-safe: one thread
 * drains, others read the result once the drain is over (or while it is still going, for a partial
 * view).
 */
final class OutputTail {
  private static final int CHUNK = 8192;

  private final int maxLines;
  private final int maxBytes;
  private final List<String> markers;
  private final Consumer<String> lineListener;

  private final Deque<String> lines = new ArrayDeque<>();
  private final Set<String> seen = new HashSet<>();
  private final ByteArrayOutputStream current = new ByteArrayOutputStream();
  private int bytesHeld;
  private boolean currentTruncated;
  private long totalBytes;
  private long droppedLines;

  /**
   * Creates an empty tail.
   *
   * @param maxLines how many of the last lines to keep, at least 1
   * @param maxBytes about how many bytes of those lines to keep, at least 1
   * @param markers strings to watch for in every line
   * @param lineListener gets every complete line as it arrives (e.g. to log it), may be {@code
   *     null}
   */
  OutputTail(
      int maxLines, int maxBytes, Collection<String> markers, Consumer<String> lineListener) {
    if (maxLines < 1 || maxBytes < 1) {
      throw new IllegalArgumentException("maxLines and maxBytes must be at least 1");
    }
    this.maxLines = maxLines;
    this.maxBytes = maxBytes;
    this.markers = markers.stream().map(m -> m.toLowerCase(Locale.ROOT)).toList();
    this.lineListener = lineListener;
  }

  /**
   * Reads the stream to its end, keeping the tail. Returns when the stream ends or fails; a failure
   * ends the drain quietly, since the process's exit code tells what happened.
   *
   * @param in the stream; not closed
   */
  void drain(InputStream in) {
    byte[] buffer = new byte[CHUNK];
    try {
      int n;
      while ((n = in.read(buffer)) >= 0) {
        accept(buffer, n);
      }
    } catch (IOException e) {
      // the stream was closed under us (process killed): what was read so far is the tail
    } finally {
      finish();
    }
  }

  private synchronized void accept(byte[] buffer, int length) {
    totalBytes += length;
    int start = 0;
    for (int i = 0; i < length; i++) {
      if (buffer[i] == '\n') {
        append(buffer, start, i - start);
        endLine();
        start = i + 1;
      }
    }
    append(buffer, start, length - start);
  }

  private void append(byte[] buffer, int offset, int length) {
    int room = Math.max(1, maxBytes / 2) - current.size();
    if (length > room) {
      currentTruncated = true;
      length = Math.max(0, room);
    }
    current.write(buffer, offset, length);
  }

  private synchronized void finish() {
    if (current.size() > 0 || currentTruncated) {
      endLine();
    }
  }

  private void endLine() {
    String line = current.toString(StandardCharsets.UTF_8);
    if (line.endsWith("\r")) {
      line = line.substring(0, line.length() - 1);
    }
    if (currentTruncated) {
      line = line + " [line cut]";
    }
    current.reset();
    currentTruncated = false;
    String lower = line.toLowerCase(Locale.ROOT);
    for (String marker : markers) {
      if (lower.contains(marker)) {
        seen.add(marker);
      }
    }
    if (lineListener != null) {
      lineListener.accept(line);
    }
    lines.addLast(line);
    bytesHeld += line.length() + 1;
    while (lines.size() > maxLines || (bytesHeld > maxBytes && lines.size() > 1)) {
      bytesHeld -= lines.removeFirst().length() + 1;
      droppedLines++;
    }
  }

  /**
   * Whether a marker occurred in any line read so far.
   *
   * @param marker one of the markers given to the constructor
   * @return {@code true} when some line contained it
   */
  synchronized boolean saw(String marker) {
    return seen.contains(marker.toLowerCase(Locale.ROOT));
  }

  /**
   * The kept lines, joined with newlines, without a trailing newline.
   *
   * @return the tail, empty when nothing was written
   */
  synchronized String text() {
    return String.join("\n", lines);
  }

  /**
   * How many bytes the stream delivered in all.
   *
   * @return the byte count
   */
  synchronized long totalBytes() {
    return totalBytes;
  }

  /**
   * How many lines were dropped from the front to keep the bounds.
   *
   * @return the count
   */
  synchronized long droppedLines() {
    return droppedLines;
  }
}
