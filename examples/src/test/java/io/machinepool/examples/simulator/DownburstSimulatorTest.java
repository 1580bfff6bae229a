package io.machinepool.examples.simulator;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * The simulated downburst takes the real tool's command line and answers with its texts and exit
 * codes; its VMs are real processes that create starts and destroy stops.
 */
@Timeout(120)
class DownburstSimulatorTest {
  @TempDir Path temp;
  private LocalLab lab;
  private Path meta;

  /** One run's outcome. */
  private record Run(int status, String out, String err) {}

  @BeforeEach
  void lab() throws Exception {
    lab =
        LocalLab.builder()
            .vmHost("mira001", "vpm011", "vpm012")
            .vmHost("mira002", "vpm021")
            .build();
    meta = temp.resolve("meta.yaml");
    Files.writeString(
        meta,
        "downburst:\n  distro: ubuntu\n  distroversion: '24.04'\n  networks:\n"
            + "  - {source: front, mac: '52:54:00:00:00:01'}\n"
            + "local-hostname: vpm011.front.sepia.ceph.com\n");
  }

  @AfterEach
  void close() {
    lab.close();
  }

  private Run run(String... argv) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status =
        DownburstSimulator.run(
            List.of(argv),
            new LabDirectory(lab.directory()),
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Run(
        status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  private Run create(String vm) {
    return run("-v", "-c", "mira001", "create", "--wait", "--nokey", "--meta-data=" + meta, vm);
  }

  @Test
  void createStartsTheVmSilentlyAndDestroyStopsIt() {
    Run created = create("vpm011");

    assertThat(created.status()).isZero();
    assertThat(created.out()).isEmpty();
    assertThat(lab.runningVms()).containsExactly("vpm011.front.sepia.ceph.com");
    long pid = new LabDirectory(lab.directory()).pid("vpm011").orElseThrow();

    Run destroyed = run("-c", "mira001", "destroy", "vpm011");

    assertThat(destroyed.status()).isZero();
    assertThat(lab.runningVms()).isEmpty();
    assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
  }

  @Test
  void creatingAVmThatExistsFailsLikeTheRealTool() {
    assertThat(create("vpm011").status()).isZero();

    Run again = create("vpm011");

    assertThat(again.status()).isEqualTo(1);
    assertThat(again.err())
        .contains("downburst create: Virtual machine with this name exists already: vpm011");
  }

  @Test
  void aVmThatDiedWithoutADestroyLeavesItsVolumeBehind() throws Exception {
    assertThat(create("vpm011").status()).isZero();
    long pid = new LabDirectory(lab.directory()).pid("vpm011").orElseThrow();
    ProcessHandle vm = ProcessHandle.of(pid).orElseThrow();
    vm.destroyForcibly();
    vm.onExit().get(10, TimeUnit.SECONDS);

    Run again = create("vpm011");
    assertThat(again.status()).isEqualTo(1);
    assertThat(again.err()).contains("storage volume 'vpm011.img' exists already");

    assertThat(run("-c", "mira001", "destroy", "vpm011").status()).isZero();
    assertThat(create("vpm011").status()).isZero();
    assertThat(lab.runningVms()).containsExactly("vpm011.front.sepia.ceph.com");
  }

  @Test
  void destroyingAVmThatDoesNotExistSucceedsAsCurrentDownburstDoes() {
    Run destroyed = run("-v", "-c", "mira001", "destroy", "vpm012");

    assertThat(destroyed.status()).isZero();
    assertThat(destroyed.err()).contains("No virtual machine found.");
  }

  @Test
  void destroyOnAnotherVmHostFindsNoVm() {
    assertThat(create("vpm011").status()).isZero();

    assertThat(run("-c", "mira002", "destroy", "vpm011").status()).isZero();

    assertThat(lab.runningVms()).containsExactly("vpm011.front.sepia.ceph.com");
  }

  @Test
  void argumentErrorsExitWithStatus2AndArgparsesUsage() {
    Run noName = run("-c", "mira001", "create", "--wait", "--nokey");
    assertThat(noName.status()).isEqualTo(2);
    assertThat(noName.err())
        .startsWith("usage: downburst create")
        .contains("downburst create: error: the following arguments are required: NAME");

    Run unknownOption = run("-c", "mira001", "create", "--bogus", "vpm011");
    assertThat(unknownOption.status()).isEqualTo(2);
    assertThat(unknownOption.err()).contains("downburst: error: unrecognized arguments: --bogus");

    Run unknownCommand = run("-c", "mira001", "explode", "vpm011");
    assertThat(unknownCommand.status()).isEqualTo(2);
    assertThat(unknownCommand.err()).contains("argument COMMAND: invalid choice: 'explode'");

    Run twoNames = run("-c", "mira001", "destroy", "vpm011", "vpm012");
    assertThat(twoNames.status()).isEqualTo(2);
    assertThat(twoNames.err()).contains("unrecognized arguments: vpm012");

    Run missingValue = run("-c");
    assertThat(missingValue.status()).isEqualTo(2);
    assertThat(missingValue.err()).contains("argument -c/--connect: expected one argument");

    assertThat(run().err()).contains("the following arguments are required: COMMAND");
    assertThat(lab.runningVms()).isEmpty();
  }

  @Test
  void anAliasMissingFromLibvirtConfFailsLikeLibvirt() {
    Run run = run("-c", "mira999", "create", "--wait", "--nokey", "vpm011");

    assertThat(run.status()).isEqualTo(1);
    assertThat(run.err())
        .contains("Traceback (most recent call last):")
        .endsWith("libvirt.libvirtError: no connection driver available for URI 'mira999'\n");
  }

  @Test
  void withoutDashCTheDefaultUriHasNoLibvirtToTalkTo() {
    Run run = run("create", "--wait", "--nokey", "vpm011");

    assertThat(run.status()).isEqualTo(1);
    assertThat(run.err()).contains("Failed to connect socket to '/var/run/libvirt/libvirt-sock'");
  }

  @Test
  void withoutNokeyItFailsFetchingTheDefaultKeyAsTheRealToolDoesOffline() {
    Run run = run("-c", "mira001", "create", "--wait", "--meta-data=" + meta, "vpm011");

    assertThat(run.status()).isEqualTo(1);
    assertThat(run.out()).contains("Fetching default SSH key from https://raw.github.com/");
    assertThat(run.err()).contains("requests.exceptions.ConnectionError");
    assertThat(lab.runningVms()).isEmpty();
  }

  @Test
  void badMetaDataEndsInATraceback() throws Exception {
    Path list = temp.resolve("list.yaml");
    Files.writeString(list, "- just\n- a list\n");

    Run notAMapping =
        run("-c", "mira001", "create", "--nokey", "--meta-data", list.toString(), "vpm011");
    assertThat(notAMapping.status()).isEqualTo(1);
    assertThat(notAMapping.err()).contains("ValueError: dictionary update sequence");

    Run missing =
        run("-c", "mira001", "create", "--nokey", "--meta-data=" + temp.resolve("nope"), "vpm011");
    assertThat(missing.status()).isEqualTo(1);
    assertThat(missing.err()).contains("FileNotFoundError: [Errno 2] No such file or directory");
    assertThat(lab.runningVms()).isEmpty();
  }

  @Test
  void anOsWithoutACloudImageIsRefused() throws Exception {
    Path gentoo = temp.resolve("gentoo.yaml");
    Files.writeString(gentoo, "downburst: {distro: gentoo, distroversion: '2.15'}\n");
    Run unknown = run("-c", "mira001", "create", "--nokey", "--meta-data=" + gentoo, "vpm011");
    assertThat(unknown.status()).isEqualTo(1);
    assertThat(unknown.err()).contains("no cloud image found for distro 'gentoo'");

    // Without a version the real tool falls back to Ubuntu 12.04, long gone.
    Run old = run("-c", "mira001", "create", "--nokey", "vpm011");
    assertThat(old.status()).isEqualTo(1);
    assertThat(old.err()).contains("version '12.04'");
    assertThat(lab.runningVms()).isEmpty();
  }

  @Test
  void onlyTheLabsVmSlotsOnTheirOwnHostCanBeCreated() {
    Run elsewhere = run("-c", "mira002", "create", "--nokey", "--meta-data=" + meta, "vpm011");

    assertThat(elsewhere.status()).isEqualTo(1);
    assertThat(elsewhere.err()).contains("no VM slot vpm011 on mira002");
  }

  @Test
  void listJsonNamesTheDistributionsAndVersionsItCanInstall() {
    Run run = run("list-json");

    assertThat(run.status()).isZero();
    Object json = new Yaml(new SafeConstructor(new LoaderOptions())).load(run.out());
    assertThat(json).isInstanceOf(Map.class);
    assertThat(((Map<?, ?>) json).get("ubuntu")).asList().contains("24.04(noble)");
  }

  @Test
  void theLauncherRunsTheSimulatorAsAChildProcessWithTheRealArgv() throws Exception {
    List<String> argv = new ArrayList<>(List.of(lab.downburst().toString()));
    argv.addAll(
        List.of("-v", "-c", "mira001", "create", "--wait", "--nokey", "--meta-data=" + meta));
    argv.add("--user-data=" + meta);
    argv.add("vpm012");
    Process create = new ProcessBuilder(argv).redirectErrorStream(true).start();
    String output = new String(create.getInputStream().readAllBytes(), StandardCharsets.UTF_8);

    assertThat(create.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(create.exitValue()).as(output).isZero();
    assertThat(lab.runningVms()).containsExactly("vpm012.front.sepia.ceph.com");

    Process destroy =
        new ProcessBuilder(lab.downburst().toString(), "-c", "mira001", "destroy", "vpm012")
            .redirectErrorStream(true)
            .start();
    destroy.getInputStream().readAllBytes();
    assertThat(destroy.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(destroy.exitValue()).isZero();
    assertThat(lab.runningVms()).isEmpty();
  }
}
