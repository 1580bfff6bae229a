package io.machinepool.ssh;

import io.machinepool.ConfigurationException;
import io.machinepool.InvalidRequestException;
import io.machinepool.Machine;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An OpenSSH {@code known_hosts} file kept in step with the pool's machines, so that plain {@code
 * ssh} and other OpenSSH tools accept a re-imaged VM's new host keys and nothing stale:
 *
 * <pre>{@code
 * KnownHostsFile knownHosts = KnownHostsFile.ofUser();
 * try (Lease lease = pool.lock(request)) {
 *   knownHosts.update(lease.machines());       // the keys recorded at provisioning
 *   ...
 * }
 * knownHosts.forget(machines);                  // after unlocking VMs that will be re-imaged
 * }</pre>
 *
 * <h2>Which lines are a machine's</h2>
 *
 * A machine's host is {@code name} when its SSH port is 22 (or not set) and {@code [name]:port}
 * otherwise, as OpenSSH looks it up. A line is the machine's when its host field
 *
 * <ul>
 *   <li>has, among its comma-separated patterns, one that is that host exactly (for port 22 also
 *       {@code [name]:22}), and no negated pattern ({@code !pattern}) excludes the host; or
 *   <li>is a hashed entry, {@code |1|salt|hash}, whose hash is the HMAC-SHA1 of that host keyed
 *       with the salt.
 * </ul>
 *
 * Names are compared ignoring ASCII case and hashes are made from the lowercased host, because
 * {@code ssh} lowercases the host name before it looks it up. Patterns with wildcards ({@code *},
 * {@code ?}) never make a line the machine's: such a line is not the machine's own entry (unlike
 * {@code ssh-keygen -R}, which removes it). An entry of {@code name} is not one of {@code
 * [name]:2222}, and the other way round.
 *
 * <h2>What changes</h2>
 *
 * {@link #update(Collection)} removes every line of the machine whose key is not one of its current
 * keys ({@link Machine#hostKeys()}), and every line that names the machine only as {@code
 * [name]:22}; then it appends a line {@code host type base64} for each current key that no
 * remaining line carries, its host hashed when the file already has a hashed entry (or {@link
 * #hashed(boolean)} says so). A line is removed whole, as {@code ssh-keygen -R} does: a line {@code
 * name,10.0.0.5 ssh-ed25519 ...} with a stale key goes with its other patterns. Lines with a
 * marker, {@code @cert-authority} or {@code @revoked}, are never removed. Comments, blank lines,
 * other hosts' lines and lines that are not entries are kept byte for byte, with their line
 * endings; new lines get the file's line ending ({@code \r\n} when its first line has one), and
 * start on a line of their own when the file does not end with a newline. {@link
 * #forget(Collection)} only removes.
 *
 * <h2>How the file is written</h2>
 *
 * Under an exclusive lock of {@code known_hosts.lock} beside the file (waiting at most {@link
 * #lockTimeout(Duration) the lock timeout}), so that harness processes and threads on one host
 * never lose each other's updates: the file is read, the new text written to a temporary file in
 * the same directory, forced to disk, given the old file's POSIX permissions (0600 for a new file)
 * and moved over the file atomically; readers see the old file or the new one, never a part. When
 * nothing changes nothing is written. A missing directory is created with 0700. When the file is a
 * symbolic link, the file it points to is replaced and the link kept. The lock file stays.
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class KnownHostsFile {
  private static final Logger LOG = LoggerFactory.getLogger(KnownHostsFile.class);
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._@:-]{1,255}");
  private static final Duration DEFAULT_LOCK_TIMEOUT = Duration.ofSeconds(10);
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Set<PosixFilePermission> NEW_FILE =
      PosixFilePermissions.fromString("rw-------");
  private static final Set<PosixFilePermission> NEW_DIRECTORY =
      PosixFilePermissions.fromString("rwx------");

  /** Moves the written temporary file over the file; replaced in tests to make it fail. */
  interface Replace {
    void replace(Path temporary, Path file) throws IOException;
  }

  private static final Replace ATOMIC_MOVE =
      (temporary, file) ->
          Files.move(
              temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);

  private final Path file;
  private final KnownHostsEdit.Hosts hashed;
  private final Duration lockTimeout;
  private final Replace replace;

  private KnownHostsFile(
      Path file, KnownHostsEdit.Hosts hashed, Duration lockTimeout, Replace replace) {
    this.file = file;
    this.hashed = hashed;
    this.lockTimeout = lockTimeout;
    this.replace = replace;
  }

  /**
   * A {@code known_hosts} file at a path. The file need not exist.
   *
   * @param file the file
   * @return the file, writing host names hashed or plain as the file already does (see {@link
   *     #hashed(boolean)})
   * @throws InvalidRequestException when {@code file} is {@code null}
   */
  public static KnownHostsFile at(Path file) {
    if (file == null) {
      throw new InvalidRequestException("the known_hosts file must not be null");
    }
    return new KnownHostsFile(
        file, KnownHostsEdit.Hosts.FOLLOW_FILE, DEFAULT_LOCK_TIMEOUT, ATOMIC_MOVE);
  }

  /**
   * The user's own file, {@code ~/.ssh/known_hosts}, in the home directory of the user this JVM
   * runs as (the {@code user.home} property, which like OpenSSH reads the password database).
   *
   * @return the file, writing host names hashed or plain as the file already does (see {@link
   *     #hashed(boolean)})
   */
  public static KnownHostsFile ofUser() {
    return at(Path.of(System.getProperty("user.home"), ".ssh", "known_hosts"));
  }

  /**
   * Returns a copy that writes new lines with hashed host fields ({@code true}), as OpenSSH does
   * with {@code HashKnownHosts yes}: {@code |1|salt|hash}, a fresh 20 byte salt per line and the
   * HMAC-SHA1 of the host; or with plain host names ({@code false}), whatever the file holds. Lines
   * that are kept are left as they are, hashed or not.
   *
   * <p>Without this setting new lines follow the file: they are hashed when the file, as it is read
   * before the update, has at least one hashed entry (a file that OpenSSH has written to with
   * {@code HashKnownHosts yes}, Debian's default, or that {@code ssh-keygen -H} has hashed), and
   * plain otherwise, also for a new or empty file. The user's {@code ssh_config} is not read; set
   * {@code hashed(true)} to hash the first lines of a new file.
   *
   * @param hashed whether new lines are hashed
   * @return the copy
   */
  public KnownHostsFile hashed(boolean hashed) {
    return new KnownHostsFile(
        file,
        hashed ? KnownHostsEdit.Hosts.HASHED : KnownHostsEdit.Hosts.PLAIN,
        lockTimeout,
        replace);
  }

  /**
   * Returns a copy that waits at most this long for the lock that another process or thread holds
   * while it updates the file. The default is 10 seconds.
   *
   * @param timeout a positive duration
   * @return the copy
   * @throws InvalidRequestException when the timeout is {@code null}, zero or negative
   */
  public KnownHostsFile lockTimeout(Duration timeout) {
    if (timeout == null || timeout.isNegative() || timeout.isZero()) {
      throw new InvalidRequestException(
          "the known_hosts lock timeout must be positive: " + timeout);
    }
    return new KnownHostsFile(file, hashed, timeout, replace);
  }

  /** A copy that replaces the file with another move; for tests. */
  KnownHostsFile replacingWith(Replace move) {
    return new KnownHostsFile(file, hashed, lockTimeout, Objects.requireNonNull(move));
  }

  /**
   * The file's path, as given.
   *
   * @return the path
   */
  public Path file() {
    return file;
  }

  /**
   * Brings the file in step with the machines' current host keys: removes every stale line of each
   * machine and appends a line per current key that the file lacks (see the class description). A
   * machine without keys only loses its lines.
   *
   * @param machines the machines, each at most once
   * @return what changed
   * @throws InvalidRequestException when {@code machines} or one of them is {@code null}, a name
   *     cannot be a known_hosts host, a port is outside 1..65535, or a machine is listed twice; the
   *     file is not touched
   * @throws ConfigurationException when the file cannot be read, locked or written; the message
   *     names the file, and the file is as it was
   */
  public Result update(Collection<Machine> machines) {
    return change(targets(machines, true), "update");
  }

  /**
   * Removes every line of the machines, as {@link #update(Collection)} would for machines without
   * keys; what unlocking a VM that is re-imaged on its next lock wants. Nothing is written when the
   * file has no line of them, and a missing file stays missing.
   *
   * @param machines the machines, each at most once; only their names and SSH ports are used
   * @return what changed
   * @throws InvalidRequestException as {@link #update(Collection)}
   * @throws ConfigurationException as {@link #update(Collection)}
   */
  public Result forget(Collection<Machine> machines) {
    return change(targets(machines, false), "forget");
  }

  private static List<KnownHostsEdit.Target> targets(Collection<Machine> machines, boolean keys) {
    if (machines == null) {
      throw new InvalidRequestException("the machines must not be null");
    }
    List<KnownHostsEdit.Target> targets = new ArrayList<>();
    Set<String> hosts = new HashSet<>();
    for (Machine machine : machines) {
      if (machine == null) {
        throw new InvalidRequestException("a machine of " + machines.size() + " is null");
      }
      String name = machine.name();
      if (name == null || !NAME.matcher(name).matches()) {
        throw new InvalidRequestException(
            "machine name '"
                + name
                + "' cannot be written to known_hosts: expected 1 to 255 characters of"
                + " [A-Za-z0-9._@:-]");
      }
      if (name.startsWith("@")) {
        throw new InvalidRequestException(
            "machine name '"
                + name
                + "' cannot be written to known_hosts: OpenSSH reads a host field starting with @"
                + " as a marker");
      }
      Integer port = machine.sshPort();
      if (port != null && (port < 1 || port > 65_535)) {
        throw new InvalidRequestException(
            "SSH port " + port + " of " + name + " is outside 1..65535");
      }
      KnownHostsEdit.Target target =
          KnownHostsEdit.Target.of(name, port, keys ? machine.hostKeys() : List.of());
      if (!hosts.add(target.host())) {
        throw new InvalidRequestException(
            "machine " + target.host() + " is listed more than once; list each machine once");
      }
      targets.add(target);
    }
    return targets;
  }

  private Result change(List<KnownHostsEdit.Target> targets, String what) {
    Path path = resolve();
    Path directory = path.toAbsolutePath().getParent();
    boolean posix = directory.getFileSystem().supportedFileAttributeViews().contains("posix");
    boolean adds = targets.stream().anyMatch(target -> !target.keys().isEmpty());
    if (targets.isEmpty() || (!adds && !Files.isDirectory(directory))) {
      LOG.debug("{} {}: nothing to do for {} machines", what, file, targets.size());
      return new Result(file, 0, 0, List.of());
    }
    createDirectory(directory, posix);
    Path lockFile = directory.resolve(path.getFileName() + ".lock");
    try (KnownHostsLock lock = KnownHostsLock.take(lockFile, file, lockTimeout, posix)) {
      byte[] before = read(path);
      String text = before == null ? "" : new String(before, StandardCharsets.ISO_8859_1);
      KnownHostsEdit.Edit edit = KnownHostsEdit.apply(text, targets, hashed, RANDOM);
      Result result = new Result(file, edit.removed(), edit.added(), edit.hosts());
      if (!edit.changed()) {
        LOG.debug("{} {}: already current for {} machines", what, file, targets.size());
        return result;
      }
      write(path, directory, edit.text().getBytes(StandardCharsets.ISO_8859_1), posix);
      LOG.info(
          "{} {}: removed {} lines, added {} ({})",
          what,
          file,
          result.removed(),
          result.added(),
          String.join(", ", result.hosts()));
      return result;
    }
  }

  /** The file to replace: the target of a symbolic link, so that the link stays. */
  private Path resolve() {
    try {
      return Files.isSymbolicLink(file) && Files.exists(file) ? file.toRealPath() : file;
    } catch (IOException e) {
      throw new ConfigurationException("cannot resolve the link " + file + ": " + e, e);
    }
  }

  private void createDirectory(Path directory, boolean posix) {
    if (Files.isDirectory(directory)) {
      return;
    }
    try {
      if (posix) {
        Files.createDirectories(directory, PosixFilePermissions.asFileAttribute(NEW_DIRECTORY));
      } else {
        Files.createDirectories(directory);
      }
    } catch (IOException e) {
      throw new ConfigurationException(
          "cannot create the directory " + directory + " of " + file + ": " + e, e);
    }
  }

  private byte[] read(Path path) {
    try {
      return Files.exists(path) ? Files.readAllBytes(path) : null;
    } catch (IOException e) {
      throw new ConfigurationException("cannot read " + file + ": " + e, e);
    }
  }

  private void write(Path path, Path directory, byte[] bytes, boolean posix) {
    Path temporary = null;
    try {
      temporary = Files.createTempFile(directory, "." + path.getFileName() + ".", ".tmp");
      try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.WRITE)) {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        while (buffer.hasRemaining()) {
          channel.write(buffer);
        }
        channel.force(true);
      }
      if (posix) {
        Files.setPosixFilePermissions(
            temporary, Files.exists(path) ? Files.getPosixFilePermissions(path) : NEW_FILE);
      }
      replace.replace(temporary, path);
      temporary = null;
      forceDirectory(directory);
    } catch (IOException | RuntimeException e) {
      ConfigurationException failure =
          new ConfigurationException("cannot write " + file + ": " + e, e);
      if (temporary != null) {
        try {
          Files.deleteIfExists(temporary);
        } catch (IOException cleanup) {
          failure.addSuppressed(cleanup);
        }
      }
      throw failure;
    }
  }

  /** Forces the directory's entry of the new file to disk, where the platform can. */
  private static void forceDirectory(Path directory) {
    try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
      channel.force(true);
    } catch (IOException | UnsupportedOperationException e) {
      LOG.debug("cannot force the directory {} to disk: {}", directory, e.toString());
    }
  }

  /**
   * What an {@link #update(Collection)} or {@link #forget(Collection)} changed, for a log line.
   * Only this class creates results; two are equal when every field is.
   */
  public static final class Result {
    private final Path file;
    private final int removed;
    private final int added;
    private final List<String> hosts;

    /** Keeps the fields; copies the hosts. */
    private Result(Path file, int removed, int added, List<String> hosts) {
      this.file = file;
      this.removed = removed;
      this.added = added;
      this.hosts = List.copyOf(hosts);
    }

    /**
     * The file.
     *
     * @return the known_hosts file, as given
     */
    public Path file() {
      return file;
    }

    /**
     * How many lines were removed.
     *
     * @return the count
     */
    public int removed() {
      return removed;
    }

    /**
     * How many lines were appended.
     *
     * @return the count
     */
    public int added() {
      return added;
    }

    /**
     * The hosts whose lines changed.
     *
     * @return the hosts whose lines were removed or appended, as known_hosts names them ({@code
     *     name} or {@code [name]:port}, lowercased), in the order the machines were given
     */
    public List<String> hosts() {
      return hosts;
    }

    /**
     * Whether the file was written.
     *
     * @return {@code true} when a line was removed or added
     */
    public boolean changed() {
      return removed > 0 || added > 0;
    }

    /**
     * Whether the other object is a result with equal fields.
     *
     * @param other the object to compare with
     * @return {@code true} when every field is equal
     */
    @Override
    public boolean equals(Object other) {
      return other instanceof Result that
          && removed == that.removed
          && added == that.added
          && file.equals(that.file)
          && hosts.equals(that.hosts);
    }

    @Override
    public int hashCode() {
      return Objects.hash(file, removed, added, hosts);
    }

    /**
     * Every field, in the form a record prints.
     *
     * @return e.g. {@code Result[file=known_hosts, removed=1, added=2, hosts=[vpm011]]}
     */
    @Override
    public String toString() {
      return "Result[file="
          + file
          + ", removed="
          + removed
          + ", added="
          + added
          + ", hosts="
          + hosts
          + "]";
    }
  }
}
