package io.machinepool.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.jcraft.jsch.JSch;
import com.jcraft.jsch.JSchChangedHostKeyException;
import com.jcraft.jsch.JSchException;
import com.jcraft.jsch.JSchUnknownHostKeyException;
import com.jcraft.jsch.Session;
import io.machinepool.HostKeyStore;
import io.machinepool.MachinePool;
import io.machinepool.MachineSpec;
import io.machinepool.testing.LogCapture;
import java.io.IOException;
import java.security.KeyPair;
import java.util.List;
import java.util.UUID;
import org.apache.sshd.common.keyprovider.KeyPairProvider;
import org.apache.sshd.server.SshServer;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * JSch with {@code StrictHostKeyChecking=yes} and a {@link PoolHostKeyRepository}, connecting to a
 * real Apache MINA SSHD server on loopback: the stored key lets the connection through, an unknown
 * or a changed key stops it with JSch's own exceptions.
 */
class StrictHostKeyCheckingEndToEndTest {
  /** Some tests connect to a re-imaged host with its old key, which the repository warns of. */
  @RegisterExtension
  final LogCapture log =
      new LogCapture().expect("io.machinepool.ssh.PoolHostKeyRepository", "is not the one stored");

  /** The machine's name is the address JSch connects to, as the store is keyed by name. */
  private static final String MACHINE = "127.0.0.1";

  private static final String PASSWORD = "secret";

  private MachinePool pool;
  private HostKeyStore store;
  private SshServer server;

  @BeforeEach
  void pool() {
    JdbcDataSource ds = new JdbcDataSource();
    ds.setURL("jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
    pool = MachinePool.builder().dataSource(ds).releaseOnShutdown(false).build();
    pool.inventory().add(MachineSpec.physical(MACHINE, "vps"));
    store = pool.hostKeys();
  }

  @AfterEach
  void stop() throws IOException {
    if (server != null) {
      server.stop(true);
    }
    pool.close();
  }

  @Test
  void storedKeyLetsTheConnectionThrough() throws Exception {
    KeyPair hostKey = TestKeys.rsa();
    start(hostKey);
    store.replace(MACHINE, List.of(TestKeys.hostKey(hostKey)));

    Session session = connect();
    try {
      assertThat(session.isConnected()).isTrue();
      assertThat(session.getHostKey().getKey()).isEqualTo(TestKeys.hostKey(hostKey).base64());
    } finally {
      session.disconnect();
    }
  }

  @Test
  void wrongPasswordFailsAuthenticationNotTheHostKeyCheck() throws Exception {
    KeyPair hostKey = TestKeys.ecdsa256();
    start(hostKey);
    store.replace(MACHINE, List.of(TestKeys.hostKey(hostKey)));

    assertThatThrownBy(() -> connect("wrong"))
        .isInstanceOf(JSchException.class)
        .isNotInstanceOf(JSchUnknownHostKeyException.class)
        .isNotInstanceOf(JSchChangedHostKeyException.class)
        .hasMessageContaining("Auth fail");
  }

  @Test
  void unknownHostIsRejected() {
    start(TestKeys.rsa());

    assertThatThrownBy(this::connect)
        .isInstanceOf(JSchUnknownHostKeyException.class)
        .hasMessageContaining(MACHINE);
  }

  @Test
  void reimagedHostWithANewKeyIsRejectedAsChanged() {
    KeyPair before = TestKeys.rsa();
    store.replace(MACHINE, List.of(TestKeys.hostKey(before)));
    start(TestKeys.rsa());

    assertThatThrownBy(this::connect)
        .isInstanceOf(JSchChangedHostKeyException.class)
        .hasMessageContaining(MACHINE);
  }

  @Test
  void keyOfATypeThatIsNotStoredIsRejectedAsUnknown() {
    store.replace(MACHINE, List.of(TestKeys.hostKey(TestKeys.rsa())));
    start(TestKeys.ecdsa256());

    assertThatThrownBy(this::connect).isInstanceOf(JSchUnknownHostKeyException.class);
  }

  @Test
  void jschNegotiatesTheStoredKeyTypeWhenTheServerOffersSeveral() throws Exception {
    KeyPair rsa = TestKeys.rsa();
    start(TestKeys.ecdsa256(), rsa);
    store.replace(MACHINE, List.of(TestKeys.hostKey(rsa)));

    Session session = connect();
    try {
      assertThat(session.getHostKey().getType()).isEqualTo("ssh-rsa");
    } finally {
      session.disconnect();
    }
  }

  @Test
  void keyRecordedAfterAReimageIsAcceptedAndTheOldOneRejected() throws Exception {
    KeyPair first = TestKeys.rsa();
    start(first);
    store.replace(MACHINE, List.of(TestKeys.hostKey(first)));
    connect().disconnect();

    server.stop(true);
    KeyPair second = TestKeys.rsa();
    start(second);
    assertThatThrownBy(this::connect).isInstanceOf(JSchChangedHostKeyException.class);

    store.replace(MACHINE, List.of(TestKeys.hostKey(second)));
    Session session = connect();
    try {
      assertThat(session.getHostKey().getKey()).isEqualTo(TestKeys.hostKey(second).base64());
    } finally {
      session.disconnect();
    }
  }

  private void start(KeyPair... hostKeys) {
    server = SshServer.setUpDefaultServer();
    server.setHost(MACHINE);
    server.setPort(0);
    server.setKeyPairProvider(KeyPairProvider.wrap(hostKeys));
    server.setPasswordAuthenticator((user, password, session) -> PASSWORD.equals(password));
    try {
      server.start();
    } catch (IOException e) {
      throw new IllegalStateException("cannot start the SSH server", e);
    }
  }

  private Session connect() throws JSchException {
    return connect(PASSWORD);
  }

  private Session connect(String password) throws JSchException {
    JSch jsch = new JSch();
    jsch.setHostKeyRepository(new PoolHostKeyRepository(store));
    Session session = jsch.getSession("tester", MACHINE, server.getPort());
    session.setConfig("StrictHostKeyChecking", "yes");
    session.setConfig("PreferredAuthentications", "password");
    session.setPassword(password);
    session.connect(10_000);
    return session;
  }
}
