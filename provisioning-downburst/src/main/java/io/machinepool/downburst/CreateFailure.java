package io.machinepool.downburst;

import java.util.List;
import java.util.Locale;

/**
 * What a failed {@code downburst create} says about itself, read from the tail of its standard
 * error: whether another attempt can succeed, and the one line that says what went wrong.
 *
 * <p>downburst reports its own errors ({@code DownburstError}) as one log line, {@code
 * ERROR:downburst.cli:downburst create: <text>}, and everything else as a Python traceback whose
 * last line is {@code <exception type>: <text>}. The classification, by the texts of downburst's
 * sources (DEVELOPERS.md, Downburst), in this order (a timeout is transient whatever standard error
 * says):
 *
 * <ul>
 *   <li>{@link Kind#PERMANENT}: the same run would fail the same way, so it is not retried: a bare
 *       {@code AssertionError} (downburst's emulator lookup knows x86 only, so another architecture
 *       fails this way), a missing cloud image ({@code Image ... not found on server}, {@code
 *       SHA-256 checksums not found}, {@code Unable to find checksum file}, an HTTP 404), meta-data
 *       downburst cannot use ({@code yaml.} errors, a {@code KeyError}, {@code dictionary update
 *       sequence}), a file that does not exist ({@code FileNotFoundError}), a usage error of the
 *       command line ({@code usage: downburst}, exit code 2), a URI libvirt cannot use ({@code no
 *       connection driver available}), a refused login to the VM host ({@code Permission denied},
 *       {@code authentication failed}). All but the usage error are read from the last error line
 *       only, and each of them wins over an {@code exists} elsewhere in standard error: a traceback
 *       quotes source lines such as {@code if not os.path.exists(path):} above the line that says
 *       what failed.
 *   <li>{@link Kind#EXISTS}: otherwise, when any line of standard error says {@code exists}, as
 *       teuthology looks for it (also a line dropped from the tail): the VM or one of its volumes
 *       is left from an earlier run ({@code Virtual machine with this name exists already},
 *       libvirt's {@code storage volume ... exists already}): destroy it, then create again.
 *   <li>{@link Kind#TRANSIENT}: everything else (a timeout, a dropped libvirt connection, a network
 *       error while downloading, a corrupt download, a VM that never came up): it may succeed the
 *       next time.
 * </ul>
 *
 * @param kind whether another attempt can succeed
 * @param summary the tool's last error line, or what happened when it printed none
 * @param why for a permanent failure, why it is not retried; empty otherwise
 */
record CreateFailure(Kind kind, String summary, String why) {

  /** Whether another create attempt can succeed. */
  enum Kind {
    /** The VM or a volume exists already: destroy, then create again. */
    EXISTS,
    /** Would fail the same way again: fail at once. */
    PERMANENT,
    /** May succeed the next time: retry after a pause. */
    TRANSIENT
  }

  /** The marker of {@link Kind#EXISTS}, as teuthology looks for it. */
  static final String EXISTS_MARKER = "exists";

  private static final String CLI_ERROR = "ERROR:downburst.cli:";

  private static final String NO_IMAGE = "the cloud image does not exist";
  private static final String BAD_META = "downburst cannot use the meta-data";

  /**
   * Fragments of the last error line (lower case) of a permanent failure, and why it is not
   * retried; a fragment ending in {@code .} or {@code :} must start the line (an exception type).
   */
  private static final List<String[]> PERMANENT =
      List.of(
          new String[] {"not found on server", NO_IMAGE},
          new String[] {"checksums not found", NO_IMAGE},
          new String[] {"unable to find checksum file", NO_IMAGE},
          new String[] {"404 client error", NO_IMAGE},
          new String[] {"yaml.", BAD_META},
          new String[] {"keyerror:", BAD_META},
          new String[] {"dictionary update sequence", BAD_META},
          new String[] {"filenotfounderror:", "a file downburst was given does not exist"},
          new String[] {"no connection driver available", "libvirt cannot use the VM host's URI"},
          new String[] {"permission denied", "the VM host refused the login"},
          new String[] {"authentication failed", "the VM host refused the login"});

  /**
   * Classifies a failed run.
   *
   * @param stderrTail the tail of its standard error
   * @param timedOut whether it was killed after its timeout
   * @param exitCode its exit code, when it exited
   * @param sawExists whether any line of its standard error (also one dropped from the tail) said
   *     {@code exists}; a permanent last error line wins over it
   * @return the classification
   */
  static CreateFailure of(String stderrTail, boolean timedOut, int exitCode, boolean sawExists) {
    String summary = lastErrorLine(stderrTail);
    if (timedOut) {
      return new CreateFailure(Kind.TRANSIENT, summary, "");
    }
    // The permanent classes first: "exists" elsewhere in stderr may be a source line of the
    // traceback (e.g. "if not os.path.exists(path):"), while the last line is what failed.
    String why = whyPermanent(summary, stderrTail, exitCode);
    if (why != null) {
      return new CreateFailure(Kind.PERMANENT, summary, why);
    }
    if (sawExists) {
      return new CreateFailure(Kind.EXISTS, summary, "");
    }
    return new CreateFailure(Kind.TRANSIENT, summary, "");
  }

  /** Why a failure is permanent, from its last error line or argparse's usage error; or null. */
  private static String whyPermanent(String summary, String stderrTail, int exitCode) {
    String lastLine = summary.toLowerCase(Locale.ROOT);
    if (lastLine.startsWith("assertionerror")) {
      return "an assertion in downburst failed, which is how it refuses an architecture other than"
          + " x86_64, amd64 or i686";
    }
    for (String[] permanent : PERMANENT) {
      String fragment = permanent[0];
      boolean prefix = fragment.endsWith(".") || fragment.endsWith(":");
      if (prefix ? lastLine.startsWith(fragment) : lastLine.contains(fragment)) {
        return permanent[1];
      }
    }
    String text = stderrTail.toLowerCase(Locale.ROOT);
    if (text.contains("usage: downburst") || (exitCode == 2 && text.contains("error:"))) {
      return "downburst refused its command line";
    }
    return null;
  }

  /** Whether another attempt may succeed. */
  boolean retryable() {
    return kind != Kind.PERMANENT;
  }

  /**
   * The one line of a tool's standard error that says what went wrong: its last line that is
   * neither blank nor a DEBUG or INFO log line, without downburst's {@code ERROR:downburst.cli:}
   * prefix.
   *
   * @param stderr the tail of standard error
   * @return the line, stripped; empty when there is none
   */
  static String lastErrorLine(String stderr) {
    String[] lines = stderr.split("\n");
    String fallback = "";
    for (int i = lines.length - 1; i >= 0; i--) {
      String line = lines[i].strip();
      if (line.isEmpty()) {
        continue;
      }
      if (fallback.isEmpty()) {
        fallback = line;
      }
      if (line.startsWith("DEBUG:") || line.startsWith("INFO:")) {
        continue;
      }
      return line.startsWith(CLI_ERROR) ? line.substring(CLI_ERROR.length()).strip() : line;
    }
    return fallback;
  }
}
