package io.machinepool.ssh;

import io.machinepool.HostKey;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The text of a {@code known_hosts} file brought in step for some hosts, without any I/O: the rules
 * {@link KnownHostsFile} documents. The text is read as ISO-8859-1, one char per byte, so that
 * every line that is kept goes back byte for byte.
 */
final class KnownHostsEdit {
  private static final String HMAC = "HmacSHA1";
  private static final int SALT_BYTES = 20;
  private static final Pattern FIELDS = Pattern.compile("[ \t]+");
  private static final Pattern HASHED = Pattern.compile("\\|1\\|([^|]+)\\|([^|]+)");

  private KnownHostsEdit() {}

  /**
   * One host whose entries are brought in step.
   *
   * @param host the form OpenSSH looks up, lowercased: {@code name}, or {@code [name]:port} for a
   *     port other than 22
   * @param aliases other forms whose entries are removed but never written: {@code [name]:22}
   * @param hashCandidates every form a hashed entry of the host may have been made from, including
   *     forms in the name's original case (which tools other than OpenSSH may have hashed)
   * @param keys the host's current keys, as {@code type base64}; empty to only remove its entries
   */
  record Target(String host, List<String> aliases, List<String> hashCandidates, List<String> keys) {
    Target {
      aliases = List.copyOf(aliases);
      hashCandidates = List.copyOf(hashCandidates);
      keys = List.copyOf(keys);
    }

    /**
     * The target of a machine.
     *
     * @param name the machine's name, validated
     * @param port its SSH port, {@code null} for 22
     * @param keys its current keys
     */
    static Target of(String name, Integer port, List<HostKey> keys) {
      String lower = name.toLowerCase(Locale.ROOT);
      boolean standard = port == null || port == 22;
      String host = standard ? lower : "[" + lower + "]:" + port;
      List<String> aliases = standard ? List.of("[" + lower + "]:22") : List.of();
      Set<String> candidates = new LinkedHashSet<>();
      candidates.add(host);
      candidates.addAll(aliases);
      candidates.add(standard ? name : "[" + name + "]:" + port);
      if (standard) {
        candidates.add("[" + name + "]:22");
      }
      Set<String> normalized = new LinkedHashSet<>();
      for (HostKey key : keys) {
        normalized.add(normalize(key.type(), Base64.getDecoder().decode(key.base64())));
      }
      return new Target(host, aliases, List.copyOf(candidates), List.copyOf(normalized));
    }
  }

  /**
   * The outcome of an edit.
   *
   * @param text the new text, equal to the old when nothing changed
   * @param removed how many lines were removed
   * @param added how many lines were appended
   * @param hosts the hosts whose lines were removed or appended, in the order of the targets
   */
  record Edit(String text, int removed, int added, List<String> hosts) {
    boolean changed() {
      return removed > 0 || added > 0;
    }
  }

  /** How the host fields of appended lines are written. */
  enum Hosts {
    /** Hashed when the file has a hashed entry, plain otherwise. */
    FOLLOW_FILE,
    /** Always hashed, {@code |1|salt|hash}. */
    HASHED,
    /** Always plain, {@code name} or {@code [name]:port}. */
    PLAIN
  }

  /** How a line's host field names a target. */
  enum Match {
    /** Not at all. */
    NONE,
    /** By the form OpenSSH looks up. */
    HOST,
    /** Only by a form OpenSSH never looks up, such as {@code [name]:22}. */
    ALIAS
  }

  /**
   * Removes every line of the targets that does not carry one of their current keys under the form
   * OpenSSH looks up, then appends a line per current key that no kept line carries.
   *
   * @param text the file's text as ISO-8859-1, empty for a missing file
   * @param targets the hosts, each at most once
   * @param hosts how appended lines write their host field: {@link Hosts#FOLLOW_FILE} hashes them
   *     when any entry of the file as it was read is hashed
   * @param random where salts come from
   * @return the edit
   */
  static Edit apply(String text, List<Target> targets, Hosts hosts, SecureRandom random) {
    List<String> lines = splitLines(text);
    String eol = lineEnding(text);
    StringBuilder out = new StringBuilder(text.length() + 256);
    Map<Target, Set<String>> present = new IdentityHashMap<>();
    Set<Target> touched = new HashSet<>();
    int removed = 0;
    boolean fileHashed = false;
    for (String line : lines) {
      Entry entry = Entry.parse(content(line));
      fileHashed |= entry != null && entry.salt() != null;
      boolean remove = false;
      List<Target> keeping = new ArrayList<>();
      if (entry != null) {
        for (Target target : targets) {
          Match match = entry.match(target);
          if (match == Match.NONE) {
            continue;
          }
          if (match == Match.HOST && target.keys().contains(entry.key())) {
            keeping.add(target);
          } else {
            remove = true;
            touched.add(target);
          }
        }
      }
      if (remove) {
        removed++;
      } else {
        out.append(line);
        for (Target target : keeping) {
          present.computeIfAbsent(target, t -> new HashSet<>()).add(entry.key());
        }
      }
    }
    int added = 0;
    boolean hashed = hosts == Hosts.HASHED || (hosts == Hosts.FOLLOW_FILE && fileHashed);
    for (Target target : targets) {
      Set<String> have = present.getOrDefault(target, Set.of());
      for (String key : target.keys()) {
        if (have.contains(key)) {
          continue;
        }
        if (out.length() > 0 && out.charAt(out.length() - 1) != '\n') {
          out.append(eol);
        }
        out.append(hashed ? hash(target.host(), random) : target.host())
            .append(' ')
            .append(key)
            .append(eol);
        added++;
        touched.add(target);
      }
    }
    List<String> changed = targets.stream().filter(touched::contains).map(Target::host).toList();
    String result = removed == 0 && added == 0 ? text : out.toString();
    return new Edit(result, removed, added, changed);
  }

  /** The lines of a text, each with its line terminator ({@code \n} or {@code \r\n}) if any. */
  static List<String> splitLines(String text) {
    List<String> lines = new ArrayList<>();
    int start = 0;
    while (start < text.length()) {
      int newline = text.indexOf('\n', start);
      int end = newline < 0 ? text.length() : newline + 1;
      lines.add(text.substring(start, end));
      start = end;
    }
    return lines;
  }

  /** The line ending of the file's first terminated line; {@code \n} when it has none. */
  static String lineEnding(String text) {
    int newline = text.indexOf('\n');
    return newline > 0 && text.charAt(newline - 1) == '\r' ? "\r\n" : "\n";
  }

  private static String content(String line) {
    int end = line.length();
    while (end > 0 && (line.charAt(end - 1) == '\n' || line.charAt(end - 1) == '\r')) {
      end--;
    }
    return line.substring(0, end);
  }

  /** A hashed host field for a host, {@code |1|salt|hash}, with a fresh salt. */
  static String hash(String host, SecureRandom random) {
    byte[] salt = new byte[SALT_BYTES];
    random.nextBytes(salt);
    Base64.Encoder base64 = Base64.getEncoder();
    return "|1|" + base64.encodeToString(salt) + "|" + base64.encodeToString(hmac(salt, host));
  }

  /** HMAC-SHA1 of a host form keyed with a salt, as OpenSSH hashes known_hosts names. */
  static byte[] hmac(byte[] salt, String host) {
    try {
      Mac mac = Mac.getInstance(HMAC);
      mac.init(new SecretKeySpec(salt, HMAC));
      return mac.doFinal(host.getBytes(StandardCharsets.ISO_8859_1));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JVM has no " + HMAC, e);
    }
  }

  /**
   * Whether a pattern with {@code *} and {@code ?} matches a host, ignoring ASCII case, as
   * OpenSSH's {@code match_pattern}.
   */
  static boolean glob(String pattern, String host) {
    String p = pattern.toLowerCase(Locale.ROOT);
    String s = host.toLowerCase(Locale.ROOT);
    int pi = 0;
    int si = 0;
    int star = -1;
    int resume = 0;
    while (si < s.length()) {
      if (pi < p.length() && (p.charAt(pi) == '?' || p.charAt(pi) == s.charAt(si))) {
        pi++;
        si++;
      } else if (pi < p.length() && p.charAt(pi) == '*') {
        star = pi++;
        resume = si;
      } else if (star >= 0) {
        pi = star + 1;
        si = ++resume;
      } else {
        return false;
      }
    }
    while (pi < p.length() && p.charAt(pi) == '*') {
      pi++;
    }
    return pi == p.length();
  }

  private static String normalize(String type, byte[] blob) {
    return type + " " + Base64.getEncoder().encodeToString(blob);
  }

  /**
   * A line that is a host entry: a host field, a key type and a base64 key. Comments, blank lines,
   * lines with a marker and lines that do not have that form are not entries.
   */
  private record Entry(String hosts, String key, byte[] salt, byte[] hash) {
    static Entry parse(String line) {
      int start = 0;
      while (start < line.length() && (line.charAt(start) == ' ' || line.charAt(start) == '\t')) {
        start++;
      }
      if (start == line.length() || line.charAt(start) == '#' || line.charAt(start) == '@') {
        return null;
      }
      String[] fields = FIELDS.split(line.substring(start), 4);
      if (fields.length < 3) {
        return null;
      }
      byte[] blob;
      try {
        blob = Base64.getDecoder().decode(fields[2]);
      } catch (IllegalArgumentException e) {
        return null;
      }
      String key = normalize(fields[1], blob);
      if (fields[0].startsWith("|")) {
        Matcher hashed = HASHED.matcher(fields[0]);
        if (!hashed.matches()) {
          return null;
        }
        try {
          byte[] salt = Base64.getDecoder().decode(hashed.group(1));
          byte[] hash = Base64.getDecoder().decode(hashed.group(2));
          return salt.length == 0 ? null : new Entry(fields[0], key, salt, hash);
        } catch (IllegalArgumentException e) {
          return null;
        }
      }
      return new Entry(fields[0], key, null, null);
    }

    Match match(Target target) {
      if (salt != null) {
        for (String candidate : target.hashCandidates()) {
          if (MessageDigest.isEqual(hmac(salt, candidate), hash)) {
            return candidate.equals(target.host()) ? Match.HOST : Match.ALIAS;
          }
        }
        return Match.NONE;
      }
      if (names(target.host())) {
        return Match.HOST;
      }
      for (String alias : target.aliases()) {
        if (names(alias)) {
          return Match.ALIAS;
        }
      }
      return Match.NONE;
    }

    /**
     * Whether a plain pattern of the host field is the host exactly (ASCII case ignored) and no
     * negated pattern excludes it. Wildcard patterns never name a host.
     */
    private boolean names(String host) {
      boolean named = false;
      for (String pattern : hosts.split(",")) {
        if (pattern.startsWith("!")) {
          if (glob(pattern.substring(1), host)) {
            return false;
          }
        } else if (pattern.indexOf('*') < 0
            && pattern.indexOf('?') < 0
            && pattern.equalsIgnoreCase(host)) {
          named = true;
        }
      }
      return named;
    }
  }
}
