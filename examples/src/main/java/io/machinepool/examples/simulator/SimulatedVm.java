package io.machinepool.examples.simulator;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PublicKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.sshd.common.config.keys.AuthorizedKeyEntry;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntryResolver;
import org.apache.sshd.common.keyprovider.KeyPairProvider;
import org.apache.sshd.common.util.security.SecurityUtils;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.server.forward.RejectAllForwardingFilter;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * One simulated VM: a JVM of its own, started by the simulated {@code downburst create}, running an
 * SSH server (Apache MINA SSHD) on the VM slot's loopback port with host keys generated at start
 * (ed25519, ECDSA and RSA, as a freshly installed OpenSSH has), so that every re-image presents new
 * keys. User {@code ubuntu} logs in with the lab's client key; the few commands of {@link
 * SimulatedCommand} answer as the installed OS would.
 *
 * <p>It writes {@code ready} into its state directory once it listens, and stops when the state
 * directory is removed, when it is terminated ({@code destroy}), or when the process that set up
 * the lab is gone, so that no VM outlives a test or the quickstart that made it.
 */
public final class SimulatedVm {
  private static final Duration WATCH_EVERY = Duration.ofMillis(200);

  private SimulatedVm() {}

  /**
   * Runs the VM until it is told to stop.
   *
   * @param args the VM's short name
   * @throws Exception when the SSH server cannot start
   */
  public static void main(String[] args) throws Exception {
    if (args.length != 1) {
      throw new IllegalArgumentException("usage: SimulatedVm NAME");
    }
    LabDirectory dir = LabDirectory.fromSystemProperty();
    String name = args[0];
    LabDirectory.Lab lab = dir.read();
    LabDirectory.Slot slot =
        lab.slot(name).orElseThrow(() -> new IllegalStateException("no VM slot " + name));
    Map<String, Object> meta = readMeta(dir.metaData(name));
    SimulatedCommand.Os os = SimulatedCommand.Os.of(meta);

    SshServer server = SshServer.setUpDefaultServer();
    server.setHost("127.0.0.1");
    server.setPort(slot.port());
    server.setKeyPairProvider(KeyPairProvider.wrap(hostKeys()));
    PublicKey client =
        AuthorizedKeyEntry.parseAuthorizedKeyEntry(lab.clientPublicKey())
            .resolvePublicKey(null, PublicKeyEntryResolver.IGNORING);
    server.setPublickeyAuthenticator(
        (user, key, session) -> "ubuntu".equals(user) && KeyUtils.compareKeys(client, key));
    server.setPasswordAuthenticator(null);
    server.setKeyboardInteractiveAuthenticator(null);
    server.setForwardingFilter(RejectAllForwardingFilter.INSTANCE);
    server.setCommandFactory((channel, command) -> new SimulatedCommand(command, os));
    server.start();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> stopQuietly(server), "vm-shutdown"));
    LabDirectory.writeAtomically(
        dir.readyFile(name), ProcessHandle.current().pid() + " " + server.getPort() + "\n");
    System.out.println(name + " listening on 127.0.0.1:" + server.getPort() + " as " + os.pretty());

    while (Files.isDirectory(dir.vm(name)) && alive(lab.ownerPid())) {
      Thread.sleep(WATCH_EVERY.toMillis());
    }
    System.out.println(name + " stopping: its state is gone or the lab's owner has exited");
    stopQuietly(server);
    System.exit(0);
  }

  /** Fresh host keys of every type this JVM can serve. */
  private static List<KeyPair> hostKeys() throws GeneralSecurityException {
    List<KeyPair> keys = new ArrayList<>();
    if (SecurityUtils.isEDDSACurveSupported()) {
      keys.add(KeyUtils.generateKeyPair(KeyPairProvider.SSH_ED25519, 256));
    }
    keys.add(KeyUtils.generateKeyPair(KeyPairProvider.ECDSA_SHA2_NISTP256, 256));
    keys.add(KeyUtils.generateKeyPair(KeyPairProvider.SSH_RSA, 2048));
    return keys;
  }

  private static Map<String, Object> readMeta(Path file) throws IOException {
    Object loaded =
        new Yaml(new SafeConstructor(new LoaderOptions()))
            .load(Files.readString(file, StandardCharsets.UTF_8));
    @SuppressWarnings("unchecked")
    Map<String, Object> meta = loaded instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
    return meta;
  }

  private static boolean alive(long pid) {
    return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
  }

  private static void stopQuietly(SshServer server) {
    try {
      server.stop(true);
    } catch (IOException e) {
      // the JVM is going away anyway
    }
  }

  /**
   * Stops the VM process with this pid, if it is a VM of this lab: terminates it, waits, then kills
   * it.
   *
   * @return {@code true} when no such VM process runs any more
   */
  static boolean stop(long pid, LabDirectory dir) {
    Optional<ProcessHandle> process = ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
    if (process.isEmpty() || !isVmOf(process.get(), dir)) {
      return true; // gone already, or the pid was reused by an unrelated process
    }
    ProcessHandle vm = process.get();
    vm.destroy();
    if (waitForExit(vm, Duration.ofSeconds(5))) {
      return true;
    }
    vm.destroyForcibly();
    return waitForExit(vm, Duration.ofSeconds(5));
  }

  /** Whether a process is a SimulatedVm of the lab in this directory. */
  static boolean isVmOf(ProcessHandle process, LabDirectory dir) {
    String commandLine = commandLine(process);
    return commandLine.contains(SimulatedVm.class.getName())
        && commandLine.contains(LabDirectory.PROPERTY + "=" + dir.root());
  }

  private static String commandLine(ProcessHandle process) {
    Path cmdline = Path.of("/proc", Long.toString(process.pid()), "cmdline");
    try {
      return Files.readString(cmdline, StandardCharsets.UTF_8).replace('\0', ' ');
    } catch (IOException e) {
      return process.info().commandLine().orElse("");
    }
  }

  private static boolean waitForExit(ProcessHandle process, Duration timeout) {
    try {
      process.onExit().get(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
      return true;
    } catch (java.util.concurrent.TimeoutException e) {
      return !process.isAlive();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return !process.isAlive();
    } catch (java.util.concurrent.ExecutionException e) {
      return !process.isAlive();
    }
  }
}
