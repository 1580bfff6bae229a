package io.machinepool;

import io.machinepool.internal.Texts;
import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The input rules of the API (names, owners, descriptions, counts, durations), in one place, each
 * failing with an {@link InvalidRequestException}.
 */
final class Checks {
  static final int MAX_NAME = 255;
  static final int MAX_OWNER = 255;
  static final int MAX_DESCRIPTION = 4000;
  static final int MAX_TYPE = 64;
  static final int MAX_OS_FIELD = 64;

  /**
   * The most machines one request may name or count, and one query may name: every one is a bound
   * parameter of one statement, and databases cap those (PostgreSQL at 65,535).
   */
  static final int MAX_MACHINES = 1000;

  /**
   * The longest duration any setting takes. Durations become milliseconds, nanoseconds and lease
   * expiries in database timestamps, whose ranges end: no value near those limits means anything,
   * and this one leaves room for every sum the library makes.
   */
  static final Duration MAX_DURATION = Duration.ofDays(7);

  /**
   * The longest lease: a century. Leases are the one duration that may reasonably be long (a lab
   * that renews rarely), and their expiry is a database timestamp that every supported database
   * stores up to the year 9999; the safe deadline's nanoseconds still fit a {@code long}.
   */
  static final Duration MAX_LEASE = Duration.ofDays(36_500);

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._@:-]+");
  private static final Pattern MACHINE_TYPE = Pattern.compile("[A-Za-z0-9._-]+");
  private static final Pattern MAC = Pattern.compile("([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}");

  private Checks() {}

  static <T> T notNull(T value, String what) {
    if (value == null) {
      throw new InvalidRequestException(what + " must not be null");
    }
    return value;
  }

  static String machineName(String name) {
    return matching(name, "machine name", NAME, MAX_NAME, "[A-Za-z0-9._@:-]");
  }

  static String machineType(String type) {
    return matching(type, "machine type", MACHINE_TYPE, MAX_TYPE, "[A-Za-z0-9._-]");
  }

  static String optionalMachineName(String name, String what) {
    return name == null ? null : matching(name, what, NAME, MAX_NAME, "[A-Za-z0-9._@:-]");
  }

  private static String matching(
      String value, String what, Pattern pattern, int max, String allowed) {
    if (value == null || value.isBlank()) {
      throw new InvalidRequestException(what + " must not be blank");
    }
    if (value.length() > max) {
      throw new InvalidRequestException(
          what + " '" + abbreviate(value) + "' is longer than " + max + " characters");
    }
    if (!pattern.matcher(value).matches()) {
      throw new InvalidRequestException(
          what
              + " '"
              + abbreviate(value)
              + "' has characters outside "
              + allowed
              + "; quotes, spaces, semicolons and shell characters are not allowed");
    }
    return value;
  }

  static String owner(String owner) {
    if (owner == null || owner.isBlank()) {
      throw new InvalidRequestException(
          "an owner is required to lock or unlock, by convention user@hostname");
    }
    if (owner.length() > MAX_OWNER) {
      throw new InvalidRequestException(
          "owner '" + abbreviate(owner) + "' is longer than " + MAX_OWNER + " characters");
    }
    noForbiddenCharacters(owner, "owner", false);
    return owner;
  }

  static String description(String description) {
    if (description == null) {
      return null;
    }
    if (description.length() > MAX_DESCRIPTION) {
      throw new InvalidRequestException(
          "description is "
              + description.length()
              + " characters long; at most "
              + MAX_DESCRIPTION);
    }
    noForbiddenCharacters(description, "description", true);
    return description;
  }

  static String osField(String value, String what) {
    if (value == null) {
      return null;
    }
    if (value.isBlank() || value.length() > MAX_OS_FIELD) {
      throw new InvalidRequestException(
          what + " '" + abbreviate(value) + "' must be 1 to " + MAX_OS_FIELD + " characters");
    }
    if (!MACHINE_TYPE.matcher(value).matches()) {
      throw new InvalidRequestException(
          what + " '" + abbreviate(value) + "' has characters outside [A-Za-z0-9._-]");
    }
    return value;
  }

  static String macAddress(String mac) {
    if (mac == null) {
      return null;
    }
    if (!MAC.matcher(mac).matches()) {
      throw new InvalidRequestException(
          "MAC address '" + abbreviate(mac) + "' is not of the form 52:54:00:00:00:11");
    }
    return mac.toLowerCase(java.util.Locale.ROOT);
  }

  static Integer port(Integer port) {
    if (port != null && (port < 1 || port > 65_535)) {
      throw new InvalidRequestException("SSH port " + port + " is outside 1..65535");
    }
    return port;
  }

  static Duration positive(Duration duration, String what) {
    notNull(duration, what);
    if (duration.isNegative() || duration.isZero()) {
      throw new InvalidRequestException(what + " must be positive, was " + duration);
    }
    return atMostMaxDuration(duration, what);
  }

  static Duration notNegative(Duration duration, String what) {
    notNull(duration, what);
    if (duration.isNegative()) {
      throw new InvalidRequestException(what + " must not be negative, was " + duration);
    }
    return atMostMaxDuration(duration, what);
  }

  /** A lease duration: positive and at most {@link #MAX_LEASE}. */
  static Duration lease(Duration duration, String what) {
    notNull(duration, what);
    if (duration.isNegative() || duration.isZero()) {
      throw new InvalidRequestException(what + " must be positive, was " + duration);
    }
    if (duration.compareTo(MAX_LEASE) > 0) {
      throw new InvalidRequestException(
          what
              + " must be at most "
              + MAX_LEASE.toDays()
              + " days, was "
              + duration.toDays()
              + " days");
    }
    return duration;
  }

  /** A period of something the pool schedules: at least a millisecond, its scheduler's unit. */
  static Duration period(Duration duration, String what) {
    positive(duration, what);
    if (duration.toMillis() < 1) {
      throw new InvalidRequestException(what + " must be at least 1 ms, was " + duration);
    }
    return duration;
  }

  private static Duration atMostMaxDuration(Duration duration, String what) {
    if (duration.compareTo(MAX_DURATION) > 0) {
      throw new InvalidRequestException(
          what
              + " must be at most "
              + MAX_DURATION.toDays()
              + " days, was "
              + (duration.toDays() > 0 ? duration.toDays() + " days" : duration.toString()));
    }
    return duration;
  }

  /**
   * How many machines a request by type asks for.
   *
   * @param count the count
   * @return the count
   */
  static int priority(int priority, int max) {
    if (priority < 0 || priority > max) {
      throw new InvalidRequestException(
          "priority must be between 0 (most urgent) and " + max + ", got " + priority);
    }
    return priority;
  }

  static int count(int count) {
    if (count < 1) {
      throw new InvalidRequestException("count must be at least 1, was " + count);
    }
    if (count > MAX_MACHINES) {
      throw new InvalidRequestException(
          "count "
              + count
              + " is more than one request may lock: at most "
              + MAX_MACHINES
              + " machines");
    }
    return count;
  }

  static List<String> machineNames(Collection<String> names) {
    notNull(names, "machine names");
    if (names.size() > MAX_MACHINES) {
      throw new InvalidRequestException(
          names.size()
              + " machine names in one request; at most "
              + MAX_MACHINES
              + " may be named at once");
    }
    List<String> copy = names.stream().map(Checks::machineName).distinct().toList();
    if (copy.size() != names.size()) {
      Set<String> seen = new LinkedHashSet<>();
      Set<String> twice = new LinkedHashSet<>();
      for (String name : names) {
        if (!seen.add(name)) {
          twice.add(name);
        }
      }
      throw new InvalidRequestException(
          "machine names are listed more than once: " + Texts.list(twice));
    }
    return copy;
  }

  /**
   * Refuses what no text the library stores or compares may hold: unpaired UTF-16 surrogates, which
   * have no UTF-8 form (some drivers store them as {@code ?}, so that an owner could never unlock
   * again), and control characters, NUL among them (PostgreSQL refuses it, H2 and MariaDB store
   * it), except tab and line breaks where {@code lineBreaks} allows them.
   */
  private static void noForbiddenCharacters(String value, String what, boolean lineBreaks) {
    int bad = Texts.firstForbidden(value, lineBreaks);
    if (bad < 0) {
      return;
    }
    char c = value.charAt(bad);
    throw new InvalidRequestException(
        what
            + " has "
            + (Character.isSurrogate(c)
                ? "an unpaired UTF-16 surrogate (" + Texts.code(c) + ")"
                : "a control character (" + Texts.code(c) + ")")
            + " at index "
            + bad
            + (Character.isSurrogate(c)
                ? ", which cannot be stored: check how the text was decoded"
                : lineBreaks
                    ? "; only tab, line feed and carriage return are allowed"
                    : "; control characters are not allowed"));
  }

  private static String abbreviate(String value) {
    return Texts.echo(value);
  }
}
