package io.machinepool.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Figures that tests measure on the way (how long a bounded call took, how early a holder was
 * told), appended to {@code target/figures.tsv} of the module instead of printed, so that a green
 * build stays quiet and the figures can still be read after a run.
 */
public final class Figures {
  private static final Path FILE = Path.of("target", "figures.tsv");

  private Figures() {}

  /**
   * Records one figure.
   *
   * @param test which test measured it
   * @param what what it is, with its unit
   * @param value the figure
   */
  public static synchronized void record(String test, String what, long value) {
    try {
      Files.createDirectories(FILE.getParent());
      Files.writeString(
          FILE,
          test + "\t" + what + "\t" + value + "\n",
          StandardCharsets.UTF_8,
          StandardOpenOption.CREATE,
          StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot record a figure in " + FILE.toAbsolutePath(), e);
    }
  }
}
