package io.machinepool.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.jcraft.jsch.HostKeyRepository;
import com.jcraft.jsch.JSchChangedHostKeyException;
import com.jcraft.jsch.Session;
import io.machinepool.HostKey;
import io.machinepool.Lease;
import io.machinepool.LockRequest;
import io.machinepool.Machine;
import io.machinepool.MachinePool;
import io.machinepool.MachineSpec;
import io.machinepool.Provisioner;
import io.machinepool.testing.LogCapture;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.security.KeyPair;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.sshd.common.keyprovider.KeyPairProvider;
import org.apache.sshd.server.SshServer;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The whole host key lifecycle through {@link MachinePool}: a VM slot whose "re-image" starts a
 * real SSH server (Apache MINA SSHD) with a fresh key pair, scanned by {@link JschHostKeyScanner}.
 * The lease carries the key the VM presents; strict sessions through {@link PoolHostKeyRepository}
 * accept it; after unlock and a new lock the VM has another key and the old one is rejected.
 */
@Timeout(60)
class ReimageEndToEndTest {
  /** The tests connect with the key of before the re-image, which the repository warns of. */
  @RegisterExtension
  final LogCapture log =
      new LogCapture().expect("io.machinepool.ssh.PoolHostKeyRepository", "is not the one stored");

  private static final String VM = "vpm011.front.sepia.ceph.com";
  private static final String HOST = "mira001.front.sepia.ceph.com";
  private static final String PASSWORD = "reimaged";

  private final SshVmProvisioner vms = new SshVmProvisioner();
  private MachinePool pool;
  private int port;

  @BeforeEach
  void pool() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = socket.getLocalPort();
    }
    JdbcDataSource ds = new JdbcDataSource();
    ds.setURL("jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
    pool =
        MachinePool.builder()
            .dataSource(ds)
            .releaseOnShutdown(false)
            .provisioner(vms)
            .hostKeyScanner(JschHostKeyScanner.builder().hostAddress(name -> "127.0.0.1").build())
            .sshTimeout(Duration.ofSeconds(20))
            .build();
    pool.inventory()
        .addAll(
            MachineSpec.physical(HOST, "mira").withUp(false),
            MachineSpec.vm(VM, "vps", HOST).withSshPort(port));
  }

  @AfterEach
  void close() {
    pool.close();
    vms.stopAll();
  }

  @Test
  void everyReimageHandsOutTheKeyTheVmHasNowAndTheOldOneIsRejected() throws Exception {
    HostKey first;
    try (Lease lease = lock()) {
      first = presented();
      assertThat(lease.machines().get(0).hostKeys()).contains(first);
      assertThat(lease.targets().hostKeys().get(VM)).isEqualTo(first);
      connect(lease.machines().get(0)).disconnect();
    }
    assertThat(pool.hostKeys().keys(VM)).as("forgotten on unlock").isEmpty();
    assertThat(vms.running()).as("destroyed on unlock").isEmpty();

    try (Lease again = lock()) {
      HostKey second = presented();
      assertThat(second).isNotEqualTo(first);
      assertThat(again.machines().get(0).hostKeys()).containsExactly(second);

      PoolHostKeyRepository repository = new PoolHostKeyRepository(pool.hostKeys());
      assertThat(repository.check("[" + VM + "]:" + port, blob(first)))
          .isEqualTo(HostKeyRepository.CHANGED);
      assertThat(repository.check("[" + VM + "]:" + port, blob(second)))
          .isEqualTo(HostKeyRepository.OK);
      connect(again.machines().get(0)).disconnect();
    }
  }

  @Test
  void aSessionToAVmThatWasReimagedBehindThePoolsBackIsRefused() throws Exception {
    try (Lease lease = lock()) {
      Machine vm = lease.machines().get(0);
      vms.reimageBehindThePoolsBack(vm.name(), port);

      assertThatThrownBy(() -> connect(vm)).isInstanceOf(JSchChangedHostKeyException.class);

      List<Machine> refreshed = pool.refreshHostKeys(List.of(VM));
      assertThat(refreshed.get(0).hostKeys()).containsExactly(presented());
      connect(vm).disconnect();
    }
  }

  private Lease lock() {
    return pool.lock(LockRequest.builder().owner("alice@build7").names(VM).build());
  }

  private HostKey presented() {
    return TestKeys.hostKey(vms.currentKey(VM));
  }

  private Session connect(Machine machine) throws Exception {
    return MachineSessions.builder(pool.hostKeys())
        .user("tester")
        .password(PASSWORD)
        .hostAddress(name -> "127.0.0.1")
        .connectTimeout(Duration.ofSeconds(10))
        .build()
        .open(machine);
  }

  private static byte[] blob(HostKey key) {
    return Base64.getDecoder().decode(key.base64());
  }

  /** "Re-images" a VM by starting an SSH server with a new RSA key pair on its port. */
  private static final class SshVmProvisioner implements Provisioner {
    private final Map<String, SshServer> servers = new ConcurrentHashMap<>();
    private final Map<String, KeyPair> keys = new ConcurrentHashMap<>();

    @Override
    public Machine provision(Machine machine, LockRequest request) {
      start(machine.name(), machine.sshPort());
      return machine.withOs("ubuntu", "24.04", "x86_64");
    }

    @Override
    public void release(Machine machine) {
      stop(machine.name());
    }

    void reimageBehindThePoolsBack(String name, int port) {
      stop(name);
      start(name, port);
    }

    KeyPair currentKey(String name) {
      return keys.get(name);
    }

    List<String> running() {
      return List.copyOf(servers.keySet());
    }

    void stopAll() {
      List.copyOf(servers.keySet()).forEach(this::stop);
    }

    private void start(String name, int port) {
      KeyPair key = TestKeys.rsa();
      SshServer server = SshServer.setUpDefaultServer();
      server.setHost("127.0.0.1");
      server.setPort(port);
      server.setKeyPairProvider(KeyPairProvider.wrap(key));
      server.setPasswordAuthenticator((user, password, session) -> PASSWORD.equals(password));
      try {
        server.start();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      keys.put(name, key);
      servers.put(name, server);
    }

    private void stop(String name) {
      SshServer server = servers.remove(name);
      if (server != null) {
        try {
          server.stop(true);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
    }
  }
}
