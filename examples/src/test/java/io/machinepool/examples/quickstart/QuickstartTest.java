package io.machinepool.examples.quickstart;

import static org.assertj.core.api.Assertions.assertThat;

import io.machinepool.HostKey;
import io.machinepool.Machine;
import io.machinepool.MachinePool;
import io.machinepool.MachineQuery;
import io.machinepool.Summary;
import io.machinepool.examples.support.SummaryTable;
import io.machinepool.testing.TestValues;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.yaml.snakeyaml.Yaml;

/**
 * Runs the quickstart end to end (its simulated lab, real SSH servers, embedded H2) and reads its
 * output back.
 */
class QuickstartTest {
  private static final String DOMAIN = Quickstart.DOMAIN;

  private static String url;
  private static String output;
  private static List<String> lines;
  private static String logged;

  @BeforeAll
  @Timeout(120)
  static void runQuickstart() throws Exception {
    url = "jdbc:h2:mem:quickstart-test-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    // The library's log goes to System.err (slf4j-simple): kept for a test, not the build output.
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    PrintStream err = System.err;
    System.setErr(new PrintStream(log, true, StandardCharsets.UTF_8));
    try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
      Quickstart.run(url, out);
    } finally {
      System.setErr(err);
      logged = log.toString(StandardCharsets.UTF_8);
    }
    output = bytes.toString(StandardCharsets.UTF_8);
    lines = output.lines().toList();
  }

  @Test
  void targetsYamlParsesBackToTheLockedVmsWithFreshEd25519Keys() {
    int start = lines.indexOf("targets:");
    assertThat(start).as("a targets: document in\n%s", output).isPositive();
    int end = lines.subList(start, lines.size()).indexOf("") + start;
    Map<String, Map<String, String>> document =
        new Yaml().load(String.join("\n", lines.subList(start, end)));
    Map<String, String> targets = document.get("targets");

    assertThat(targets).hasSize(Quickstart.VMS);
    assertThat(targets.keySet())
        .allSatisfy(name -> assertThat(name).matches("vpm0[12][1-3]\\Q" + DOMAIN + "\\E"));
    assertThat(targets.values()).doesNotHaveDuplicates();
    for (String value : targets.values()) {
      HostKey key = HostKey.parse(value);
      assertThat(key.type()).as("ed25519 is preferred").isEqualTo("ssh-ed25519");
      ByteBuffer blob = ByteBuffer.wrap(Base64.getDecoder().decode(key.base64()));
      assertThat(readString(blob)).isEqualTo("ssh-ed25519".getBytes(StandardCharsets.US_ASCII));
      assertThat(readString(blob)).hasSize(32);
      assertThat(blob.hasRemaining()).isFalse();
    }
  }

  @Test
  void theLibraryWarnsOnlyOfTheForeignHostKeyItRefused() {
    assertThat(logged.lines().filter(line -> line.contains(" WARN ") || line.contains(" ERROR ")))
        .as("the library's log:%n%s", logged)
        .singleElement()
        .satisfies(line -> assertThat(line).contains("WARN", "is not the one stored for"));
  }

  @Test
  void progressShowsEachVmCreatedScannedAndDestroyed() {
    List<String> vms = vmsOfTheLease();
    assertThat(vms).hasSize(Quickstart.VMS);
    for (String vm : vms) {
      assertThat(output)
          .contains(vm + ": downburst create on mira00")
          .contains(vm + ": created with ubuntu 24.04 in ")
          .contains(vm + ": SSH answers; host keys ssh-ed25519, ecdsa-sha2-nistp256, ssh-rsa")
          .contains(vm + ": destroyed, keys forgotten, unlocked");
    }
  }

  @Test
  void theSshSessionRanCommandsOnTheVmAndAForeignKeyWasRefused() {
    int hostname = lines.indexOf("     $ hostname");
    assertThat(hostname).as("an SSH session in\n%s", output).isPositive();
    assertThat(lines.get(hostname + 1).strip()).matches("vpm0[12][1-3]\\Q" + DOMAIN + "\\E");
    assertThat(output)
        .contains("VERSION_ID=\"24.04\"")
        .contains("refused: JSchChangedHostKeyException");
  }

  @Test
  void aRequestForMoreThanIsFreeIsRefusedWithAReadableMessage() {
    assertThat(lines)
        .contains(
            "     NotEnoughMachinesException: only 2 vps machines available, 3 requested;"
                + " nothing was locked");
  }

  @Test
  void summaryCountsTheLabPerTypeAndOwnerLikeTeuthologyLock() {
    int header = lines.indexOf(SummaryTable.HEADER);
    assertThat(header).as("a summary in\n%s", output).isPositive();
    List<String> rows = new ArrayList<>();
    int i = header + 1;
    for (; !lines.get(i).strip().equals("---  ---"); i++) {
      rows.add(String.join(" ", lines.get(i).strip().split("\\s+")));
    }
    assertThat(rows)
        .containsExactly(
            "mira 2 0 (free)",
            "smithi 2 2 (free)",
            "vps 2 2 (free)",
            "vps 3 3 " + Quickstart.ALICE);
    assertThat(lines.get(i + 1).strip().split("\\s+")).containsExactly("9", "7");
  }

  @Test
  void everythingIsUnlockedAndNoVmRunsAfterwards() {
    assertThat(lines.get(lines.size() - 1))
        .isEqualTo("   0 machines locked now; VMs still running in the lab: none.");
    JdbcDataSource dataSource = new JdbcDataSource();
    dataSource.setURL(url);
    try (MachinePool pool = MachinePool.builder().dataSource(dataSource).build()) {
      List<Machine> machines = pool.machines(MachineQuery.all());
      assertThat(machines).hasSize(9).noneMatch(Machine::locked);
      assertThat(machines.stream().filter(Machine::isVirtual))
          .allSatisfy(vm -> assertThat(vm.hostKeys()).as("forgotten on unlock").isEmpty());
      assertThat(
              machines.stream()
                  .filter(m -> vmsOfTheLease().contains(m.name().substring(0, 6)))
                  .map(m -> m.osType() + " " + m.osVersion()))
          .containsOnly("ubuntu 24.04");
      Summary summary = pool.summary();
      assertThat(summary.of("vps").free()).isEqualTo(5);
    }
  }

  @Test
  void summaryTableMatchesTeuthologyLockColumnForColumn() {
    Summary summary =
        TestValues.summary(
            List.of(
                TestValues.summaryEntry("smithi", "alice@build7", 12, 12),
                TestValues.summaryEntry("smithi", null, 3, 2),
                TestValues.summaryEntry("vps", null, 10, 10)));

    assertThat(SummaryTable.format(summary))
        .isEqualTo(
            "TYPE     COUNT  UP  OWNER\n"
                + "smithi     3    2  (free)\n"
                + "smithi    12   12  alice@build7\n"
                + "vps       10   10  (free)\n"
                + "         ---  ---\n"
                + "          25   24\n");
  }

  /** The short names of the VMs the quickstart locked, from its "locked ... in the database". */
  private static List<String> vmsOfTheLease() {
    String locked =
        lines.stream()
            .filter(line -> line.contains("] locked ") && line.endsWith(" in the database"))
            .findFirst()
            .orElseThrow(() -> new AssertionError("no lock event in\n" + output));
    String names = locked.substring(locked.indexOf("] locked ") + 9, locked.indexOf(" in the"));
    return List.of(names.split(", "));
  }

  private static byte[] readString(ByteBuffer blob) {
    byte[] value = new byte[blob.getInt()];
    blob.get(value);
    return value;
  }
}
