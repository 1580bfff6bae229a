package io.machinepool.examples.cli;

import static io.machinepool.examples.cli.Lab.ADMIN;
import static io.machinepool.examples.cli.Lab.BOB;
import static io.machinepool.examples.cli.Lab.KEY;
import static io.machinepool.examples.cli.Lab.ME;
import static io.machinepool.examples.cli.Lab.name;
import static org.assertj.core.api.Assertions.assertThat;

import io.machinepool.Machine;
import io.machinepool.testing.LogCapture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;

/** {@code --list}, {@code --brief}, {@code --list-targets} and {@code --summary}, read back. */
class ListingCommandsTest {
  /** The tool scans the host keys of the machines it locks, whose names do not resolve here. */
  @RegisterExtension
  final LogCapture log =
      new LogCapture()
          .expect("io.machinepool.Provisioning", "is locked without host keys")
          .expect("io.machinepool.MachinePool", "listing targets with the stored keys");

  private Lab lab;

  @BeforeEach
  void lab() {
    lab = new Lab();
    lab.lockAs(ME, "run-42/job-3", "smithi001");
    lab.lockAs(BOB, "bob's run", "smithi002");
  }

  @AfterEach
  void close() {
    lab.close();
  }

  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> json(Lab.Result result) {
    assertThat(result.status()).as("%s", result).isZero();
    assertThat(result.err()).isEmpty();
    return (List<Map<String, Object>>) new Yaml().load(result.out());
  }

  private static List<String> names(List<Map<String, Object>> machines) {
    return machines.stream().map(m -> (String) m.get("name")).toList();
  }

  @Test
  void listShowsTheCallersMachinesAsPaddlesJsonObjects() {
    Lab.Result result = lab.run("--list");
    List<Map<String, Object>> machines = json(result);

    Machine smithi001 = lab.machine("smithi001");
    assertThat(machines).hasSize(1);
    Map<String, Object> m = machines.get(0);
    assertThat(m.keySet())
        .containsExactly(
            "name",
            "machine_type",
            "up",
            "locked",
            "locked_since",
            "locked_by",
            "description",
            "os_type",
            "os_version",
            "arch",
            "mac_address",
            "vm_host",
            "is_vm",
            "ssh_pub_key");
    assertThat(m)
        .containsEntry("name", name("smithi001"))
        .containsEntry("machine_type", "smithi")
        .containsEntry("up", true)
        .containsEntry("locked", true)
        .containsEntry("locked_by", ME)
        .containsEntry("description", "run-42/job-3")
        .containsEntry("os_type", "ubuntu")
        .containsEntry("os_version", "22.04")
        .containsEntry("arch", null)
        .containsEntry("mac_address", null)
        .containsEntry("vm_host", null)
        .containsEntry("is_vm", false)
        .containsEntry("ssh_pub_key", KEY)
        .containsEntry("locked_since", Listing.lockedSince(smithi001.lockedSince()));
    assertThat((String) m.get("locked_since"))
        .matches("\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d(\\.\\d{6})?");
    assertThat(result.out()).startsWith("[\n    {\n        \"name\": ").endsWith("    }\n]\n");
  }

  @Test
  void listOfNamedMachinesShowsThemWhoeverHoldsThemAndAVmsHostByName() {
    lab.lockVmAs(BOB, "vpm011");
    List<Map<String, Object>> machines = json(lab.run("--list", "vpm011", "smithi002"));

    assertThat(names(machines)).containsExactly(name("smithi002"), name("vpm011"));
    Map<String, Object> vm = machines.get(1);
    assertThat(vm)
        .containsEntry("is_vm", true)
        .containsEntry("vm_host", name("mira001"))
        .containsEntry("mac_address", "52:54:00:00:00:11")
        .containsEntry("locked_by", BOB)
        .containsEntry("machine_type", "vps");
  }

  @Test
  void jsonQueryKeepsTheMachinesWhoseObjectContainsIt(@TempDir Path dir) throws Exception {
    String ofHost = "{\"vm_host\": {\"name\": \"" + name("mira001") + "\"}}";
    assertThat(names(json(lab.run("--list", "-a", "--json-query", ofHost))))
        .containsExactly(name("vpm011"), name("vpm012"));
    assertThat(
            names(
                json(
                    lab.run(
                        "--list",
                        "-a",
                        "--json-query",
                        "{\"vm_host\": {\"machine_type\": \"mira\", \"locked\": true}}"))))
        .as("nested keys are a subset of the host's object")
        .containsExactly(name("vpm011"), name("vpm012"));
    assertThat(
            names(
                json(
                    lab.run(
                        "--list",
                        "-a",
                        "--json-query",
                        "{\"os_type\": \"ubuntu\", \"os_version\": \"22.04\"}"))))
        .containsExactly(name("smithi001"), name("smithi002"));
    Path file = dir.resolve("query.json");
    Files.writeString(file, "{\"machine_type\": \"mira\", \"up\": false}\n");
    Lab.Result brief = lab.run("--brief", "-a", "--json-query", file.toString());
    assertThat(brief.status()).as("%s", brief).isZero();
    assertThat(brief.out()).startsWith(name("mira002") + " down").hasLineCount(1);
    Lab.Result targets =
        lab.run("--list-targets", "-a", "--json-query", "{\"locked_by\": \"" + BOB + "\"}");
    assertThat(targets.status()).as("%s", targets).isZero();
    assertThat(targets.out()).isEqualTo("targets:\n  " + name("smithi002") + ": null\n");
    assertThat(names(json(lab.run("--list", "-a", "--json-query", "{\"vm_host\": \"x\"}"))))
        .isEmpty();
  }

  @Test
  void anEmptyLabDomainLeavesShortNamesAsWritten() {
    try (Lab noDomain =
        new Lab("lab_domain: ''\ndownburst: " + Lab.NO_DOWNBURST + "\n", Path.of("t.yaml"))) {
      Lab.Result result = noDomain.run("--brief", "smithi001");
      assertThat(result.status()).isEqualTo(1);
      assertThat(result.errLines())
          .containsExactly("machinepool: no machine named smithi001 in the inventory");
    }
  }

  @Test
  void listFiltersAsTeuthologyLock() {
    assertThat(names(json(lab.run("--list", "--all")))).hasSize(7);
    assertThat(names(json(lab.run("--list", "--owner", BOB)))).containsExactly(name("smithi002"));
    assertThat(names(json(lab.run("--list", "-a", "-m", "smithi", "--locked", "false"))))
        .containsExactly(name("smithi003"));
    assertThat(names(json(lab.run("--list", "-a", "--status", "down"))))
        .containsExactly(name("mira002"));
    assertThat(names(json(lab.run("--list", "-a", "--machine-type", "mira", "--status", "up"))))
        .containsExactly(name("mira001"));
    assertThat(names(json(lab.run("--list", "-a", "-m", "mira|vps", "--locked", "true"))))
        .containsExactly(name("mira001"));
    assertThat(names(json(lab.run("--list", "-a", "-m", "mira,vps", "--locked", "true"))))
        .containsExactly(name("mira001"));
    assertThat(names(json(lab.run("--list", "-a", "-m", "mira vps", "--locked", "true"))))
        .containsExactly(name("mira001"));
    assertThat(names(json(lab.run("--list", "-a", "--desc-pattern", "run"))))
        .containsExactly(name("smithi001"), name("smithi002"));
    assertThat(names(json(lab.run("--list", "-a", "--os-type", "ubuntu", "--os-version", "20.04"))))
        .containsExactly(name("smithi003"));
    assertThat(names(json(lab.run("--list", "-a", "--os-version", "22.04"))))
        .containsExactly(name("smithi001"), name("smithi002"));
    assertThat(names(json(lab.run("--list", "smithi001", "smithi002", "--owner", BOB))))
        .containsExactly(name("smithi002"));
    assertThat(json(lab.run("--list", "--owner", "nobody@nowhere"))).isEmpty();
    assertThat(lab.run("--list", "--owner", "nobody@nowhere").out()).isEqualTo("[]\n");
  }

  @Test
  void anUnknownMachineIsReportedWhileTheOthersAreListed() {
    List<Machine> before = lab.snapshot();
    Lab.Result result = lab.run("--list", "smithi001", "smithi999");

    assertThat(result.status()).isEqualTo(1);
    assertThat(result.errLines())
        .containsExactly(
            "machinepool: no machine named " + name("smithi999") + " in the inventory");
    assertThat(names(new Yaml().load(result.out()))).containsExactly(name("smithi001"));
    assertThat(lab.snapshot()).isEqualTo(before);
  }

  @Test
  void briefPrintsTeuthologysPaddedLines() {
    Lab.Result mine = lab.run("--brief");
    assertThat(mine.status()).isZero();
    assertThat(mine.out())
        .isEqualTo(name("smithi001") + " up   locked   " + ME + " \"run-42/job-3\"\n");

    Lab.Result all = lab.run("--brief", "--all");
    assertThat(all.status()).isZero();
    int owner = Math.max(ME.length(), ADMIN.length());
    String format = "%-30s %-4s %-8s %-" + owner + "s \"%s\"\n";
    assertThat(all.out())
        .isEqualTo(
            String.format(format, name("mira001"), "up", "locked", ADMIN, "VM host")
                + String.format(
                    format, name("mira002"), "down", "unlocked", "None", "disk errors on sdb")
                + String.format(format, name("smithi001"), "up", "locked", ME, "run-42/job-3")
                + String.format(format, name("smithi002"), "up", "locked", BOB, "bob's run")
                + String.format(format, name("smithi003"), "up", "unlocked", "None", "None")
                + String.format(format, name("vpm011"), "up", "unlocked", "None", "None")
                + String.format(format, name("vpm012"), "up", "unlocked", "None", "None"));
  }

  @Test
  void listTargetsIsTheTargetsDocumentOfTheCallersLockedMachines() {
    Lab.Result mine = lab.run("--list-targets");
    assertThat(mine.status()).as("%s", mine).isZero();
    assertThat(mine.out()).isEqualTo("targets:\n  " + name("smithi001") + ": " + KEY + "\n");
    Map<String, Map<String, String>> document = new Yaml().load(mine.out());
    assertThat(document.get("targets")).containsExactly(Map.entry(name("smithi001"), KEY));

    Map<String, Map<String, String>> named =
        new Yaml().load(lab.run("--list-targets", "smithi002", "smithi001").out());
    assertThat(named.get("targets").keySet()).containsExactly(name("smithi001"), name("smithi002"));
    assertThat(named.get("targets").get(name("smithi002"))).isNull();

    assertThat(lab.run("--list-targets", "--owner", "nobody@nowhere").out())
        .isEqualTo("targets: {}\n");
  }

  @Test
  void summaryCountsByTypeAndOwnerWithTotals() {
    Lab.Result result = lab.run("--summary");
    assertThat(result.status()).isZero();
    List<String> rows = result.out().lines().toList();
    assertThat(rows.get(0)).isEqualTo("TYPE     COUNT  UP  OWNER");
    assertThat(rows.subList(1, rows.size() - 2))
        .as("sorted by type and count; ties in any order")
        .containsExactlyInAnyOrder(
            "mira       1    0  (free)",
            "mira       1    1  " + ADMIN,
            "smithi     1    1  (free)",
            "smithi     1    1  " + BOB,
            "smithi     1    1  " + ME,
            "vps        2    2  (free)")
        .endsWith("vps        2    2  (free)");
    assertThat(rows.subList(rows.size() - 2, rows.size()))
        .containsExactly("         ---  ---", "           7    6");

    Lab.Result smithi = lab.run("--summary", "-m", "smithi");
    assertThat(smithi.out().lines().filter(l -> l.startsWith("mira") || l.startsWith("vps")))
        .isEmpty();
    assertThat(smithi.out()).endsWith("         ---  ---\n           3    3\n");
  }
}
