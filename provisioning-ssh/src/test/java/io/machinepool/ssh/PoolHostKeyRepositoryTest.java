package io.machinepool.ssh;

import static com.jcraft.jsch.HostKeyRepository.CHANGED;
import static com.jcraft.jsch.HostKeyRepository.NOT_INCLUDED;
import static com.jcraft.jsch.HostKeyRepository.OK;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.jcraft.jsch.HostKey;
import io.machinepool.HostKeyStore;
import io.machinepool.MachinePool;
import io.machinepool.MachineSpec;
import io.machinepool.testing.LogCapture;
import java.security.KeyPair;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class PoolHostKeyRepositoryTest {
  /** Each test presents keys that must be refused, which the repository warns of. */
  @RegisterExtension
  final LogCapture log =
      new LogCapture()
          .expect("io.machinepool.ssh.PoolHostKeyRepository", "is not the one stored")
          .expect("io.machinepool.ssh.PoolHostKeyRepository", "not recording the")
          .expect("io.machinepool.ssh.PoolHostKeyRepository", "is not an SSH public key blob");

  private static final String VM = "vpm011.front.sepia.ceph.com";
  private static final String OTHER = "vpm012.front.sepia.ceph.com";

  private static final KeyPair ED25519 = TestKeys.ed25519();
  private static final KeyPair RSA = TestKeys.rsa();
  private static final KeyPair ECDSA = TestKeys.ecdsa256();

  private MachinePool pool;
  private HostKeyStore store;
  private PoolHostKeyRepository repository;

  @BeforeEach
  void pool() {
    JdbcDataSource ds = new JdbcDataSource();
    ds.setURL("jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
    pool = MachinePool.builder().dataSource(ds).releaseOnShutdown(false).build();
    pool.inventory().add(MachineSpec.vm(VM, "vps", "mira001.front.sepia.ceph.com"));
    pool.inventory().add(MachineSpec.physical(OTHER, "vps"));
    store = pool.hostKeys();
    repository = new PoolHostKeyRepository(store);
  }

  @AfterEach
  void close() {
    pool.close();
  }

  // --- check ---

  @Test
  void storedKeyOfThatTypeIsOk() {
    store.replace(VM, List.of(TestKeys.hostKey(ED25519), TestKeys.hostKey(RSA)));

    assertThat(repository.check(VM, blob(ED25519))).isEqualTo(OK);
    assertThat(repository.check(VM, blob(RSA))).isEqualTo(OK);
  }

  @Test
  void ecdsaKeyIsCheckedLikeAnyOther() {
    store.replace(VM, List.of(TestKeys.hostKey(ECDSA)));

    assertThat(repository.check(VM, blob(ECDSA))).isEqualTo(OK);
    assertThat(repository.check(VM, blob(TestKeys.ecdsa256()))).isEqualTo(CHANGED);
  }

  @Test
  void differentKeyOfAStoredTypeIsChanged() {
    store.replace(VM, List.of(TestKeys.hostKey(ED25519), TestKeys.hostKey(RSA)));

    assertThat(repository.check(VM, blob(TestKeys.ed25519()))).isEqualTo(CHANGED);
    assertThat(repository.check(VM, blob(TestKeys.rsa()))).isEqualTo(CHANGED);
    assertThat(
            log.entries(
                "io.machinepool.ssh.PoolHostKeyRepository", "is not the one stored for " + VM))
        .extracting(LogCapture.Entry::level)
        .containsExactly("WARN", "WARN");
  }

  @Test
  void keyOfAnotherMachineIsChanged() {
    store.replace(VM, List.of(TestKeys.hostKey(ED25519)));
    KeyPair others = TestKeys.ed25519();
    store.replace(OTHER, List.of(TestKeys.hostKey(others)));

    assertThat(repository.check(VM, blob(others))).isEqualTo(CHANGED);
  }

  @Test
  void machineWithoutStoredKeysIsNotIncluded() {
    assertThat(repository.check(VM, blob(ED25519))).isEqualTo(NOT_INCLUDED);
  }

  @Test
  void machineOutsideTheInventoryIsNotIncluded() {
    assertThat(repository.check("stranger.example.com", blob(ED25519))).isEqualTo(NOT_INCLUDED);
  }

  @Test
  void keyOfATypeNotStoredIsNotIncludedEvenWhenOtherTypesAre() {
    store.replace(VM, List.of(TestKeys.hostKey(ED25519)));

    assertThat(repository.check(VM, blob(RSA))).isEqualTo(NOT_INCLUDED);
  }

  @Test
  void replacedKeysAreCheckedFromThenOn() {
    store.replace(VM, List.of(TestKeys.hostKey(ED25519)));
    KeyPair reimaged = TestKeys.ed25519();
    store.replace(VM, List.of(TestKeys.hostKey(reimaged)));

    assertThat(repository.check(VM, blob(reimaged))).isEqualTo(OK);
    assertThat(repository.check(VM, blob(ED25519))).isEqualTo(CHANGED);
  }

  @Test
  void bracketedHostWithPortIsCheckedAsTheMachine() {
    store.replace(VM, List.of(TestKeys.hostKey(ED25519)));

    assertThat(repository.check("[" + VM + "]:2222", blob(ED25519))).isEqualTo(OK);
    assertThat(repository.check("[" + VM + "]:2222", blob(TestKeys.ed25519()))).isEqualTo(CHANGED);
  }

  @Test
  void hostNameIsNotStrippedUnlessItIsTheBracketedPortForm() {
    assertThat(PoolHostKeyRepository.machineName("[" + VM + "]:22")).isEqualTo(VM);
    assertThat(PoolHostKeyRepository.machineName("[::1]:2222")).isEqualTo("::1");
    assertThat(PoolHostKeyRepository.machineName(VM)).isEqualTo(VM);
    assertThat(PoolHostKeyRepository.machineName("[]:22")).isEqualTo("[]:22");
    assertThat(PoolHostKeyRepository.machineName("[" + VM)).isEqualTo("[" + VM);
  }

  @Test
  void malformedKeyBlobOrMissingHostIsNotIncluded() {
    store.replace(VM, List.of(TestKeys.hostKey(ED25519)));

    assertThat(repository.check(VM, new byte[] {0, 0})).isEqualTo(NOT_INCLUDED);
    assertThat(repository.check(VM, new byte[] {0x7f, 0, 0, 0, 1})).isEqualTo(NOT_INCLUDED);
    assertThat(repository.check(VM, null)).isEqualTo(NOT_INCLUDED);
    assertThat(repository.check(null, blob(ED25519))).isEqualTo(NOT_INCLUDED);
  }

  @Test
  void truncatedKeyOfAStoredTypeIsChanged() {
    store.replace(VM, List.of(TestKeys.hostKey(ED25519)));
    byte[] full = blob(ED25519);

    assertThat(repository.check(VM, Arrays.copyOf(full, full.length - 1))).isEqualTo(CHANGED);
  }

  // --- add ---

  @Test
  void addStoresNothingSoTheKeyStaysUnknown() throws Exception {
    repository.add(new HostKey(VM, blob(ED25519)), null);

    assertThat(store.keys(VM)).isEmpty();
    assertThat(repository.check(VM, blob(ED25519))).isEqualTo(NOT_INCLUDED);
  }

  @Test
  void addDoesNotReplaceAStoredKey() throws Exception {
    store.replace(VM, List.of(TestKeys.hostKey(ED25519)));
    KeyPair intruder = TestKeys.ed25519();

    repository.add(new HostKey(VM, blob(intruder)), null);

    assertThat(store.keys(VM)).containsExactly(TestKeys.hostKey(ED25519));
    assertThat(repository.check(VM, blob(intruder))).isEqualTo(CHANGED);
  }

  // --- getHostKey ---

  @Test
  void storedKeysComeBackAsJschHostKeysWithOpenSshTypeNamesAndBase64() {
    store.replace(
        VM, List.of(TestKeys.hostKey(ED25519), TestKeys.hostKey(RSA), TestKeys.hostKey(ECDSA)));

    HostKey[] keys = repository.getHostKey(VM, null);

    assertThat(keys)
        .extracting(HostKey::getType)
        .containsExactlyInAnyOrder("ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256");
    assertThat(keys).extracting(HostKey::getHost).containsOnly(VM);
    assertThat(keys).extracting(HostKey::getMarker).containsOnly("");
    assertThat(keys)
        .extracting(HostKey::getKey)
        .containsExactlyInAnyOrder(
            TestKeys.hostKey(ED25519).base64(),
            TestKeys.hostKey(RSA).base64(),
            TestKeys.hostKey(ECDSA).base64());
  }

  @Test
  void storedKeyOfOneTypeIsFoundByTypeName() {
    store.replace(VM, List.of(TestKeys.hostKey(ED25519), TestKeys.hostKey(RSA)));

    HostKey[] keys = repository.getHostKey("[" + VM + "]:2222", "ssh-ed25519");

    assertThat(keys)
        .singleElement()
        .satisfies(
            key -> {
              assertThat(key.getType()).isEqualTo("ssh-ed25519");
              assertThat(key.getKey()).isEqualTo(TestKeys.hostKey(ED25519).base64());
            });
  }

  @Test
  void rsaSignatureAlgorithmsAndCertificateTypesFindThePlainKey() {
    store.replace(VM, List.of(TestKeys.hostKey(ED25519), TestKeys.hostKey(RSA)));

    for (String algorithm :
        List.of("rsa-sha2-512", "rsa-sha2-256", "ssh-rsa", "ssh-rsa-cert-v01@openssh.com")) {
      assertThat(repository.getHostKey(VM, algorithm))
          .as(algorithm)
          .extracting(HostKey::getType)
          .containsExactly("ssh-rsa");
    }
    assertThat(repository.getHostKey(VM, "ssh-ed25519-cert-v01@openssh.com"))
        .extracting(HostKey::getType)
        .containsExactly("ssh-ed25519");
    assertThat(repository.getHostKey(VM, "ecdsa-sha2-nistp256")).isEmpty();
  }

  @Test
  void unknownMachineHasNoKeys() {
    assertThat(repository.getHostKey("stranger.example.com", null)).isEmpty();
  }

  @Test
  void storedKeyTypeJschDoesNotKnowIsLeftOut() {
    store.replace(
        VM,
        List.of(
            TestKeys.hostKey(ED25519),
            new io.machinepool.HostKey("sk-ssh-ed25519@openssh.com", "AAAA")));

    assertThat(repository.getHostKey(VM, null))
        .extracting(HostKey::getType)
        .containsExactly("ssh-ed25519");
  }

  @Test
  void everyKeyIsNotListedBecauseTheStoreIsReadPerMachine() {
    store.replace(VM, List.of(TestKeys.hostKey(ED25519)));

    assertThat(repository.getHostKey()).isEmpty();
    assertThat(repository.getHostKey(null, null)).isEmpty();
  }

  // --- remove ---

  @Test
  void removingATypeForgetsEveryKeyOfTheMachineButNoOtherMachines() {
    store.replace(VM, List.of(TestKeys.hostKey(ED25519), TestKeys.hostKey(RSA)));
    store.replace(OTHER, List.of(TestKeys.hostKey(ED25519)));

    repository.remove("[" + VM + "]:2222", "rsa-sha2-512");

    assertThat(store.keys(VM)).isEmpty();
    assertThat(repository.check(VM, blob(ED25519))).isEqualTo(NOT_INCLUDED);
    assertThat(store.keys(OTHER)).containsExactly(TestKeys.hostKey(ED25519));
  }

  @Test
  void removingWithoutTypeForgetsTheMachine() {
    store.replace(VM, List.of(TestKeys.hostKey(ED25519)));

    repository.remove(VM, null);

    assertThat(store.keys(VM)).isEmpty();
  }

  @Test
  void removingATypeOrKeyThatIsNotStoredKeepsTheKeys() {
    store.replace(VM, List.of(TestKeys.hostKey(ED25519)));

    repository.remove(VM, "ssh-rsa");
    repository.remove(VM, "ssh-ed25519", blob(TestKeys.ed25519()));

    assertThat(store.keys(VM)).containsExactly(TestKeys.hostKey(ED25519));
  }

  @Test
  void removingTheStoredKeyForgetsTheMachine() {
    store.replace(VM, List.of(TestKeys.hostKey(ED25519)));

    repository.remove(VM, "ssh-ed25519", blob(ED25519));

    assertThat(store.keys(VM)).isEmpty();
  }

  @Test
  void removingEveryHostIsRefused() {
    store.replace(VM, List.of(TestKeys.hostKey(ED25519)));

    assertThatThrownBy(() -> repository.remove(null, null))
        .isInstanceOf(UnsupportedOperationException.class)
        .hasMessageContaining("HostKeyStore.forget");
    assertThat(store.keys(VM)).hasSize(1);
  }

  // --- the rest ---

  @Test
  void repositoryIdNamesTheStoreInJschsMessages() {
    assertThat(repository.getKnownHostsRepositoryID()).isEqualTo("the machinepool host key store");
  }

  @Test
  void nullStoreIsRefused() {
    assertThatThrownBy(() -> new PoolHostKeyRepository(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("host key store");
  }

  @Test
  void testKeyEncodingIsOpenSshWireFormat() {
    // An independent encoder (Apache MINA SSHD's) agrees with the test helper.
    for (KeyPair pair : List.of(RSA, ECDSA)) {
      assertThat(TestKeys.hostKey(pair).toString())
          .isEqualTo(PublicKeyEntry.toString(pair.getPublic()));
    }
    assertThat(TestKeys.hostKey(ED25519).type()).isEqualTo("ssh-ed25519");
    assertThat(Base64.getDecoder().decode(TestKeys.hostKey(ED25519).base64())).hasSize(51);
  }

  private static byte[] blob(KeyPair pair) {
    return TestKeys.blob(pair.getPublic());
  }
}
