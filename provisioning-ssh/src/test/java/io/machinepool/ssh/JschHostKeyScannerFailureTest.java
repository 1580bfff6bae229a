package io.machinepool.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.machinepool.InvalidRequestException;
import io.machinepool.config.TeuthologyConfig;
import io.machinepool.ssh.HostKeyScanException.Reason;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import java.util.stream.Stream;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * How {@link JschHostKeyScanner} fails: against servers that are not SSH, ports nothing listens on,
 * names that do not resolve, and bad arguments. Each failure names the host and port and says what
 * to check.
 */
@Timeout(30)
class JschHostKeyScannerFailureTest {
  private static final String LOOPBACK = "127.0.0.1";
  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  private final List<RawTcpServer> servers = new ArrayList<>();
  private final List<String> asked = new CopyOnWriteArrayList<>();
  private final JschHostKeyScanner scanner =
      JschHostKeyScanner.builder()
          .hostAddress(
              name -> {
                asked.add(name);
                return name;
              })
          .build();

  @AfterEach
  void stop() throws InterruptedException {
    for (RawTcpServer server : servers) {
      server.close();
    }
  }

  @Test
  @Timeout(10)
  void serverThatAcceptsButNeverSpeaksTimesOutWithinTheScanTimeout() throws IOException {
    RawTcpServer server = start(RawTcpServer::silent);

    assertThatThrownBy(() -> scanner.scan(LOOPBACK, server.port(), Duration.ofSeconds(1)))
        .satisfies(
            failure(
                Reason.TIMEOUT,
                "could not scan the host keys of 127.0.0.1:"
                    + server.port()
                    + ": the TCP connection was accepted but no SSH version banner came within"
                    + " the scan's timeout of 1 s"));
  }

  @Test
  @Timeout(10)
  void serverThatSendsSlowlyCannotStretchTheScanPastItsTimeout() throws IOException {
    RawTcpServer server = start(RawTcpServer::drip);

    assertThatThrownBy(() -> scanner.scan(LOOPBACK, server.port(), Duration.ofSeconds(1)))
        .satisfies(
            failure(
                Reason.TIMEOUT,
                "no SSH version banner came within the scan's timeout of 1 s: the server sent"
                    + " '...."));
  }

  @Test
  @Timeout(10)
  void connectTimeoutBoundsEachConnection() throws IOException {
    RawTcpServer server = start(RawTcpServer::silent);
    JschHostKeyScanner quick =
        JschHostKeyScanner.builder().connectTimeout(Duration.ofMillis(500)).build();

    assertThatThrownBy(() -> quick.scan(LOOPBACK, server.port(), Duration.ofMinutes(5)))
        .satisfies(failure(Reason.TIMEOUT, "within the connect timeout of 500 ms"));
  }

  @Test
  @Timeout(10)
  void serverThatDoesNotAcceptTheTcpConnectionTimesOut() throws IOException {
    try (ServerSocket full = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        Backlog backlog = Backlog.fill(full)) {
      assumeTrue(
          backlog.isFull(),
          "the listen queue of a socket that never accepts did not fill up; this system does not"
              + " drop connections beyond the backlog");

      assertThatThrownBy(() -> scanner.scan(LOOPBACK, full.getLocalPort(), Duration.ofSeconds(1)))
          .satisfies(
              failure(
                  Reason.TIMEOUT,
                  "no TCP connection within the scan's timeout of 1 s (is the machine up?"));
    }
  }

  @Test
  void httpServerIsNotSsh() throws IOException {
    RawTcpServer server =
        start(
            RawTcpServer.answerAndClose(
                "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"));

    assertThatThrownBy(() -> scanner.scan(LOOPBACK, server.port(), TIMEOUT))
        .satisfies(
            failure(
                Reason.NOT_SSH,
                "could not scan the host keys of 127.0.0.1:"
                    + server.port()
                    + ": the server does not speak SSH: it sent 'HTTP/1.1 400 Bad Request' and"
                    + " closed the connection (is this the SSH port?)"));
  }

  @Test
  void serverThatClosesWithoutABannerIsNotSsh() throws IOException {
    RawTcpServer server = start(RawTcpServer::closeAfterFirstLine);

    assertThatThrownBy(() -> scanner.scan(LOOPBACK, server.port(), TIMEOUT))
        .satisfies(
            failure(
                Reason.NOT_SSH,
                "the server closed the connection without sending an SSH version banner"));
  }

  @Test
  void sshProtocolOneServerIsNotSsh() throws IOException {
    RawTcpServer server = start(RawTcpServer.answerAndClose("SSH-1.5-OldServer\r\n"));

    assertThatThrownBy(() -> scanner.scan(LOOPBACK, server.port(), TIMEOUT))
        .satisfies(
            failure(
                Reason.NOT_SSH,
                "the server sent 'SSH-1.5-OldServer', which is not an SSH-2.0 version string"));
  }

  @Test
  void serverThatFailsAfterItsBannerFailsTheKeyExchange() throws IOException {
    RawTcpServer server = start(RawTcpServer.answerAndClose("SSH-2.0-Broken_1.0\r\n"));

    assertThatThrownBy(() -> scanner.scan(LOOPBACK, server.port(), TIMEOUT))
        .satisfies(
            failure(
                Reason.KEY_EXCHANGE_FAILED,
                "the server speaks SSH (SSH-2.0-Broken_1.0) but the key exchange failed"));
  }

  @Test
  void closedPortIsRefused() throws IOException {
    int port = closedPort();

    assertThatThrownBy(() -> scanner.scan(LOOPBACK, port, TIMEOUT))
        .satisfies(
            failure(
                Reason.REFUSED,
                "could not scan the host keys of 127.0.0.1:"
                    + port
                    + ": connection refused (is sshd running and listening on that port?)"));
  }

  @Test
  void nameThatDoesNotResolveIsAnUnknownHost() {
    assertThatThrownBy(() -> scanner.scan("no-such-host.invalid", 22, TIMEOUT))
        .satisfies(
            failure(
                Reason.UNKNOWN_HOST,
                "could not scan the host keys of no-such-host.invalid:22: the name does not"
                    + " resolve"));
  }

  @Test
  void mappedAddressThatDoesNotResolveIsAnUnknownHost() {
    JschHostKeyScanner lab =
        JschHostKeyScanner.builder()
            .config(TeuthologyConfig.parse("lab_domain: front.example.com\n", null))
            .hostAddress(name -> "no-such-host.invalid")
            .build();

    assertThatThrownBy(() -> lab.scan("vpm011", 22, TIMEOUT))
        .satisfies(
            failure(
                Reason.UNKNOWN_HOST,
                "could not scan the host keys of vpm011.front.example.com:22 (at"
                    + " no-such-host.invalid): its address no-such-host.invalid does not"
                    + " resolve"));
  }

  @Test
  void broadcastAddressIsUnreachable() {
    assumeTrue(
        System.getProperty("os.name").toLowerCase(Locale.ROOT).contains("linux"),
        "Linux refuses TCP connections to a broadcast address as unreachable; other systems may"
            + " not");

    assertThatThrownBy(() -> scanner.scan("255.255.255.255", 22, TIMEOUT))
        .satisfies(
            failure(
                Reason.UNREACHABLE,
                "could not scan the host keys of 255.255.255.255:22: cannot connect: Network is"
                    + " unreachable"));
  }

  static Stream<Arguments> badArguments() {
    Duration ok = Duration.ofSeconds(1);
    return Stream.of(
        Arguments.of("null host", null, 22, ok, "host is null"),
        Arguments.of("blank host", "  ", 22, ok, "host is blank"),
        Arguments.of("host with a newline", "vpm011\nx", 22, ok, "white space or control"),
        Arguments.of("port 0", "vpm011", 0, ok, "port 0 is not a TCP port"),
        Arguments.of("port 65536", "vpm011", 65_536, ok, "port 65536 is not a TCP port"),
        Arguments.of("null timeout", "vpm011", 22, null, "timeout must be positive"),
        Arguments.of("zero timeout", "vpm011", 22, Duration.ZERO, "timeout must be positive"),
        Arguments.of(
            "negative timeout", "vpm011", 22, Duration.ofSeconds(-1), "timeout must be positive"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badArguments")
  void badArgumentsAreRejectedBeforeAnythingIsConnected(
      String what, String host, int port, Duration timeout, String message) {
    assertThatThrownBy(() -> scanner.scan(host, port, timeout))
        .isExactlyInstanceOf(InvalidRequestException.class)
        .hasMessageContaining(message);
    assertThat(asked).isEmpty();
  }

  static Stream<Arguments> badAddresses() {
    return Stream.of(
        Arguments.of("null", (Function<String, String>) name -> null),
        Arguments.of("a blank string", (Function<String, String>) name -> " "));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badAddresses")
  void hostAddressThatGivesNoAddressIsRejected(String what, Function<String, String> address) {
    JschHostKeyScanner lab = JschHostKeyScanner.builder().hostAddress(address).build();

    assertThatThrownBy(() -> lab.scan("vpm011", 22, TIMEOUT))
        .isExactlyInstanceOf(InvalidRequestException.class)
        .hasMessageContaining("the hostAddress function mapped vpm011 to " + what);
  }

  static Stream<Arguments> badBuilders() {
    JschHostKeyScanner.Builder builder = JschHostKeyScanner.builder();
    return Stream.of(
        Arguments.of(
            "null connect timeout",
            (ThrowingCallable) () -> builder.connectTimeout(null).build(),
            "connectTimeout must be positive"),
        Arguments.of(
            "zero connect timeout",
            (ThrowingCallable) () -> builder.connectTimeout(Duration.ZERO).build(),
            "connectTimeout must be positive"),
        Arguments.of(
            "negative connect timeout",
            (ThrowingCallable) () -> builder.connectTimeout(Duration.ofMillis(-5)).build(),
            "connectTimeout must be positive"),
        Arguments.of(
            "null config", (ThrowingCallable) () -> builder.config(null).build(), "config is null"),
        Arguments.of(
            "null hostAddress",
            (ThrowingCallable) () -> builder.hostAddress(null).build(),
            "hostAddress is null"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badBuilders")
  void badBuilderValuesAreRejectedByBuild(String what, ThrowingCallable build, String message) {
    assertThatThrownBy(build)
        .isExactlyInstanceOf(InvalidRequestException.class)
        .hasMessageContaining(message);
  }

  @Test
  void buildersAreImmutable() throws IOException {
    JschHostKeyScanner.Builder base = JschHostKeyScanner.builder();
    JschHostKeyScanner.Builder broken = base.connectTimeout(Duration.ZERO);

    assertThat(broken).isNotSameAs(base);
    assertThatThrownBy(broken::build).isInstanceOf(InvalidRequestException.class);
    int port = closedPort();
    assertThatThrownBy(() -> base.build().scan(LOOPBACK, port, TIMEOUT))
        .isInstanceOf(HostKeyScanException.class);
  }

  private static java.util.function.Consumer<Throwable> failure(Reason reason, String message) {
    return thrown ->
        assertThat(thrown)
            .isInstanceOfSatisfying(
                HostKeyScanException.class,
                e -> {
                  assertThat(e.reason()).isEqualTo(reason);
                  assertThat(e.getMessage()).contains(message);
                });
  }

  private RawTcpServer start(RawTcpServer.Handler handler) throws IOException {
    RawTcpServer server = RawTcpServer.start(handler);
    servers.add(server);
    return server;
  }

  private static int closedPort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  /** Connections that fill the listen queue of a socket that never accepts. */
  private static final class Backlog implements AutoCloseable {
    private final List<Socket> sockets = new ArrayList<>();
    private boolean full;

    static Backlog fill(ServerSocket server) throws IOException {
      Backlog backlog = new Backlog();
      for (int i = 0; i < 16 && !backlog.full; i++) {
        Socket socket = new Socket();
        try {
          socket.connect(new InetSocketAddress(LOOPBACK, server.getLocalPort()), 200);
          backlog.sockets.add(socket);
        } catch (SocketTimeoutException e) {
          socket.close();
          backlog.full = true;
        }
      }
      return backlog;
    }

    boolean isFull() {
      return full;
    }

    @Override
    public void close() throws IOException {
      for (Socket socket : sockets) {
        socket.close();
      }
    }
  }
}
