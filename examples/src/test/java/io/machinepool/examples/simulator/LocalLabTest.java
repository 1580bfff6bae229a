package io.machinepool.examples.simulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.jcraft.jsch.ChannelExec;
import com.jcraft.jsch.JSch;
import com.jcraft.jsch.JSchException;
import com.jcraft.jsch.Session;
import io.machinepool.MachineSpec;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The lab's VMs are real SSH servers that change keys on every create and never outlive the lab.
 */
@Timeout(120)
class LocalLabTest {
  @TempDir Path temp;

  @Test
  void theInventoryHasTheVmHostsDownAndTheSlotsWithPortsAndMacs() {
    try (LocalLab lab = LocalLab.builder().vmHost("mira001", "vpm011", "vpm012").build()) {
      List<MachineSpec> specs = lab.inventory();

      assertThat(specs)
          .extracting(MachineSpec::name)
          .containsExactly(
              "mira001.front.sepia.ceph.com",
              "vpm011.front.sepia.ceph.com",
              "vpm012.front.sepia.ceph.com");
      assertThat(specs.get(0).up()).isFalse();
      assertThat(specs.get(0).vpsHost()).isNull();
      assertThat(specs.get(1).vpsHost()).isEqualTo("mira001.front.sepia.ceph.com");
      assertThat(specs.subList(1, 3)).allSatisfy(s -> assertThat(s.sshPort()).isPositive());
      assertThat(specs.get(1).macAddress()).isNotEqualTo(specs.get(2).macAddress());
      assertThat(lab.address("vpm011.front.sepia.ceph.com")).isEqualTo(LocalLab.ADDRESS);
      assertThat(lab.address("smithi001.front.sepia.ceph.com"))
          .isEqualTo("smithi001.front.sepia.ceph.com");
      assertThat(lab.teuthologyConfig().labDomain()).contains("front.sepia.ceph.com");
      assertThat(lab.teuthologyConfig().downburstPath()).contains(lab.downburst());
    }
  }

  @Test
  void everyCreatePresentsFreshHostKeysAndTheClientKeyLogsIn() throws Exception {
    try (LocalLab lab = LocalLab.builder().vmHost("mira001", "vpm011").build()) {
      Path meta = writeMeta();
      int port = lab.inventory().get(1).sshPort();

      assertThat(create(lab, meta)).isZero();
      String first = hostKey(port);
      assertThat(exec(lab, port, "hostname")).isEqualTo("vpm011.front.sepia.ceph.com\n");
      assertThat(exec(lab, port, "cat /etc/os-release")).contains("VERSION_ID=\"22.04\"");

      assertThat(destroy(lab)).isZero();
      assertThat(create(lab, meta)).isZero();
      String second = hostKey(port);

      assertThat(second).isNotEqualTo(first);
    }
  }

  @Test
  void aVmRefusesPasswordsAndForeignKeys() throws Exception {
    try (LocalLab lab = LocalLab.builder().vmHost("mira001", "vpm011").build()) {
      int port = lab.inventory().get(1).sshPort();
      assertThat(create(lab, writeMeta())).isZero();

      JSch jsch = new JSch();
      Session session = jsch.getSession("ubuntu", LocalLab.ADDRESS, port);
      session.setConfig("StrictHostKeyChecking", "no");
      session.setPassword("ubuntu");

      assertThatThrownBy(() -> session.connect(10_000))
          .isInstanceOf(JSchException.class)
          .hasMessageContaining("Auth fail");
    }
  }

  @Test
  void closingTheLabStopsEveryVmAndDeletesItsOwnDirectory() throws Exception {
    LocalLab lab = LocalLab.builder().vmHost("mira001", "vpm011").build();
    assertThat(create(lab, writeMeta())).isZero();
    long pid = new LabDirectory(lab.directory()).pid("vpm011").orElseThrow();

    lab.close();

    assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
    assertThat(lab.directory()).doesNotExist();
  }

  @Test
  void aVmStopsByItselfWhenTheProcessThatBuiltTheLabIsKilled() throws Exception {
    Path dir = temp.resolve("lab");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process owner =
        new ProcessBuilder(
                java,
                "-cp",
                System.getProperty("java.class.path"),
                LabOwner.class.getName(),
                dir.toString())
            .redirectErrorStream(true)
            .start();
    try {
      long vmPid = -1;
      BufferedReader lines =
          new BufferedReader(new InputStreamReader(owner.getInputStream(), StandardCharsets.UTF_8));
      for (String line; (line = lines.readLine()) != null; ) {
        if (line.startsWith("vm ")) {
          vmPid = Long.parseLong(line.substring(3));
          break;
        }
      }
      assertThat(vmPid).isPositive();
      ProcessHandle vm = ProcessHandle.of(vmPid).orElseThrow();
      assertThat(vm.isAlive()).isTrue();

      owner.destroyForcibly();
      owner.waitFor(10, TimeUnit.SECONDS);

      vm.onExit().get(10, TimeUnit.SECONDS);
      assertThat(vm.isAlive()).isFalse();
    } finally {
      owner.destroyForcibly();
      LabDirectory directory = new LabDirectory(dir);
      for (String vm : directory.existingVms()) {
        directory.pid(vm).ifPresent(pid -> SimulatedVm.stop(pid, directory));
      }
    }
  }

  private Path writeMeta() throws Exception {
    Path meta = temp.resolve("meta-" + System.nanoTime() + ".yaml");
    Files.writeString(
        meta,
        "downburst: {distro: ubuntu, distroversion: '22.04'}\n"
            + "local-hostname: vpm011.front.sepia.ceph.com\n");
    return meta;
  }

  private static int create(LocalLab lab, Path meta) {
    return DownburstSimulator.run(
        List.of("-c", "mira001", "create", "--wait", "--nokey", "--meta-data=" + meta, "vpm011"),
        new LabDirectory(lab.directory()),
        System.out,
        System.err);
  }

  private static int destroy(LocalLab lab) {
    return DownburstSimulator.run(
        List.of("-c", "mira001", "destroy", "vpm011"),
        new LabDirectory(lab.directory()),
        System.out,
        System.err);
  }

  /** The host key the VM presents, without checking it. */
  private static String hostKey(int port) throws JSchException {
    Session session = new JSch().getSession("nobody", LocalLab.ADDRESS, port);
    session.setConfig("StrictHostKeyChecking", "no");
    session.setConfig("PreferredAuthentications", "none");
    try {
      session.connect(10_000);
    } catch (JSchException expected) {
      // no authentication configured: the key exchange is done, the key is known
    }
    assertThat(session.getHostKey()).isNotNull();
    return session.getHostKey().getKey();
  }

  private static String exec(LocalLab lab, int port, String command) throws Exception {
    JSch jsch = new JSch();
    jsch.addIdentity(lab.clientKey().toString());
    Session session = jsch.getSession(LocalLab.USER, LocalLab.ADDRESS, port);
    session.setConfig("StrictHostKeyChecking", "no");
    session.connect(10_000);
    try {
      ChannelExec channel = (ChannelExec) session.openChannel("exec");
      channel.setCommand(command);
      var in = channel.getInputStream();
      channel.connect(10_000);
      String out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      channel.disconnect();
      return out;
    } finally {
      session.disconnect();
    }
  }
}
