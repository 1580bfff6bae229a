package io.machinepool.ssh;

import com.jcraft.jsch.JSch;
import com.jcraft.jsch.JSchAlgoNegoFailException;
import com.jcraft.jsch.JSchException;
import com.jcraft.jsch.JSchUnknownHostKeyException;
import com.jcraft.jsch.Session;
import io.machinepool.HostKey;
import io.machinepool.HostKeyScanner;
import io.machinepool.InvalidRequestException;
import io.machinepool.config.TeuthologyConfig;
import io.machinepool.ssh.HostKeyScanException.Reason;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.PortUnreachableException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link HostKeyScanner} on JSch: asks an SSH server for every host key type it offers, without
 * authenticating, as {@code ssh-keyscan} does.
 *
 * <pre>{@code
 * HostKeyScanner scanner = JschHostKeyScanner.builder()
 *     .config(TeuthologyConfig.load())          // vpm011 becomes vpm011.<lab_domain>
 *     .connectTimeout(Duration.ofSeconds(5))
 *     .build();
 * MachinePool pool = MachinePool.builder().dataSource(ds).hostKeyScanner(scanner).build();
 * }</pre>
 *
 * <p><b>Key types</b>: {@code ssh-ed25519}, {@code ecdsa-sha2-nistp256}, {@code
 * ecdsa-sha2-nistp384}, {@code ecdsa-sha2-nistp521} and {@code ssh-rsa} (negotiated as {@code
 * rsa-sha2-512}, {@code rsa-sha2-256} or {@code ssh-rsa}). The keys are returned in that order, one
 * per type, each named by its key type ({@code ssh-rsa}, never a signature algorithm). Types the
 * server offers beyond these (such as DSA or certificates) are left out.
 *
 * <p><b>How</b>: JSch negotiates one host key algorithm per connection. The first connection offers
 * every type; the server picks one and presents its key, which is recorded; JSch then stops the
 * connection right after the key exchange as if the key were unknown, before authentication. The
 * next connection offers only the types not found yet, and so on until the key exchange fails
 * because the server has none of the offered types left. A server with N of these types thus gets N
 * + 1 connections (or N when it has all five). Each key is one the server proved it holds: JSch
 * checks the server's signature of the key exchange before the key is recorded.
 *
 * <p><b>One connection at a time per server</b>: a connection ends only when the server has closed
 * its end too (the scanner shuts its side down and waits for that, at most 2 s and never past the
 * deadline), and the next connection to the same address and port, of this scan or of any other
 * scan in this JVM, starts after that. OpenSSH counts a connection against its {@code MaxStartups}
 * limit of unauthenticated connections until it has seen it end; a scan that connected again
 * earlier, or many scans of one server at once, would be turned away.
 *
 * <p><b>Time</b>: the whole scan, all its connections, finishes within the {@code timeout} given to
 * {@link #scan(String, int, Duration)}; each connection gets what is left of it, at most the {@link
 * Builder#connectTimeout(Duration) connect timeout}. That bounds the TCP connect and every read.
 * Resolving the host name is left to the system resolver and its own timeouts.
 *
 * <p><b>Failures</b> throw {@link HostKeyScanException} with its {@link HostKeyScanException.Reason
 * reason}. A scan returns every key or none: a failure on a later connection, after some keys were
 * collected, throws too. A scan does not wait for a server that is not up yet; that is the caller's
 * to retry. A server that turns a connection away for now ({@code Exceeded MaxStartups}) is asked
 * again after a jittered pause growing from 100 ms to 2 s, at most 8 times per scan and only when
 * at least 100 ms of the deadline remain after the pause; then the scan fails with {@link
 * HostKeyScanException.Reason#THROTTLED}.
 *
 * <p>Instances are immutable and thread-safe: the pool scans many machines at once with one
 * scanner. JSch's own log goes to the SLF4J logger {@code
 * io.machinepool.ssh.JschHostKeyScanner.jsch} at DEBUG (set per session; JSch's global logger is
 * left alone).
 */
public final class JschHostKeyScanner implements HostKeyScanner {
  private static final Logger LOG = LoggerFactory.getLogger(JschHostKeyScanner.class);

  /** The connect timeout when none is set. */
  static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);

  /** The user name of the scan sessions; it is never sent, as no session gets to authenticate. */
  private static final String USER = "hostkey-scan";

  /** The default {@code hostAddress}: the config's {@code ssh_addresses}, else the name. */
  private static final Function<String, String> NAME_ITSELF = name -> name;

  /** What sshd sends before it closes a connection beyond its {@code MaxStartups}. */
  private static final String MAX_STARTUPS = "Exceeded MaxStartups";

  /** How often a scan retries a connection the server turned away, at most, in all. */
  static final int MAX_THROTTLED_RETRIES = 8;

  /** The first pause before a retry of a connection the server turned away; it doubles. */
  private static final long FIRST_PAUSE = 100_000_000L;

  /** The longest pause before a retry of a connection the server turned away. */
  private static final long LONGEST_PAUSE = 2_000_000_000L;

  /**
   * The least time a connection after a pause must have left before the deadline: one given less
   * would only time out, and its last read could end a little past the deadline.
   */
  private static final long SHORTEST_RETRY = 100_000_000L;

  /** One connection at a time per server, for every scanner of this JVM. */
  private static final ServerGate GATE = new ServerGate();

  private final Duration connectTimeout;
  private final TeuthologyConfig config;
  private final Function<String, String> hostAddress;

  /**
   * Creates a scanner with the defaults: a connect timeout of 10 seconds, no completion of short
   * names, and a connection to the machine's name itself.
   */
  public JschHostKeyScanner() {
    this(DEFAULT_CONNECT_TIMEOUT, null, NAME_ITSELF);
  }

  private JschHostKeyScanner(
      Duration connectTimeout, TeuthologyConfig config, Function<String, String> hostAddress) {
    this.connectTimeout = connectTimeout;
    this.config = config;
    this.hostAddress = hostAddress;
  }

  /**
   * Starts a builder with the defaults of {@link #JschHostKeyScanner()}.
   *
   * @return the builder
   */
  public static Builder builder() {
    return new Builder(DEFAULT_CONNECT_TIMEOUT, null, NAME_ITSELF);
  }

  /**
   * Collects every host key type the server at {@code host:port} offers, without authenticating.
   *
   * @param host the machine's name; a short name without a dot is completed with the {@code
   *     lab_domain} of the {@link Builder#config(TeuthologyConfig) config}, if one was given, and
   *     the result mapped by the {@link Builder#hostAddress(Function) hostAddress} function to what
   *     to connect to
   * @param port the SSH port, 1 to 65535
   * @param timeout how long the whole scan may take, positive
   * @return the keys, at least one, in the order ed25519, ECDSA (256, 384, 521), RSA
   * @throws InvalidRequestException when an argument is invalid, or the {@code hostAddress}
   *     function gives no address; nothing was connected then
   * @throws HostKeyScanException when the host cannot be scanned; see its {@link
   *     HostKeyScanException#reason() reason}
   */
  @Override
  public List<HostKey> scan(String host, int port, Duration timeout) {
    Target target = target(host, port, timeout);
    long start = System.nanoTime();
    long budget = nanos(timeout);
    Map<ScannedKeyType, HostKey> found = new EnumMap<>(ScannedKeyType.class);
    Set<ScannedKeyType> offer = EnumSet.allOf(ScannedKeyType.class);
    int connections = 0;
    int throttled = 0;
    while (!offer.isEmpty()) {
      long left = budget - (System.nanoTime() - start);
      if (left <= 0) {
        throw target.failure(
            Reason.TIMEOUT,
            "the scan's timeout of "
                + describe(timeout)
                + " ran out after "
                + connections
                + " connection"
                + (connections == 1 ? "" : "s")
                + " ("
                + found.size()
                + " host key"
                + (found.size() == 1 ? "" : "s")
                + " collected; a scan returns all or none)",
            null);
      }
      connections++;
      Optional<byte[]> presented;
      try (ServerGate.Turn turn = enter(target, left)) {
        left = budget - (System.nanoTime() - start);
        presented = connect(target, offer, Math.min(left, nanos(connectTimeout)));
      } catch (HostKeyScanException e) {
        if (e.reason() != Reason.THROTTLED) {
          throw e;
        }
        throttled++;
        pauseAfterThrottled(target, e, throttled, start, budget);
        continue;
      }
      if (presented.isEmpty()) {
        break;
      }
      HostKey key = hostKey(target, presented.get(), offer);
      ScannedKeyType type = ScannedKeyType.of(key.type()).orElseThrow();
      found.put(type, key);
      offer.remove(type);
    }
    List<HostKey> keys = List.copyOf(found.values());
    if (LOG.isDebugEnabled()) {
      List<String> types = new ArrayList<>();
      keys.forEach(k -> types.add(k.type()));
      LOG.debug(
          "scanned the host keys of {} in {} connections: {}", target.where(), connections, types);
    }
    return keys;
  }

  /**
   * Waits until no other scan connection of this JVM is open to the target's server, at most until
   * the scan's deadline.
   */
  private static ServerGate.Turn enter(Target target, long left) {
    ServerGate.Turn turn;
    try {
      turn = GATE.enter(target.server(), left);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw target.failure(
          Reason.TIMEOUT, "interrupted while waiting for another scan of the server to end", e);
    }
    if (turn == null) {
      throw target.failure(
          Reason.TIMEOUT,
          "the scan's timeout of "
              + describe(target.timeout())
              + " ran out while other scans of the same server were connected (a scanner connects"
              + " to one server once at a time)",
          null);
    }
    return turn;
  }

  /**
   * Pauses before connecting again to a server that turned the connection away: a jittered pause of
   * half to all of 100 ms doubled per retry, at most 2 s. Throws the failure instead when the
   * retries are used up or the pause would end past the scan's deadline.
   */
  private static void pauseAfterThrottled(
      Target target, HostKeyScanException failure, int throttled, long start, long budget) {
    long base = Math.min(LONGEST_PAUSE, FIRST_PAUSE << Math.min(20, throttled - 1));
    long pause = base / 2 + ThreadLocalRandom.current().nextLong(base / 2 + 1);
    long left = budget - (System.nanoTime() - start);
    if (throttled > MAX_THROTTLED_RETRIES || pause + SHORTEST_RETRY >= left) {
      throw target.failure(
          Reason.THROTTLED,
          failure.detail()
              + "; turned away "
              + throttled
              + " time"
              + (throttled == 1 ? "" : "s")
              + (throttled > MAX_THROTTLED_RETRIES
                  ? ", the most a scan retries"
                  : ", and the scan's timeout of "
                      + describe(target.timeout())
                      + " leaves no time to try again"),
          failure);
    }
    LOG.debug(
        "{} turned connection {} away; trying again in {} ms",
        target.where(),
        throttled,
        pause / 1_000_000);
    try {
      TimeUnit.NANOSECONDS.sleep(pause);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw target.failure(
          Reason.THROTTLED, failure.detail() + "; interrupted before trying again", failure);
    }
  }

  /**
   * One connection offering the given types.
   *
   * @return the key the server presented, or empty when it has none of the offered types
   */
  private Optional<byte[]> connect(Target target, Set<ScannedKeyType> offer, long budget) {
    ScanSocketFactory socket = new ScanSocketFactory(budget);
    PresentedKeyRecorder recorder = new PresentedKeyRecorder();
    Session session;
    try {
      session = new JSch().getSession(USER, target.address(), target.port());
    } catch (JSchException e) {
      throw new IllegalStateException("JSch refused a session to " + target.where(), e);
    }
    session.setSocketFactory(socket);
    session.setHostKeyRepository(recorder);
    session.setLogger(new JschDebugLogger(target.where()));
    session.setDaemonThread(true);
    session.setConfig("server_host_key", ScannedKeyType.proposal(offer));
    session.setConfig("StrictHostKeyChecking", "yes");
    session.setConfig("prefer_known_host_key_types", "no");
    try {
      session.connect(millis(budget));
    } catch (JSchUnknownHostKeyException e) {
      Optional<byte[]> key = recorder.presented();
      if (key.isEmpty()) {
        throw target.failure(
            Reason.KEY_EXCHANGE_FAILED, "JSch rejected the host key before recording it", e);
      }
      return key;
    } catch (JSchAlgoNegoFailException e) {
      if ("server_host_key".equals(e.getAlgorithmName())) {
        LOG.debug(
            "{} has none of the host key types {}; it offers {}",
            target.where(),
            ScannedKeyType.proposal(offer),
            e.getServerProposal());
        if (offer.size() == ScannedKeyType.values().length) {
          throw target.failure(
              Reason.NO_SUPPORTED_KEY,
              "the server offers no host key type that can be scanned: it offers "
                  + e.getServerProposal()
                  + ", a scan collects "
                  + ScannedKeyType.names(),
              e);
        }
        return Optional.empty();
      }
      throw target.failure(
          Reason.KEY_EXCHANGE_FAILED,
          "the server speaks SSH ("
              + socket.serverVersion().orElse("?")
              + ") but has no "
              + e.getAlgorithmName()
              + " algorithm in common with JSch: it offers "
              + e.getServerProposal()
              + ", JSch "
              + e.getJSchProposal(),
          e);
    } catch (JSchException | RuntimeException e) {
      if (e.getMessage() != null && e.getMessage().startsWith("There are not any available sig")) {
        // This JVM cannot verify any of the offered types (Java 17 can verify all of them).
        LOG.debug("JSch cannot verify {} in this JVM", ScannedKeyType.proposal(offer));
        if (offer.size() == ScannedKeyType.values().length) {
          throw target.failure(
              Reason.NO_SUPPORTED_KEY,
              "this JVM cannot verify any of the host key types " + ScannedKeyType.names(),
              e);
        }
        return Optional.empty();
      }
      throw classify(target, socket, budget, e);
    } finally {
      session.disconnect();
    }
    // Not expected: the recorder rejects every key, so the session cannot get past the check.
    LOG.warn("a scan session to {} got past the host key check", target.where());
    return Optional.of(
        recorder
            .presented()
            .orElseThrow(
                () ->
                    target.failure(
                        Reason.KEY_EXCHANGE_FAILED,
                        "the session connected without presenting a host key",
                        null)));
  }

  /** The machinepool key of a presented blob, which must be of one of the offered types. */
  private static HostKey hostKey(Target target, byte[] blob, Set<ScannedKeyType> offer) {
    Optional<String> type = PoolHostKeyRepository.blobType(blob);
    Optional<ScannedKeyType> scanned = type.flatMap(ScannedKeyType::of);
    if (scanned.isEmpty() || !offer.contains(scanned.get())) {
      throw target.failure(
          Reason.KEY_EXCHANGE_FAILED,
          "the server presented a host key of type "
              + type.orElse("(not a public key blob)")
              + " where "
              + ScannedKeyType.proposal(offer)
              + " was offered",
          null);
    }
    return new HostKey(type.get(), Base64.getEncoder().encodeToString(blob));
  }

  /** Tells the kind of a failed connection from what JSch threw and what the socket saw. */
  private HostKeyScanException classify(
      Target target, ScanSocketFactory socket, long budget, Exception e) {
    for (Throwable cause = e; cause != null; cause = cause.getCause()) {
      String text = String.valueOf(cause.getMessage());
      if (cause instanceof UnknownHostException) {
        return target.failure(
            Reason.UNKNOWN_HOST,
            target.mapped()
                ? "its address " + target.address() + " does not resolve"
                : config == null && !target.name().contains(".")
                    ? "the name does not resolve (is it spelled right? a short name needs the"
                        + " lab's domain: build the scanner with a config that has lab_domain)"
                    : "the name does not resolve (is it spelled right? is it in DNS?)",
            e);
      }
      if (cause instanceof NoRouteToHostException || cause instanceof PortUnreachableException) {
        return target.failure(
            Reason.UNREACHABLE,
            "the host is unreachable: " + text + " (is the machine up and on the network?)",
            e);
      }
      if (cause instanceof ConnectException) {
        if (text.toLowerCase(Locale.ROOT).contains("timed out")) {
          return timeout(target, socket, budget, e);
        }
        if (text.toLowerCase(Locale.ROOT).contains("refused")) {
          return target.failure(
              Reason.REFUSED,
              "connection refused (is sshd running and listening on that port?)",
              e);
        }
        return target.failure(
            Reason.UNREACHABLE,
            "cannot connect: " + text + " (is the machine up and on the network?)",
            e);
      }
      if (cause instanceof SocketTimeoutException) {
        return timeout(target, socket, budget, e);
      }
    }
    if (!socket.connected()) {
      return target.failure(
          Reason.UNREACHABLE,
          "cannot connect: " + rootMessage(e) + " (is the machine up and on the network?)",
          e);
    }
    Optional<String> version = socket.serverVersion();
    if (version.isEmpty()) {
      return notSsh(target, socket, e);
    }
    return target.failure(
        Reason.KEY_EXCHANGE_FAILED,
        "the server speaks SSH ("
            + version.get()
            + ") but the key exchange failed: "
            + rootMessage(e)
            + (e.getMessage() != null && e.getMessage().contains("End of IO Stream")
                ? " (it closed the connection)"
                : ""),
        e);
  }

  private static HostKeyScanException notSsh(Target target, ScanSocketFactory socket, Exception e) {
    Optional<String> line = socket.firstLine();
    String message = String.valueOf(e.getMessage());
    if (message.contains("invalid server's version string")) {
      return target.failure(
          Reason.NOT_SSH,
          "the server sent '"
              + line.orElse("")
              + "', which is not an SSH-2.0 version string (is this the SSH port?)",
          e);
    }
    if (line.isPresent() && line.get().startsWith(MAX_STARTUPS)) {
      return target.failure(
          Reason.THROTTLED,
          "the server turned the connection away: it sent '"
              + line.get()
              + "' and closed it (sshd's MaxStartups: too many connections that have not"
              + " authenticated yet are open to it)",
          e);
    }
    if (line.isPresent()) {
      return target.failure(
          Reason.NOT_SSH,
          "the server does not speak SSH: it sent '"
              + line.get()
              + "' and closed the connection (is this the SSH port?)",
          e);
    }
    return target.failure(
        Reason.NOT_SSH,
        "the server closed the connection without sending an SSH version banner (is this the SSH"
            + " port? sshd also does this when it refuses connections, e.g. beyond MaxStartups)",
        e);
  }

  private HostKeyScanException timeout(
      Target target, ScanSocketFactory socket, long budget, Exception e) {
    String within =
        budget < nanos(connectTimeout)
            ? "within the scan's timeout of " + describe(target.timeout())
            : "within the connect timeout of " + describe(connectTimeout);
    if (!socket.connected()) {
      return target.failure(
          Reason.TIMEOUT,
          "no TCP connection "
              + within
              + " (is the machine up? is a firewall dropping the connection?)",
          e);
    }
    Optional<String> version = socket.serverVersion();
    if (version.isPresent()) {
      return target.failure(
          Reason.TIMEOUT,
          "the server (" + version.get() + ") did not finish the SSH key exchange " + within,
          e);
    }
    Optional<String> line = socket.firstLine();
    return target.failure(
        Reason.TIMEOUT,
        "the TCP connection was accepted but no SSH version banner came "
            + within
            + line.map(l -> ": the server sent '" + l + "'").orElse("")
            + " (is this the SSH port? is sshd overloaded?)",
        e);
  }

  private static String rootMessage(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
  }

  /** Checks the arguments and works out what to connect to. */
  private Target target(String host, int port, Duration timeout) {
    if (host == null) {
      throw new InvalidRequestException("host is null; give the machine's name or address");
    }
    if (host.isBlank()) {
      throw new InvalidRequestException("host is blank; give the machine's name or address");
    }
    if (host.chars().anyMatch(c -> Character.isWhitespace(c) || Character.isISOControl(c))) {
      throw new InvalidRequestException(
          "host '" + host.strip() + "' contains white space or control characters; give a name");
    }
    if (port < 1 || port > 65_535) {
      throw new InvalidRequestException(
          "port " + port + " is not a TCP port; give 1 to 65535 (SSH's is 22)");
    }
    if (timeout == null || timeout.isNegative() || timeout.isZero()) {
      throw new InvalidRequestException(
          "the scan timeout must be positive, e.g. Duration.ofSeconds(30); got " + timeout);
    }
    String name = config == null ? host : config.canonicalize(host);
    if (name.isEmpty()) {
      throw new InvalidRequestException("host '" + host + "' names no machine");
    }
    String address = hostAddress.apply(name);
    if (address == null || address.isBlank()) {
      throw new InvalidRequestException(
          "the hostAddress function mapped "
              + name
              + " to "
              + (address == null ? "null" : "a blank string")
              + "; it must give a host name or address to connect to");
    }
    return new Target(name, address.strip(), port, timeout);
  }

  /** Nanoseconds, saturating for durations too long to count in them. */
  private static long nanos(Duration duration) {
    try {
      return duration.toNanos();
    } catch (ArithmeticException e) {
      return Long.MAX_VALUE;
    }
  }

  private static int millis(long nanos) {
    return (int) Math.max(1, Math.min(Integer.MAX_VALUE, (nanos + 999_999) / 1_000_000));
  }

  /** A duration as people write it: {@code 500 ms}, {@code 10 s}, {@code 1.5 s}, {@code 5 min}. */
  static String describe(Duration duration) {
    long millis = duration.toMillis();
    if (millis < 1_000) {
      return millis + " ms";
    }
    if (millis % 60_000 == 0) {
      return millis / 60_000 + " min";
    }
    if (millis % 1_000 == 0) {
      return millis / 1_000 + " s";
    }
    return String.format(Locale.ROOT, "%.1f s", millis / 1_000.0);
  }

  /** The machine being scanned, and where it is reached. */
  private record Target(String name, String address, int port, Duration timeout) {
    boolean mapped() {
      return !address.equals(name);
    }

    /**
     * {@code name:port} ({@code [name]:port} for an IPv6 address), with the address when the name
     * was mapped to another.
     */
    String where() {
      return hostPort(name) + (mapped() ? " (at " + address + ")" : "");
    }

    /** The server connected to, {@code address:port}: what one connection at a time is per. */
    String server() {
      return hostPort(address);
    }

    private String hostPort(String host) {
      return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }

    HostKeyScanException failure(Reason reason, String what, Throwable cause) {
      return new HostKeyScanException(
          name, reason, "could not scan the host keys of " + where() + ": " + what, what, cause);
    }
  }

  /**
   * Builds a {@link JschHostKeyScanner}. Builders are immutable: each setter returns a new builder,
   * so one builder can be the common start of several scanners. {@link #build()} checks the values.
   */
  public static final class Builder {
    private final Duration connectTimeout;
    private final TeuthologyConfig config;
    private final Function<String, String> hostAddress;
    private final boolean configSet;

    private Builder(
        Duration connectTimeout, TeuthologyConfig config, Function<String, String> hostAddress) {
      this(connectTimeout, config, hostAddress, false);
    }

    private Builder(
        Duration connectTimeout,
        TeuthologyConfig config,
        Function<String, String> hostAddress,
        boolean configSet) {
      this.connectTimeout = connectTimeout;
      this.config = config;
      this.hostAddress = hostAddress;
      this.configSet = configSet;
    }

    /**
     * The longest one connection of a scan may take: the TCP connect, the server's banner and the
     * key exchange (default 10 seconds). A connection gets less when less is left of the scan's
     * timeout.
     *
     * @param value positive
     * @return a builder with this value
     */
    public Builder connectTimeout(Duration value) {
      return new Builder(value, config, hostAddress, configSet);
    }

    /**
     * The teuthology configuration whose {@code lab_domain} completes short machine names (without
     * a dot) before connecting, as {@link TeuthologyConfig#canonicalize(String)} does: {@code
     * vpm011} becomes {@code vpm011.front.sepia.ceph.com}. By default names are used as given.
     *
     * @param value e.g. {@code TeuthologyConfig.load()}
     * @return a builder with this value
     */
    public Builder config(TeuthologyConfig value) {
      return new Builder(connectTimeout, value, hostAddress, true);
    }

    /**
     * Maps a machine's (completed) name to the host name or address to connect to; by default the
     * config's {@code machine_pool.ssh_addresses} entry of the name, else the name itself. For
     * tests and lab simulators whose machines live on loopback. Called once per scan, possibly from
     * several threads at once.
     *
     * @param value the mapping; it must not return {@code null} or a blank string
     * @return a builder with this value
     */
    public Builder hostAddress(Function<String, String> value) {
      return new Builder(connectTimeout, config, value, configSet);
    }

    /**
     * Checks the values and creates the scanner.
     *
     * @return the scanner
     * @throws InvalidRequestException when the connect timeout is not positive, or the config or
     *     the hostAddress function was set to {@code null}
     */
    public JschHostKeyScanner build() {
      if (connectTimeout == null || connectTimeout.isNegative() || connectTimeout.isZero()) {
        throw new InvalidRequestException(
            "connectTimeout must be positive, e.g. Duration.ofSeconds(10) (the default); got "
                + connectTimeout);
      }
      if (configSet && config == null) {
        throw new InvalidRequestException(
            "config is null; pass TeuthologyConfig.load(), or leave config out to use names as"
                + " given");
      }
      if (hostAddress == null) {
        throw new InvalidRequestException(
            "hostAddress is null; leave it out to connect to the machine's name itself");
      }
      TeuthologyConfig configured = config;
      Function<String, String> address =
          hostAddress == NAME_ITSELF && configured != null
              ? name -> configured.sshAddress(name).orElse(name)
              : hostAddress;
      return new JschHostKeyScanner(connectTimeout, config, address);
    }
  }
}
