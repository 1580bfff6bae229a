package io.machinepool.downburst;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/** Text helpers: command lines for messages, short host names, durations for people. */
final class CommandLine {
  private static final Pattern PLAIN = Pattern.compile("[A-Za-z0-9_@%+=:,./-]+");
  private static final Pattern SHORT_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]*");

  private CommandLine() {}

  /**
   * Renders an argument list the way a person would type it, single-quoting arguments that need it.
   * For messages and logs only: the list itself is what runs, never this text.
   *
   * @param command the arguments
   * @return e.g. {@code downburst -v -c mira001 destroy vpm011}
   */
  static String render(List<String> command) {
    return command.stream()
        .map(arg -> PLAIN.matcher(arg).matches() ? arg : "'" + arg.replace("'", "'\\''") + "'")
        .collect(Collectors.joining(" "));
  }

  /**
   * The short name of a host, as teuthology's {@code decanonicalize_hostname} gives it for a lab
   * domain: a {@code user@} prefix dropped, everything from the first dot on dropped.
   *
   * @param name e.g. {@code ubuntu@vpm011.front.sepia.ceph.com}
   * @return e.g. {@code vpm011}
   * @throws IllegalArgumentException when the short name is empty or could be taken for an option
   */
  static String shortName(String name) {
    String bare = name.substring(name.indexOf('@') + 1);
    int dot = bare.indexOf('.');
    String result = dot < 0 ? bare : bare.substring(0, dot);
    if (!SHORT_NAME.matcher(result).matches()) {
      throw new IllegalArgumentException(
          "'"
              + name
              + "' has no usable short name (the part before the first dot must start with a"
              + " letter or digit and hold only letters, digits, '-' and '_')");
    }
    return result;
  }

  /**
   * A duration for messages: whole seconds as {@code 2 s}, others with milliseconds, {@code 0.5 s}.
   *
   * @param duration the duration
   * @return the text
   */
  static String seconds(Duration duration) {
    long millis = duration.toMillis();
    if (millis % 1000 == 0) {
      return (millis / 1000) + " s";
    }
    return BigDecimal.valueOf(millis, 3).stripTrailingZeros().toPlainString() + " s";
  }
}
