package io.machinepool.examples.cli;

import static io.machinepool.examples.cli.Lab.name;
import static org.assertj.core.api.Assertions.assertThat;

import io.machinepool.Machine;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** {@code --import FILE}: an inventory file, checked whole, added all or nothing. */
class ImportCommandTest {
  @TempDir Path dir;
  private Lab lab;

  @BeforeEach
  void lab() {
    lab = new Lab();
  }

  @AfterEach
  void close() {
    lab.close();
  }

  private Path file(String yaml) throws Exception {
    Path file = dir.resolve("lab.yaml");
    Files.writeString(file, yaml);
    return file;
  }

  @Test
  void importAddsEveryMachineOfTheFileWithItsValuesAsWritten() throws Exception {
    Path file =
        file(
            """
            # the new rack
            - name: smithi010
              machine_type: smithi
              os_type: ubuntu
              os_version: 20.10
              arch: x86_64
            - name: mira010.front.sepia.ceph.com
              machine_type: mira
              up: false
            - name: vpm101
              machine_type: vps
              vpshost: mira010
              mac_address: 52:54:00:00:01:01
              ssh_port: 2222
            - name: vpm102
              machine_type: vps
              vpshost: mira001        # already in the inventory
              mac_address: 52:54:00:00:01:02
              up: yes
            """);

    Lab.Result result = lab.run("--import", file.toString());

    assertThat(result.status()).as("%s", result).isZero();
    assertThat(result.out()).isEqualTo("imported 4 machines from " + file + "\n");
    Machine smithi = lab.machine("smithi010");
    assertThat(smithi.machineType()).isEqualTo("smithi");
    assertThat(smithi.osType()).isEqualTo("ubuntu");
    assertThat(smithi.osVersion()).as("not the number 20.1").isEqualTo("20.10");
    assertThat(smithi.arch()).isEqualTo("x86_64");
    assertThat(smithi.isVirtual()).isFalse();
    assertThat(smithi.up()).isTrue();
    assertThat(lab.machine("mira010").up()).isFalse();
    Machine vm = lab.machine("vpm101");
    assertThat(vm.vpsHost()).isEqualTo(name("mira010"));
    assertThat(vm.macAddress()).as("not a base-60 number").isEqualTo("52:54:00:00:01:01");
    assertThat(vm.sshPort()).isEqualTo(2222);
    assertThat(vm.locked()).isFalse();
    assertThat(lab.machine("vpm102").vpsHost()).isEqualTo(name("mira001"));
    assertThat(lab.machine("vpm102").up()).isTrue();
  }

  static Stream<Arguments> badFiles() {
    String good = "- name: smithi010\n  machine_type: smithi\n";
    return Stream.of(
        bad("- name: [smithi011\n", "lab.yaml is not valid YAML at line"),
        bad("", "lab.yaml is empty"),
        bad("[]\n", "lab.yaml lists no machines"),
        bad("machines:\n  - name: smithi011\n", "lab.yaml is not a YAML list (line 1)"),
        bad(good + "---\n" + good, "lab.yaml has 2 YAML documents"),
        bad(good + "- smithi011\n", "lab.yaml:3: entry 2: must be a mapping"),
        bad(
            good + "- name: smithi011\n  machine_type: smithi\n  vps_host: mira001\n",
            "lab.yaml:5: entry 2, key vps_host: unknown key; the keys are name, machine_type,"),
        bad(good + "- machine_type: smithi\n", "lab.yaml:3: entry 2, key name: missing"),
        bad(good + "- name: smithi011\n", "entry 2, key machine_type: missing"),
        bad(good + "- name:\n  machine_type: smithi\n", "entry 2, key name: must not be empty"),
        bad(
            good + "- name: smithi;reboot\n  machine_type: smithi\n",
            "lab.yaml:3: entry 2 (smithi;reboot."
                + Lab.DOMAIN
                + "), key name: machine name"
                + " 'smithi;reboot' has characters outside"),
        bad(
            good + "- name: \"x'y@smithi011\"\n  machine_type: smithi\n",
            "key name: machine name 'x'y@smithi011' has characters outside"),
        bad(
            good + "- name: smithi011\n  machine_type: smi thi\n",
            "lab.yaml:4: entry 2 (" + name("smithi011") + "), key machine_type: machine type"),
        bad(
            good + "- name: vpm111\n  machine_type: vps\n  vpshost: mira001\n  mac_address: zz\n",
            "lab.yaml:6: entry 2 (" + name("vpm111") + "), key mac_address: MAC address 'zz'"),
        bad(
            good + "- name: smithi011\n  machine_type: smithi\n  up: maybe\n",
            "lab.yaml:5: entry 2 (" + name("smithi011") + "), key up: must be true or false"),
        bad(
            good + "- name: smithi011\n  machine_type: smithi\n  ssh_port: 70000\n",
            "key ssh_port: SSH port 70000 is outside 1..65535"),
        bad(
            good + "- name: smithi011\n  machine_type: smithi\n  ssh_port: ssh\n",
            "key ssh_port: must be a port number, was 'ssh'"),
        bad(
            good + "- name: smithi011\n  machine_type: smithi\n  os_type: [ubuntu]\n",
            "key os_type: must be a single value, not a list or a mapping"),
        bad(
            good + "- name: smithi011\n  machine_type: smithi\n  machine_type: mira\n",
            "lab.yaml:5: entry 2, key machine_type: given twice"),
        bad(
            good + "- name: " + name("smithi010") + "\n  machine_type: smithi\n",
            "entry 2 (" + name("smithi010") + "), key name: the same machine as entry 1"),
        bad(
            good
                + "- name: vpm111\n  machine_type: vps\n  vpshost: mira001\n"
                + "  mac_address: 52:54:00:00:00:11\n"
                + "- name: vpm112\n  machine_type: vps\n  vpshost: mira001\n"
                + "  mac_address: 52:54:00:00:00:11\n",
            "key mac_address: 52:54:00:00:00:11 is also the MAC address of entry 2"),
        bad(
            good + "- name: vpm111\n  machine_type: vps\n  vpshost: mira999\n",
            "key vpshost: " + name("mira999") + " is neither in the file nor in the inventory"),
        bad(
            good + "- name: vpm111\n  machine_type: vps\n  vpshost: vpm011\n",
            "key vpshost: " + name("vpm011") + " is itself a VM slot in the inventory"),
        bad(
            good
                + "- name: vpm111\n  machine_type: vps\n  vpshost: mira001\n"
                + "- name: vpm112\n  machine_type: vps\n  vpshost: vpm111\n",
            "key vpshost: " + name("vpm111") + " (entry 2) is itself a VM slot"),
        bad(
            good + "- name: mira100\n  machine_type: mira\n  vpshost: mira100\n",
            "cannot be its own VM host"),
        bad(
            good + "- name: smithi001\n  machine_type: smithi\n",
            "lab.yaml:3: entry 2 (" + name("smithi001") + "), key name: already in the inventory"));
  }

  private static Arguments bad(String yaml, String message) {
    return Arguments.of(yaml, message);
  }

  @ParameterizedTest(name = "{1}")
  @MethodSource("badFiles")
  void aBadFileImportsNothingAndSaysWhereTheProblemIs(String yaml, String message)
      throws Exception {
    List<Machine> before = lab.snapshot();
    Path file = file(yaml);

    Lab.Result result = lab.run("--import", file.toString());

    assertThat(result.status()).as("%s", result).isEqualTo(1);
    assertThat(result.out()).isEmpty();
    assertThat(result.errLines()).as("%s", result).hasSize(1);
    assertThat(result.errLines().get(0))
        .startsWith("machinepool: " + file)
        .contains(message.replace("lab.yaml", file.toString()))
        .endsWith("nothing was imported");
    assertThat(lab.snapshot()).as("smithi010 of the same file was not added").isEqualTo(before);
  }

  @Test
  void everyProblemOfAFileIsReportedAtOnce() throws Exception {
    List<Machine> before = lab.snapshot();
    Path file =
        file(
            """
            - name: smithi010
              machine_type: smithi
              up: sometimes
            - name: smithi011
            - name: smithi012
              machine_type: smithi
              ssh_port: 0
            """);

    Lab.Result result = lab.run("--import", file.toString());

    assertThat(result.status()).isEqualTo(1);
    assertThat(result.errLines())
        .containsExactly(
            "machinepool: "
                + file
                + ":3: entry 1 ("
                + name("smithi010")
                + "), key up: must be true or false, was 'sometimes'",
            file
                + ":4: entry 2, key machine_type: missing; every machine needs a machine type,"
                + " e.g. smithi or vps",
            file
                + ":7: entry 3 ("
                + name("smithi012")
                + "), key ssh_port: SSH port 0 is outside"
                + " 1..65535",
            "nothing was imported: fix the 3 problems and run --import again");
    assertThat(lab.snapshot()).isEqualTo(before);
  }
}
