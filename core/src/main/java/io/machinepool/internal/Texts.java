package io.machinepool.internal;

import java.util.Collection;

/**
 * Text rules shared by the API and the internals: short forms of input for messages, and the
 * characters no stored or compared text may hold. Not API.
 */
public final class Texts {
  /** The most characters of one value a message echoes. */
  public static final int ECHO = 80;

  /** The most values of a list a message names. */
  public static final int LISTED = 5;

  private Texts() {}

  /**
   * A value as a message shows it: control characters and unpaired surrogates as Java escapes (a
   * backslash, {@code u} and four hex digits), at most {@link #ECHO} characters, cut with {@code
   * ...} and never inside a surrogate pair.
   *
   * @param value the value
   * @return the value or its start
   */
  public static String echo(String value) {
    if (value == null) {
      return null;
    }
    if (value.length() <= ECHO && firstForbidden(value, false) < 0) {
      return value; // nothing to escape or cut: what a lock's message names every time
    }
    return abbreviate(replaceForbidden(value, false, ECHO + 1, true), ECHO);
  }

  /**
   * A text cut to at most {@code max} characters, ending with {@code ...} when it was cut, and
   * never inside a surrogate pair.
   *
   * @param value the text
   * @param max the most characters, at least 4
   * @return the text or its start
   */
  public static String abbreviate(String value, int max) {
    if (value == null || value.length() <= max) {
      return value;
    }
    return cut(value, max - 3) + "...";
  }

  /**
   * Values as a message lists them: the first {@link #LISTED}, each abbreviated, then how many more
   * there are, e.g. {@code a, b, c, d, e and 995 more}.
   *
   * @param values the values
   * @return the list
   */
  public static String list(Collection<String> values) {
    // A loop rather than a stream: every lock names its machines this way.
    StringBuilder listed = new StringBuilder();
    int shown = 0;
    for (String value : values) {
      if (shown == LISTED) {
        break;
      }
      if (shown > 0) {
        listed.append(", ");
      }
      listed.append(echo(value));
      shown++;
    }
    int more = values.size() - shown;
    return more > 0 ? listed + " and " + more + " more" : listed.toString();
  }

  /**
   * The index of the first character no stored text may hold, or -1: an unpaired UTF-16 surrogate
   * (it has no UTF-8 form, and drivers store it as {@code ?} or refuse it), and a control character
   * other than tab, line feed and carriage return when {@code lineBreaks} allows those ({@code
   * U+0000}-{@code U+001F}, {@code U+007F}-{@code U+009F}).
   *
   * @param value the text
   * @param lineBreaks whether tab, line feed and carriage return are allowed
   * @return the index of the first such character, or -1
   */
  public static int firstForbidden(String value, boolean lineBreaks) {
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (Character.isHighSurrogate(c)
          && i + 1 < value.length()
          && Character.isLowSurrogate(value.charAt(i + 1))) {
        i++;
      } else if (forbidden(c, lineBreaks)) {
        return i;
      }
    }
    return -1;
  }

  /**
   * Makes text the library writes itself (a failure as a machine's description) storable: every
   * character {@link #firstForbidden(String, boolean)} refuses, line breaks allowed, becomes {@code
   * U+FFFD}, and the text is cut to at most {@code max} characters, never inside a surrogate pair.
   *
   * @param text the text
   * @param max the most characters
   * @return the storable text
   */
  public static String storable(String text, int max) {
    return cut(replaceForbidden(text, true, max, false), max);
  }

  /**
   * Replaces what {@link #firstForbidden} refuses by an escape or {@code U+FFFD}; stops once the
   * result has more than {@code enough} characters.
   */
  private static String replaceForbidden(
      String value, boolean lineBreaks, int enough, boolean escape) {
    StringBuilder out = new StringBuilder(Math.min(value.length(), enough + 8));
    for (int i = 0; i < value.length() && out.length() <= enough; i++) {
      char c = value.charAt(i);
      if (Character.isHighSurrogate(c)
          && i + 1 < value.length()
          && Character.isLowSurrogate(value.charAt(i + 1))) {
        out.append(c).append(value.charAt(++i));
      } else if (forbidden(c, lineBreaks)) {
        out.append(escape ? String.format("\\u%04X", (int) c) : "\uFFFD");
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }

  private static boolean forbidden(char c, boolean lineBreaks) {
    return Character.isSurrogate(c)
        || (Character.isISOControl(c) && !(lineBreaks && (c == '\t' || c == '\n' || c == '\r')));
  }

  /**
   * How a message names a character: {@code U+0000}.
   *
   * @param c the character
   * @return its code, e.g. {@code U+001B}
   */
  public static String code(char c) {
    return String.format("U+%04X", (int) c);
  }

  private static String cut(String value, int max) {
    if (value.length() <= max) {
      return value;
    }
    int end = Character.isHighSurrogate(value.charAt(max - 1)) ? max - 1 : max;
    return value.substring(0, end);
  }
}
