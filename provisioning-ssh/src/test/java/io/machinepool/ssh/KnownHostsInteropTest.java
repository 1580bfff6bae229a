package io.machinepool.ssh;

import static com.jcraft.jsch.HostKeyRepository.CHANGED;
import static com.jcraft.jsch.HostKeyRepository.NOT_INCLUDED;
import static com.jcraft.jsch.HostKeyRepository.OK;
import static io.machinepool.ssh.KnownHostsTesting.hashedHost;
import static io.machinepool.ssh.KnownHostsTesting.line;
import static io.machinepool.ssh.KnownHostsTesting.machine;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.jcraft.jsch.HostKeyRepository;
import com.jcraft.jsch.JSch;
import com.jcraft.jsch.JSchException;
import io.machinepool.HostKey;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Files written by {@link KnownHostsFile} read by other implementations: JSch's own {@code
 * KnownHosts}, and OpenSSH's {@code ssh-keygen -F} when it is installed.
 */
class KnownHostsInteropTest {
  private static final String VM = "vpm011.front.sepia.ceph.com";
  private static final String PORT_FORM = "[" + VM + "]:2222";
  private static final Path SSH_KEYGEN = Path.of("/usr/bin/ssh-keygen");

  private static final KeyPair OLD_ED25519 = TestKeys.ed25519();
  private static final KeyPair OLD_ECDSA = TestKeys.ecdsa256();
  private static final KeyPair NEW_ED25519 = TestKeys.ed25519();
  private static final KeyPair OLD_PORT = TestKeys.ed25519();
  private static final KeyPair NEW_PORT = TestKeys.ed25519();

  @TempDir Path dir;

  /** A file with plain and hashed stale entries of the VM, on port 22 and on port 2222. */
  private Path reimaged(boolean hashed) throws IOException {
    Path file = dir.resolve("known_hosts");
    Files.writeString(
        file,
        String.join(
            "\n",
            "# lab hosts",
            line(VM, key(OLD_ED25519)),
            line(hashedHost(VM), key(OLD_ECDSA)),
            line(hashedHost(PORT_FORM), key(OLD_PORT)),
            ""));
    KnownHostsFile.at(file)
        .hashed(hashed)
        .update(List.of(machine(VM, null, key(NEW_ED25519)), machine(VM, 2222, key(NEW_PORT))));
    return file;
  }

  @ParameterizedTest(name = "hashed={0}")
  @ValueSource(booleans = {false, true})
  void jschAcceptsTheNewKeysAndNoLongerTheOldOnes(boolean hashed)
      throws IOException, JSchException {
    Path file = reimaged(hashed);
    JSch jsch = new JSch();
    jsch.setKnownHosts(file.toString());
    HostKeyRepository knownHosts = jsch.getHostKeyRepository();

    assertThat(knownHosts.check(VM, blob(NEW_ED25519))).isEqualTo(OK);
    assertThat(knownHosts.check(VM, blob(OLD_ED25519))).isEqualTo(CHANGED);
    assertThat(knownHosts.check(VM, blob(OLD_ECDSA))).isEqualTo(NOT_INCLUDED);
    assertThat(knownHosts.check(PORT_FORM, blob(NEW_PORT))).isEqualTo(OK);
    assertThat(knownHosts.check(PORT_FORM, blob(OLD_PORT))).isEqualTo(CHANGED);
    assertThat(knownHosts.check(PORT_FORM, blob(NEW_ED25519))).isEqualTo(CHANGED);
    // JSch looks up the plain name when [name]:port has no key of the type: neither has one now
    assertThat(knownHosts.check(PORT_FORM, blob(OLD_ECDSA))).isEqualTo(NOT_INCLUDED);
  }

  @ParameterizedTest(name = "hashed={0}")
  @ValueSource(booleans = {false, true})
  void sshKeygenFindsTheNewEntryAndNotTheOldKeys(boolean hashed)
      throws IOException, InterruptedException {
    assumeTrue(
        Files.isExecutable(SSH_KEYGEN),
        "ssh-keygen cross-check skipped: " + SSH_KEYGEN + " is not installed (openssh-client)");
    Path file = reimaged(hashed);

    Found port22 = sshKeygenFind(VM, file);
    Found port2222 = sshKeygenFind(PORT_FORM, file);

    assertThat(port22.exitCode()).as(port22.output()).isZero();
    assertThat(port22.output())
        .contains(base64(NEW_ED25519))
        .doesNotContain(base64(OLD_ED25519))
        .doesNotContain(base64(OLD_ECDSA))
        .doesNotContain(base64(NEW_PORT));
    assertThat(port2222.exitCode()).as(port2222.output()).isZero();
    assertThat(port2222.output())
        .contains(base64(NEW_PORT))
        .doesNotContain(base64(OLD_PORT))
        .doesNotContain(base64(NEW_ED25519));
    if (hashed) {
      assertThat(port22.output()).contains("|1|").doesNotContain(VM + " ssh-ed25519");
    }
  }

  @ParameterizedTest(name = "hashed={0}")
  @ValueSource(booleans = {false, true})
  void sshKeygenFindsNothingOfAForgottenMachine(boolean hashed)
      throws IOException, InterruptedException {
    assumeTrue(
        Files.isExecutable(SSH_KEYGEN),
        "ssh-keygen cross-check skipped: " + SSH_KEYGEN + " is not installed (openssh-client)");
    Path file = reimaged(hashed);

    KnownHostsFile.at(file).forget(List.of(machine(VM, null), machine(VM, 2222)));

    assertThat(sshKeygenFind(VM, file).exitCode()).isNotZero();
    assertThat(sshKeygenFind(PORT_FORM, file).exitCode()).isNotZero();
    assertThat(Files.readString(file)).isEqualTo("# lab hosts\n");
  }

  @Test
  void sshKeygenFindsWhatTheDefaultsAddedToAHashedFileAndNoNameShows()
      throws IOException, InterruptedException {
    assumeTrue(
        Files.isExecutable(SSH_KEYGEN),
        "ssh-keygen cross-check skipped: " + SSH_KEYGEN + " is not installed (openssh-client)");
    Path file = dir.resolve("known_hosts");
    Files.writeString(
        file,
        String.join(
            "\n",
            line(hashedHost("vpm012.front.sepia.ceph.com"), key(OLD_PORT)),
            line(hashedHost(VM), key(OLD_ED25519)),
            ""));

    KnownHostsFile.at(file)
        .update(List.of(machine(VM, null, key(NEW_ED25519)), machine(VM, 2222, key(NEW_PORT))));

    assertThat(Files.readString(file)).doesNotContain("vpm0");
    Found port22 = sshKeygenFind(VM, file);
    Found port2222 = sshKeygenFind(PORT_FORM, file);
    assertThat(port22.exitCode()).as(port22.output()).isZero();
    assertThat(port22.output()).contains(base64(NEW_ED25519)).doesNotContain(base64(OLD_ED25519));
    assertThat(port2222.exitCode()).as(port2222.output()).isZero();
    assertThat(port2222.output()).contains(base64(NEW_PORT));
  }

  private record Found(int exitCode, String output) {}

  /** {@code ssh-keygen -F host -f file}: exit status 0 and the matching lines when found. */
  private Found sshKeygenFind(String host, Path file) throws IOException, InterruptedException {
    Path output = Files.createTempFile(dir, "ssh-keygen", ".out");
    Process process =
        new ProcessBuilder(SSH_KEYGEN.toString(), "-F", host, "-f", file.toString())
            .redirectErrorStream(true)
            .redirectOutput(output.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
            .start();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
      throw new AssertionError("ssh-keygen -F " + host + " did not end within 30 s");
    }
    return new Found(process.exitValue(), Files.readString(output, StandardCharsets.UTF_8));
  }

  private static HostKey key(KeyPair pair) {
    return TestKeys.hostKey(pair);
  }

  private static byte[] blob(KeyPair pair) {
    return TestKeys.blob(pair.getPublic());
  }

  private static String base64(KeyPair pair) {
    return Base64.getEncoder().encodeToString(blob(pair));
  }
}
