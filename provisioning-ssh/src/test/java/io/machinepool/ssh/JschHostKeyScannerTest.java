package io.machinepool.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.machinepool.HostKey;
import io.machinepool.ProvisioningException;
import io.machinepool.config.TeuthologyConfig;
import io.machinepool.ssh.HostKeyScanException.Reason;
import java.io.IOException;
import java.security.KeyPair;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.apache.sshd.common.NamedFactory;
import org.apache.sshd.common.keyprovider.KeyPairProvider;
import org.apache.sshd.common.session.Session;
import org.apache.sshd.common.session.SessionListener;
import org.apache.sshd.common.signature.BuiltinSignatures;
import org.apache.sshd.common.signature.Signature;
import org.apache.sshd.server.SshServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link JschHostKeyScanner} against real Apache MINA SSHD servers on loopback (with the {@code
 * net.i2p} EdDSA provider on the test class path, so that MINA serves ed25519 host keys too).
 */
@Timeout(60)
class JschHostKeyScannerTest {
  private static final String LOOPBACK = "127.0.0.1";
  private static final Duration TIMEOUT = Duration.ofSeconds(20);

  private static final KeyPair ED25519 = TestKeys.minaEd25519();
  private static final KeyPair ECDSA_256 = TestKeys.ecdsa256();
  private static final KeyPair ECDSA_384 = TestKeys.ecdsa384();
  private static final KeyPair ECDSA_521 = TestKeys.ecdsa521();
  private static final KeyPair RSA = TestKeys.rsa();

  private final List<SshServer> servers = new ArrayList<>();
  private final List<RawTcpServer> rawServers = new ArrayList<>();
  private final JschHostKeyScanner scanner = new JschHostKeyScanner();

  @AfterEach
  void stop() throws Exception {
    for (SshServer server : servers) {
      server.stop(true);
    }
    for (RawTcpServer server : rawServers) {
      server.close();
    }
  }

  @Test
  void collectsEveryKeyTypeTheServerOffersInTheScannersOrder() {
    SshServer server = start(0, RSA, ECDSA_521, ED25519, ECDSA_256);

    List<HostKey> keys = scanner.scan(LOOPBACK, server.getPort(), TIMEOUT);

    assertThat(keys)
        .containsExactly(
            TestKeys.hostKey(ED25519),
            TestKeys.hostKey(ECDSA_256),
            TestKeys.hostKey(ECDSA_521),
            TestKeys.hostKey(RSA));
  }

  static Stream<Arguments> singleKeys() {
    return Stream.of(
        Arguments.of("ssh-ed25519", ED25519),
        Arguments.of("ecdsa-sha2-nistp256", ECDSA_256),
        Arguments.of("ecdsa-sha2-nistp384", ECDSA_384),
        Arguments.of("ecdsa-sha2-nistp521", ECDSA_521),
        Arguments.of("ssh-rsa", RSA));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("singleKeys")
  void scansAServerWithASingleHostKey(String type, KeyPair key) {
    SshServer server = start(0, key);

    List<HostKey> keys = scanner.scan(LOOPBACK, server.getPort(), TIMEOUT);

    assertThat(keys).containsExactly(TestKeys.hostKey(key));
    assertThat(keys.get(0).type()).isEqualTo(type);
  }

  static Stream<Arguments> rsaSignatures() {
    return Stream.of(
        Arguments.of(BuiltinSignatures.rsaSHA512),
        Arguments.of(BuiltinSignatures.rsaSHA256),
        Arguments.of(BuiltinSignatures.rsa));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("rsaSignatures")
  void namesAnRsaKeySshRsaWhicheverSignatureAlgorithmTheServerAllows(BuiltinSignatures signature) {
    SshServer server = configure(0, RSA);
    server.setSignatureFactories(List.<NamedFactory<Signature>>of(signature));
    startServer(server);

    List<HostKey> keys = scanner.scan(LOOPBACK, server.getPort(), TIMEOUT);

    assertThat(keys).containsExactly(TestKeys.hostKey(RSA));
    assertThat(keys.get(0).type()).isEqualTo("ssh-rsa");
  }

  @Test
  void opensOneConnectionPerKeyTypeAndOneMoreAndNeverAuthenticates() {
    SshServer server = configure(0, ECDSA_256, ECDSA_384, RSA);
    AtomicInteger sessions = new AtomicInteger();
    List<SessionListener.Event> events = new CopyOnWriteArrayList<>();
    server.addSessionListener(
        new SessionListener() {
          @Override
          public void sessionCreated(Session session) {
            sessions.incrementAndGet();
          }

          @Override
          public void sessionEvent(Session session, Event event) {
            events.add(event);
          }
        });
    startServer(server);

    List<HostKey> keys = scanner.scan(LOOPBACK, server.getPort(), TIMEOUT);

    assertThat(keys).hasSize(3);
    assertThat(sessions).hasValue(4);
    assertThat(events)
        .doesNotContain(SessionListener.Event.KeyEstablished, SessionListener.Event.Authenticated);
  }

  @Test
  void returnsTheNewKeyAfterTheServerIsReimagedOnTheSamePort() throws IOException {
    KeyPair before = TestKeys.ecdsa256();
    KeyPair after = TestKeys.ecdsa256();
    SshServer first = start(0, before);
    int port = first.getPort();
    assertThat(scanner.scan(LOOPBACK, port, TIMEOUT)).containsExactly(TestKeys.hostKey(before));

    first.stop(true);
    start(port, after);

    assertThat(scanner.scan(LOOPBACK, port, TIMEOUT)).containsExactly(TestKeys.hostKey(after));
  }

  @Test
  void completesShortNamesWithTheLabDomainAndConnectsToTheMappedAddress() {
    SshServer server = start(0, ECDSA_256);
    List<String> asked = new CopyOnWriteArrayList<>();
    JschHostKeyScanner lab =
        JschHostKeyScanner.builder()
            .config(TeuthologyConfig.parse("lab_domain: front.example.com\n", null))
            .hostAddress(
                name -> {
                  asked.add(name);
                  return LOOPBACK;
                })
            .build();

    assertThat(lab.scan("vpm011", server.getPort(), TIMEOUT))
        .containsExactly(TestKeys.hostKey(ECDSA_256));
    assertThat(lab.scan("vpm012.other.example.org", server.getPort(), TIMEOUT))
        .containsExactly(TestKeys.hostKey(ECDSA_256));

    assertThat(asked).containsExactly("vpm011.front.example.com", "vpm012.other.example.org");
  }

  @Test
  void theConfigsSshAddressesSayWhereAMachineIsReached() {
    SshServer server = start(0, ECDSA_256);
    JschHostKeyScanner lab =
        JschHostKeyScanner.builder()
            .config(
                TeuthologyConfig.parse(
                    "lab_domain: front.example.com\nmachine_pool:\n  ssh_addresses:\n"
                        + "    vpm011.front.example.com: 127.0.0.1\n",
                    null))
            .build();

    assertThat(lab.scan("vpm011", server.getPort(), TIMEOUT))
        .containsExactly(TestKeys.hostKey(ECDSA_256));
    assertThatThrownBy(() -> lab.scan("vpm012", server.getPort(), TIMEOUT))
        .isInstanceOf(HostKeyScanException.class)
        .hasMessageContaining("vpm012.front.example.com");
  }

  @Test
  void usesNamesAsGivenWithoutAConfig() {
    SshServer server = start(0, ECDSA_256);
    List<String> asked = new CopyOnWriteArrayList<>();
    JschHostKeyScanner lab =
        JschHostKeyScanner.builder()
            .hostAddress(
                name -> {
                  asked.add(name);
                  return LOOPBACK;
                })
            .build();

    assertThat(lab.scan("vpm011", server.getPort(), TIMEOUT)).hasSize(1);

    assertThat(asked).containsExactly("vpm011");
  }

  @Test
  void failureMessagesNameTheMachineAndItsAddress() throws IOException {
    int closed = closedPort();
    JschHostKeyScanner lab =
        JschHostKeyScanner.builder()
            .config(TeuthologyConfig.parse("lab_domain: front.example.com\n", null))
            .hostAddress(name -> LOOPBACK)
            .build();

    assertThatThrownBy(() -> lab.scan("vpm011", closed, TIMEOUT))
        .isInstanceOfSatisfying(
            HostKeyScanException.class,
            e -> {
              assertThat(e.reason()).isEqualTo(Reason.REFUSED);
              assertThat(e.machine()).isEqualTo("vpm011.front.example.com");
              assertThat(e.getMessage())
                  .isEqualTo(
                      "could not scan the host keys of vpm011.front.example.com:"
                          + closed
                          + " (at 127.0.0.1): connection refused (is sshd running and listening"
                          + " on that port?)");
            });
  }

  @Test
  void scansManyServersAtOnceWithOneScanner() throws Exception {
    List<KeyPair> keys = List.of(ECDSA_256, ECDSA_384, ECDSA_521, RSA);
    List<SshServer> started = new ArrayList<>();
    for (KeyPair key : keys) {
      started.add(start(0, key));
    }
    ExecutorService threads = Executors.newFixedThreadPool(8);
    try {
      List<Callable<List<HostKey>>> scans = new ArrayList<>();
      for (int round = 0; round < 3; round++) {
        for (SshServer server : started) {
          scans.add(() -> scanner.scan(LOOPBACK, server.getPort(), TIMEOUT));
        }
      }
      List<Future<List<HostKey>>> results = threads.invokeAll(scans, 50, TimeUnit.SECONDS);

      for (int i = 0; i < results.size(); i++) {
        KeyPair expected = keys.get(i % keys.size());
        assertThat(results.get(i).get()).containsExactly(TestKeys.hostKey(expected));
      }
    } finally {
      threads.shutdownNow();
    }
  }

  @Test
  void failsWithNoSupportedKeyWhenTheServerOffersOnlyTypesThatAreNotScanned() {
    SshServer server = configure(0, TestKeys.dsa());
    server.setSignatureFactories(List.<NamedFactory<Signature>>of(BuiltinSignatures.dsa));
    startServer(server);

    assertThatThrownBy(() -> scanner.scan(LOOPBACK, server.getPort(), TIMEOUT))
        .isInstanceOfSatisfying(
            HostKeyScanException.class,
            e -> {
              assertThat(e.reason()).isEqualTo(Reason.NO_SUPPORTED_KEY);
              assertThat(e.getMessage())
                  .startsWith("could not scan the host keys of 127.0.0.1:" + server.getPort())
                  .contains("it offers ssh-dss")
                  .contains("ssh-ed25519, ecdsa-sha2-nistp256");
            });
  }

  @Test
  void aFailureOnALaterConnectionThrowsRatherThanReturnTheKeysCollectedSoFar() throws Exception {
    SshServer server = start(0, ECDSA_256, RSA);
    RawTcpServer proxy =
        raw(
            RawTcpServer.forwardingFirst(
                server.getPort(), RawTcpServer.answerAndClose("HTTP/1.1 400 Bad Request\r\n\r\n")));

    assertThatThrownBy(() -> scanner.scan(LOOPBACK, proxy.port(), TIMEOUT))
        .isInstanceOfSatisfying(
            HostKeyScanException.class,
            e -> {
              assertThat(e.reason()).isEqualTo(Reason.NOT_SSH);
              assertThat(e).isInstanceOf(ProvisioningException.class);
            });
    assertThat(proxy.accepted()).isEqualTo(2);
  }

  @Test
  @Timeout(15)
  void theScanTimeoutBoundsEveryConnectionTogether() throws Exception {
    SshServer server = start(0, ECDSA_256, RSA);
    RawTcpServer proxy = raw(RawTcpServer.forwardingFirst(server.getPort(), RawTcpServer::silent));
    JschHostKeyScanner patient =
        JschHostKeyScanner.builder().connectTimeout(Duration.ofMinutes(5)).build();

    assertThatThrownBy(() -> patient.scan(LOOPBACK, proxy.port(), Duration.ofSeconds(2)))
        .isInstanceOfSatisfying(
            HostKeyScanException.class,
            e -> {
              assertThat(e.reason()).isEqualTo(Reason.TIMEOUT);
              assertThat(e.getMessage()).contains("within the scan's timeout of 2 s");
            });
    assertThat(proxy.accepted()).isEqualTo(2);
  }

  @Test
  void connectionsTurnedAwayWithExceededMaxStartupsAreTriedAgain() throws Exception {
    SshServer server = start(0, ECDSA_256, RSA);
    RawTcpServer proxy =
        raw(
            RawTcpServer.forwardingAfter(
                2, RawTcpServer.answerAndClose("Exceeded MaxStartups\r\n"), server.getPort()));

    List<HostKey> keys = scanner.scan(LOOPBACK, proxy.port(), TIMEOUT);

    assertThat(keys).extracting(HostKey::type).containsExactly("ecdsa-sha2-nistp256", "ssh-rsa");
    assertThat(proxy.accepted()).isEqualTo(2 + 3);
  }

  @Test
  void aServerThatKeepsTurningConnectionsAwayFailsThrottledWithinTheScanTimeout() throws Exception {
    RawTcpServer busy =
        raw(RawTcpServer.start(RawTcpServer.answerAndClose("Exceeded MaxStartups\r\n")));

    long started = System.nanoTime();
    assertThatThrownBy(() -> scanner.scan(LOOPBACK, busy.port(), Duration.ofSeconds(1)))
        .isInstanceOfSatisfying(
            HostKeyScanException.class,
            e -> {
              assertThat(e.reason()).isEqualTo(Reason.THROTTLED);
              assertThat(e.getMessage())
                  .startsWith("could not scan the host keys of 127.0.0.1:" + busy.port() + ": ")
                  .contains("it sent 'Exceeded MaxStartups'")
                  .contains("sshd's MaxStartups")
                  .contains("the scan's timeout of 1 s leaves no time to try again");
            });
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(1));
    assertThat(busy.accepted()).isGreaterThan(1);
  }

  @Test
  void retriesOfConnectionsTurnedAwayAreBoundedEvenWithTimeLeft() throws Exception {
    RawTcpServer busy =
        raw(RawTcpServer.start(RawTcpServer.answerAndClose("Exceeded MaxStartups\r\n")));

    assertThatThrownBy(() -> scanner.scan(LOOPBACK, busy.port(), Duration.ofMinutes(5)))
        .isInstanceOfSatisfying(
            HostKeyScanException.class,
            e -> {
              assertThat(e.reason()).isEqualTo(Reason.THROTTLED);
              assertThat(e.getMessage())
                  .contains(
                      "turned away "
                          + (JschHostKeyScanner.MAX_THROTTLED_RETRIES + 1)
                          + " times, the most a scan retries");
            });
    assertThat(busy.accepted()).isEqualTo(JschHostKeyScanner.MAX_THROTTLED_RETRIES + 1);
  }

  private RawTcpServer raw(RawTcpServer server) {
    rawServers.add(server);
    return server;
  }

  private static int closedPort() throws IOException {
    try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  private SshServer start(int port, KeyPair... hostKeys) {
    return startServer(configure(port, hostKeys));
  }

  private SshServer configure(int port, KeyPair... hostKeys) {
    SshServer server = SshServer.setUpDefaultServer();
    server.setHost(LOOPBACK);
    server.setPort(port);
    server.setKeyPairProvider(KeyPairProvider.wrap(hostKeys));
    server.setPasswordAuthenticator((user, password, session) -> false);
    servers.add(server);
    return server;
  }

  private static SshServer startServer(SshServer server) {
    try {
      server.start();
    } catch (IOException e) {
      throw new IllegalStateException("cannot start the SSH server", e);
    }
    return server;
  }
}
