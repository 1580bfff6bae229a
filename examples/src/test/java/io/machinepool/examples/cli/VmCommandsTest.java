package io.machinepool.examples.cli;

import static io.machinepool.examples.cli.Lab.ME;
import static io.machinepool.examples.cli.Lab.name;
import static org.assertj.core.api.Assertions.assertThat;

import io.machinepool.Machine;
import io.machinepool.MachinePool;
import io.machinepool.config.TeuthologyConfig;
import io.machinepool.downburst.DownburstProvisioner;
import io.machinepool.downburst.LibvirtAliases;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;

/**
 * VM slots: created by downburst on lock and destroyed on unlock (a stand-in downburst that records
 * its arguments), and what the tool says when downburst is not available.
 */
class VmCommandsTest {
  @TempDir Path dir;
  private Lab lab;
  private Path calls;
  private PoolOpener withDownburst;

  @BeforeEach
  void lab() throws Exception {
    lab = new Lab();
    calls = dir.resolve("calls.log");
    Path downburst = dir.resolve("downburst");
    Files.writeString(
        downburst,
        """
        #!/bin/sh
        # A stand-in for downburst: records each call, creates nothing.
        echo "$*" >> '@LOG@'
        for a in "$@"; do
          case "$a" in
            list-json) echo '{"ubuntu": ["22.04(jammy)", "24.04(noble)"]}'; exit 0 ;;
          esac
        done
        exit 0
        """
            .replace("@LOG@", calls.toString()));
    Files.setPosixFilePermissions(downburst, PosixFilePermissions.fromString("rwx------"));
    // The tool's own opener, but with a downburst that needs no libvirt aliases.
    withDownburst =
        (url, config, listener) -> {
          JdbcDataSource h2 = new JdbcDataSource();
          h2.setURL(url);
          DownburstProvisioner provisioner =
              DownburstProvisioner.builder()
                  .config(TeuthologyConfig.parse("downburst: '" + downburst + "'\n", null))
                  .checkLibvirtAliases(false)
                  .createAttempts(1)
                  .createTimeout(Duration.ofSeconds(30))
                  .build();
          MachinePool pool =
              MachinePool.builder()
                  .dataSource(h2)
                  .provisioner(provisioner)
                  .releaseOnShutdown(false)
                  .listener(listener)
                  .build();
          return new PoolOpener.Opened(pool, null, null);
        };
  }

  @AfterEach
  void close() {
    lab.close();
  }

  private List<String> calls() throws Exception {
    return Files.exists(calls) ? Files.readAllLines(calls) : List.of();
  }

  @Test
  void aFailedCreateIsOneLineByDefaultAndShowsTheToolsStderrTailWithVerbose() throws Exception {
    Path failing = dir.resolve("failing-downburst");
    Files.writeString(
        failing,
        """
        #!/bin/sh
        for a in "$@"; do
          case "$a" in
            list-json) echo '{"ubuntu": ["22.04(jammy)"]}'; exit 0 ;;
            create)
              echo 'Traceback (most recent call last):' >&2
              echo '  File "downburst/cli.py", line 81, in main' >&2
              echo 'libvirt.libvirtError: Cannot recv data: Connection reset by peer' >&2
              exit 1 ;;
          esac
        done
        exit 0
        """);
    Files.setPosixFilePermissions(failing, PosixFilePermissions.fromString("rwx------"));
    PoolOpener opener =
        (url, config, listener) -> {
          JdbcDataSource h2 = new JdbcDataSource();
          h2.setURL(url);
          DownburstProvisioner provisioner =
              DownburstProvisioner.builder()
                  .config(TeuthologyConfig.parse("downburst: '" + failing + "'\n", null))
                  .checkLibvirtAliases(false)
                  .createAttempts(1)
                  .build();
          MachinePool pool =
              MachinePool.builder()
                  .dataSource(h2)
                  .provisioner(provisioner)
                  .releaseOnShutdown(false)
                  .listener(listener)
                  .build();
          return new PoolOpener.Opened(pool, null, null);
        };
    String[] lock = {
      "--lock-many", "1", "-m", "vps", "--os-type", "ubuntu", "--os-version", "22.04"
    };

    Lab.Result plain = lab.run(opener, lock);

    assertThat(plain.status()).isEqualTo(1);
    assertThat(plain.err()).doesNotContain("Traceback").doesNotContain("exited with code");
    assertThat(plain.errLines())
        .filteredOn(l -> l.contains("Connection reset by peer"))
        .singleElement()
        .satisfies(l -> assertThat(l).contains("(exit code 1)"));

    List<String> verbose = new java.util.ArrayList<>(List.of(lock));
    verbose.add(0, "-v");
    Lab.Result detailed = lab.run(opener, verbose.toArray(String[]::new));

    assertThat(detailed.status()).isEqualTo(1);
    assertThat(detailed.err())
        .contains("the tool's standard error ends with:")
        .contains("  Traceback (most recent call last):");
  }

  @Test
  void lockManyCreatesTheVmsAndUnlockDestroysThem() throws Exception {
    Lab.Result locked =
        lab.run(
            withDownburst,
            "--lock-many",
            "2",
            "-m",
            "vps",
            "--os-type",
            "ubuntu",
            "--os-version",
            "22.04",
            "--desc",
            "vm-suite");

    assertThat(locked.status()).as("%s", locked).isZero();
    Map<String, Map<String, String>> document = new Yaml().load(locked.out());
    assertThat(document.get("targets").keySet()).containsExactly(name("vpm011"), name("vpm012"));
    assertThat(locked.errLines())
        .contains(
            "creating VM " + name("vpm011") + " on " + name("mira001") + " ...",
            "creating VM " + name("vpm012") + " on " + name("mira001") + " ...")
        .anyMatch(l -> l.matches("VM \\Q" + name("vpm011") + "\\E is ready \\(\\d+\\.\\d s\\)"));
    assertThat(calls()).anyMatch(c -> c.startsWith("-v -c mira001 create") && c.endsWith("vpm011"));
    assertThat(calls()).anyMatch(c -> c.startsWith("-v -c mira001 create") && c.endsWith("vpm012"));
    for (String vm : List.of("vpm011", "vpm012")) {
      Machine m = lab.machine(vm);
      assertThat(m.lockedBy()).isEqualTo(ME);
      assertThat(m.osVersion()).isEqualTo("22.04");
    }

    Lab.Result unlocked = lab.run(withDownburst, "--unlock", "vpm011", "vpm012");

    assertThat(unlocked.status()).as("%s", unlocked).isZero();
    assertThat(unlocked.errLines())
        .containsExactlyInAnyOrder(
            "destroyed VM " + name("vpm011") + " and unlocked it",
            "destroyed VM " + name("vpm012") + " and unlocked it");
    assertThat(calls()).contains("-v -c mira001 destroy vpm011", "-v -c mira001 destroy vpm012");
    assertThat(lab.machine("vpm011").locked()).isFalse();
    assertThat(lab.machine("vpm012").locked()).isFalse();
  }

  @Test
  void lockManyOfVmsForAarch64SaysDownburstCreatesX86OnlyAndLocksNothing() throws Exception {
    List<Machine> before = lab.snapshot();

    Lab.Result result =
        lab.run(withDownburst, "--lock-many", "1", "-m", "vps", "--arch", "aarch64");

    assertThat(result.status()).isEqualTo(1);
    assertThat(result.out()).isEmpty();
    assertThat(result.errLines())
        .singleElement()
        .asString()
        .startsWith(
            "machinepool: downburst cannot create this VM: the request asks for arch 'aarch64',"
                + " but downburst creates x86 VMs only (")
        .endsWith(". Ask for --arch x86_64, or lock a physical machine of that architecture")
        .doesNotContain(JAVA_ADVICE);
    assertThat(lab.snapshot()).isEqualTo(before);
    Lab.Result mine = lab.run(withDownburst, "--brief");
    assertThat(mine.out()).as("%s", mine).isEmpty();
    assertThat(calls()).noneMatch(c -> c.contains("create"));
  }

  /**
   * The pool of the tool's own opener waits for SSH on a new VM as long as the config file's {@code
   * machine_pool.ssh_timeout} says (the library's default is 5 minutes): no name of this lab
   * resolves, so the VM's SSH never answers.
   */
  @Test
  @Timeout(60)
  void aNewVmWhoseSshNeverAnswersFailsAfterTheConfigFilesSshTimeout() throws Exception {
    Path libvirtConf = dir.resolve("libvirt.conf");
    Files.writeString(libvirtConf, LibvirtAliases.render(List.of(name("mira001"))));
    try (Lab timed =
        new Lab(
            "lab_domain: "
                + Lab.DOMAIN
                + "\ndownburst: '"
                + dir.resolve("downburst")
                + "'\nmachine_pool:\n  ssh_timeout: 2\n  libvirt_config: '"
                + libvirtConf
                + "'\n",
            dir.resolve("teuthology.yaml"))) {

      Lab.Result result =
          timed.run(
              "--lock-many", "1", "-m", "vps", "--os-type", "ubuntu", "--os-version", "22.04");

      assertThat(result.status()).as("%s", result).isEqualTo(1);
      assertThat(result.err())
          .as("%s", result)
          .contains(": SSH on port 22 did not present host keys within 2 s (");
      assertThat(calls()).anyMatch(c -> c.startsWith("-v -c mira001 create"));
    }
  }

  @Test
  void lockingAVmWithoutDownburstSaysWhyAndLocksNothing() {
    List<Machine> before = lab.snapshot();

    Lab.Result byName = lab.run("--lock", "smithi001", "vpm011");

    assertThat(byName.status()).isEqualTo(1);
    assertThat(byName.out()).isEmpty();
    assertThat(byName.err())
        .startsWith(
            "machinepool: "
                + name("vpm011")
                + " is a VM slot, and creating its VM needs downburst, which is not available"
                + " here: ")
        .contains(Lab.NO_DOWNBURST)
        .endsWith("machinepool: nothing was locked\n");
    assertThat(lab.snapshot()).isEqualTo(before);

    Lab.Result byType = lab.run("--lock-many", "1", "-m", "smithi|vps");
    assertThat(byType.status()).isEqualTo(1);
    assertThat(byType.err())
        .startsWith(
            "machinepool: machine type vps has VM slots, and creating VMs needs downburst, which"
                + " is not available here: ")
        .contains(Lab.NO_DOWNBURST);
    assertThat(lab.snapshot()).isEqualTo(before);

    Lab.Result keepGoing = lab.run("--lock", "-f", "vpm011", "smithi001");
    assertThat(keepGoing.status()).isEqualTo(1);
    assertThat(lab.machine("smithi001").lockedBy()).isEqualTo(ME);
    assertThat(lab.machine("vpm011").locked()).isFalse();
    assertThat(lab.machine("vpm011").generation()).as("never locked").isZero();
  }

  @Test
  void whyDownburstIsMissingIsSaidOnceHoweverManyVmSlots() {
    Lab.Result lock = lab.run("--lock", "vpm011", "vpm012");
    assertThat(lock.status()).isEqualTo(1);
    assertThat(lock.err())
        .startsWith(
            "machinepool: "
                + name("vpm011")
                + ", "
                + name("vpm012")
                + " are VM slots, and creating their VMs needs downburst, which is not available"
                + " here: ");
    assertThat(lock.err().split(java.util.regex.Pattern.quote(Lab.NO_DOWNBURST), -1))
        .as("the reason names the configured path once: %s", lock)
        .hasSize(2);

    lab.lockVmAs(ME, "vpm011", "vpm012");
    Lab.Result unlock = lab.run("--unlock", "vpm011", "vpm012");
    assertThat(unlock.status()).isEqualTo(1);
    assertThat(unlock.err().split(java.util.regex.Pattern.quote(Lab.NO_DOWNBURST), -1))
        .as("%s", unlock)
        .hasSize(2);
  }

  @Test
  void libraryAdviceIsShownAsTheToolsFlagsAndConfigKeys() throws Exception {
    PoolOpener noProvisioner = Lab::bare;
    Lab.Result noVms = lab.run(noProvisioner, "--lock", "vpm011");
    assertThat(noVms.status()).isEqualTo(1);
    assertThat(noVms.err())
        .contains("VM slots need downburst: set downburst: in the config file, or put downburst")
        .doesNotContain(".provisioner(");

    Lab.Result unknown = lab.run("--unlock", "-f", "smithi999");
    assertThat(unknown.err())
        .contains("add it with machinepool --import FILE")
        .doesNotContain("inventory()");

    Lab.Result badOs =
        lab.run(withDownburst, "--lock-many", "1", "-m", "vps", "--os-type", "plan9");
    assertThat(badOs.status()).isEqualTo(1);
    assertThat(badOs.err())
        .contains("e.g. --os-type ubuntu --os-version 2")
        .doesNotContain("os(\"");

    Path libvirtConf = dir.resolve("libvirt.conf");
    Files.writeString(libvirtConf, "# no aliases\n");
    Path downburst = dir.resolve("downburst");
    PoolOpener checkingAliases =
        (url, config, listener) -> {
          JdbcDataSource h2 = new JdbcDataSource();
          h2.setURL(url);
          DownburstProvisioner provisioner =
              DownburstProvisioner.builder()
                  .config(
                      TeuthologyConfig.parse(
                          "downburst: '"
                              + downburst
                              + "'\nmachine_pool:\n  libvirt_config: '"
                              + libvirtConf
                              + "'\n",
                          null))
                  .build();
          return new PoolOpener.Opened(
              MachinePool.builder()
                  .dataSource(h2)
                  .provisioner(provisioner)
                  .releaseOnShutdown(false)
                  .build(),
              null,
              null);
        };
    Lab.Result noAlias = lab.run(checkingAliases, "--lock", "vpm011");
    assertThat(noAlias.status()).as("%s", noAlias).isEqualTo(1);
    assertThat(noAlias.err())
        .contains("no libvirt URI alias for 'mira001'")
        .contains("or set machine_pool.libvirt_config in the config file")
        .doesNotContain("LibvirtAliases.")
        .doesNotContain("checkLibvirtAliases(false)");
  }

  /** The library's advice to a Java caller, none of which a person at the command line can use. */
  private static final String[] JAVA_ADVICE = {
    ".provisioner(", "checkLibvirtAliases", "hostKeyScanner(", "LibvirtAliases"
  };

  @Test
  void unlockingAVmOnAPoolWithoutAProvisionerSaysToUnlockItWhereDownburstIsSetUp() {
    lab.lockVmAs(ME, "vpm012");
    List<Machine> before = lab.snapshot();
    PoolOpener noProvisioner = Lab::bare;

    Lab.Result result = lab.run(noProvisioner, "--unlock", "vpm012");

    assertThat(result.status()).isEqualTo(1);
    assertThat(result.err())
        .isEqualTo(
            "machinepool: provisioning failed for "
                + name("vpm012")
                + ": it is a VM slot, and destroying its VM needs a provisioner; unlock it where"
                + " downburst is set up (downburst: in the config file, or on PATH)\n")
        .doesNotContain(JAVA_ADVICE);
    assertThat(lab.snapshot()).isEqualTo(before);
  }

  @Test
  void aMalformedLibvirtConfIsFixedInTheFileOrReplacedThroughTheConfigFile() throws Exception {
    Path libvirtConf = dir.resolve("libvirt.conf");
    Files.writeString(libvirtConf, "uri_aliases = [ \"mira001\" ]\n");
    try (Lab aliased =
        new Lab(
            "lab_domain: "
                + Lab.DOMAIN
                + "\ndownburst: '"
                + dir.resolve("downburst")
                + "'\nmachine_pool:\n  libvirt_config: '"
                + libvirtConf
                + "'\n",
            dir.resolve("teuthology.yaml"))) {
      List<Machine> before = aliased.snapshot();

      Lab.Result result = aliased.run("--lock", "vpm011");

      assertThat(result.status()).as("%s", result).isEqualTo(1);
      assertThat(result.err())
          .startsWith("machinepool: the uri_aliases setting of " + libvirtConf + " is malformed: ")
          .endsWith(
              "downburst names VM hosts by libvirt URI alias; fix the file, or set"
                  + " machine_pool.libvirt_config in the config file to another libvirt.conf\n")
          .doesNotContain(JAVA_ADVICE);
      assertThat(aliased.snapshot()).isEqualTo(before);
      assertThat(calls()).noneMatch(c -> c.contains("create"));
    }
  }

  @Test
  void unlockingAVmWithoutDownburstRefusesAndKeepsItLocked() {
    lab.lockVmAs(ME, "vpm012");
    List<Machine> before = lab.snapshot();

    Lab.Result result = lab.run("--unlock", "vpm012");

    assertThat(result.status()).isEqualTo(1);
    assertThat(result.err())
        .startsWith(
            "machinepool: "
                + name("vpm012")
                + " is a VM slot, and destroying its VM needs downburst, which is not available"
                + " here: ")
        .contains(Lab.NO_DOWNBURST);
    assertThat(lab.snapshot()).isEqualTo(before);
  }
}
