package io.machinepool.testing;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.opentest4j.TestAbortedException;

/**
 * Keeps the log lines a test provokes on purpose out of the build's output, and lets the test
 * assert on them.
 *
 * <p>slf4j-simple writes each line to {@code System.err} as it is at that moment, so for the
 * duration of each test this extension puts a buffer in its place (whichever thread logs). After
 * the test it restores {@code System.err} and writes back to it:
 *
 * <ul>
 *   <li>everything, when the test failed, so that its log is there to read;
 *   <li>otherwise every record that no {@link #expect(String, String)} of the test matched, so that
 *       a warning nobody asked for still shows.
 * </ul>
 *
 * <p>A record is one log line with the lines that follow it up to the next log line (a message with
 * line breaks, a stack trace). Register it as an instance field:
 *
 * <pre>{@code
 * @RegisterExtension final LogCapture log = new LogCapture();
 * }</pre>
 *
 * or with the expectations every test of the class shares: {@code new LogCapture().expect(...)}. An
 * instance field is new for each test, so what one test expects does not carry over to the next.
 * Tests of one JVM must run one at a time (the build runs them so).
 */
public final class LogCapture implements BeforeEachCallback, AfterEachCallback {
  /** slf4j-simple's line: {@code [thread] LEVEL logger - message}. */
  private static final Pattern HEADER =
      Pattern.compile("^\\[[^\\]]*\\] (TRACE|DEBUG|INFO|WARN|ERROR) (\\S+) - (.*)$");

  /** One log line and its continuation lines. */
  public record Entry(String level, String logger, String text) {
    /** Whether this record is from the logger and contains the fragment. */
    boolean matches(String wantedLogger, String fragment) {
      return logger.equals(wantedLogger) && text.contains(fragment);
    }
  }

  private final List<String[]> expected = new CopyOnWriteArrayList<>();
  private PrintStream original;
  private ByteArrayOutputStream buffer;

  @Override
  public void beforeEach(ExtensionContext context) {
    buffer = new ByteArrayOutputStream();
    original = System.err;
    System.setErr(new PrintStream(buffer, true, StandardCharsets.UTF_8));
  }

  @Override
  public void afterEach(ExtensionContext context) {
    System.err.flush();
    System.setErr(original);
    boolean failed =
        context
            .getExecutionException()
            .filter(e -> !(e instanceof TestAbortedException))
            .isPresent();
    StringBuilder replay = new StringBuilder();
    for (Entry entry : entries()) {
      if (failed || expected.stream().noneMatch(e -> entry.matches(e[0], e[1]))) {
        replay.append(entry.text()).append('\n');
      }
    }
    if (!replay.isEmpty()) {
      original.print(replay);
      original.flush();
    }
  }

  /**
   * Declares that the test provokes records of this logger containing this fragment: they are kept
   * out of the build's output when the test passes. The record need not come (see {@link
   * #entries(String, String)} to assert that it did).
   */
  public LogCapture expect(String logger, String fragment) {
    expected.add(
        new String[] {
          Objects.requireNonNull(logger, "logger"), Objects.requireNonNull(fragment, "fragment")
        });
    return this;
  }

  /** The records of this logger containing this fragment, logged so far in this test. */
  public List<Entry> entries(String logger, String fragment) {
    return entries().stream().filter(e -> e.matches(logger, fragment)).toList();
  }

  /** Every record logged so far in this test. */
  public List<Entry> entries() {
    String text = buffer == null ? "" : new String(buffer.toByteArray(), StandardCharsets.UTF_8);
    List<Entry> entries = new ArrayList<>();
    String level = "";
    String logger = "";
    StringBuilder current = null;
    for (String line : text.lines().toList()) {
      Matcher header = HEADER.matcher(line);
      if (header.matches() || current == null) {
        if (current != null) {
          entries.add(new Entry(level, logger, current.toString()));
        }
        level = header.matches() ? header.group(1) : "";
        logger = header.matches() ? header.group(2) : "";
        current = new StringBuilder(line);
      } else {
        current.append('\n').append(line);
      }
    }
    if (current != null) {
      entries.add(new Entry(level, logger, current.toString()));
    }
    return entries;
  }
}
