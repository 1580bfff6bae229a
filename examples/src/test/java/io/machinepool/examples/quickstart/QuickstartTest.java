package io.machinepool.examples.quickstart;

import static org.assertj.core.api.Assertions.assertThat;

import io.machinepool.HostKey;
import io.machinepool.Machine;
import io.machinepool.MachinePool;
import io.machinepool.MachineQuery;
import io.machinepool.Summary;
import io.machinepool.examples.support.SummaryTable;
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
import org.yaml.snakeyaml.Yaml;

/** Runs the quickstart end to end on its own in-memory H2 database and reads its output back. */
class QuickstartTest {
  private static final String DOMAIN = Quickstart.DOMAIN;

  private static String url;
  private static List<String> lines;

  @BeforeAll
  static void runQuickstart() {
    url = "jdbc:h2:mem:quickstart-test-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    long started = System.nanoTime();
    try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
      Quickstart.run(url, out);
    }
    assertThat((System.nanoTime() - started) / 1_000_000_000.0)
        .as("the quickstart runs in seconds")
        .isLessThan(30);
    lines = bytes.toString(StandardCharsets.UTF_8).lines().toList();
  }

  @Test
  void targetsYamlParsesBackToTheLeasedMachinesWithTheirEd25519Keys() {
    int start = lines.indexOf("targets:");
    assertThat(start).as("a targets: document in\n%s", String.join("\n", lines)).isPositive();
    int end = lines.subList(start, lines.size()).indexOf("") + start;
    String yaml = String.join("\n", lines.subList(start, end));

    Map<String, Map<String, String>> document = new Yaml().load(yaml);
    Map<String, String> targets = document.get("targets");

    assertThat(targets).hasSize(2);
    assertThat(targets.keySet())
        .allSatisfy(name -> assertThat(name).matches("smithi00[1-3]\\Q" + DOMAIN + "\\E"));
    for (String value : targets.values()) {
      HostKey key = HostKey.parse(value);
      assertThat(key.type()).as("ed25519 is preferred over ECDSA").isEqualTo("ssh-ed25519");
      ByteBuffer blob = ByteBuffer.wrap(Base64.getDecoder().decode(key.base64()));
      assertThat(readString(blob)).isEqualTo("ssh-ed25519".getBytes(StandardCharsets.US_ASCII));
      assertThat(readString(blob)).hasSize(32);
      assertThat(blob.hasRemaining()).isFalse();
    }
  }

  @Test
  void summaryCountsMachinesPerTypeAndOwnerLikeTeuthologyLock() {
    int header = lines.indexOf(SummaryTable.HEADER);
    assertThat(header).as("a summary in\n%s", String.join("\n", lines)).isPositive();
    List<String> rows = new ArrayList<>();
    int i = header + 1;
    for (; !lines.get(i).strip().equals("---  ---"); i++) {
      rows.add(String.join(" ", lines.get(i).strip().split("\\s+")));
    }
    assertThat(rows)
        .containsExactly(
            "mira 1 1 (free)",
            "mira 1 1 " + Quickstart.BOB,
            "smithi 2 1 (free)",
            "smithi 2 2 " + Quickstart.ALICE);
    assertThat(lines.get(i + 1).strip().split("\\s+")).containsExactly("6", "5");
  }

  @Test
  void refusalsAreTypedExceptionsWithReadableMessages() {
    assertThat(lines)
        .contains(
            "     NotEnoughMachinesException: only 1 smithi machine available, 2 requested;"
                + " nothing was locked")
        .anySatisfy(
            line ->
                assertThat(line)
                    .startsWith(
                        "     LockConflictException: mira002"
                            + DOMAIN
                            + " is locked by "
                            + Quickstart.BOB));
  }

  @Test
  void everyMachineIsFreeAgainAfterwardsWithItsKeysAndTheLastDescription() {
    assertThat(lines.get(lines.size() - 1)).endsWith("0 machines locked now.");
    JdbcDataSource dataSource = new JdbcDataSource();
    dataSource.setURL(url);
    try (MachinePool pool = MachinePool.builder().dataSource(dataSource).build()) {
      List<Machine> machines = pool.machines(MachineQuery.all());
      assertThat(machines).hasSize(6).noneMatch(Machine::locked);
      assertThat(machines)
          .allSatisfy(
              m ->
                  assertThat(m.hostKeys())
                      .extracting(HostKey::type)
                      .containsExactlyInAnyOrder("ssh-ed25519", "ecdsa-sha2-nistp256"));
      assertThat(pool.machine("smithi004" + DOMAIN).orElseThrow().up()).isFalse();
      // An unlock clears locked_by and locked_since but keeps the description, as paddles does.
      assertThat(pool.machine("mira002" + DOMAIN).orElseThrow().description())
          .isEqualTo("manual debugging");
      Summary summary = pool.summary();
      assertThat(summary.of("smithi").free()).isEqualTo(3);
      assertThat(summary.of("mira").free()).isEqualTo(2);
    }
  }

  @Test
  void summaryTableMatchesTeuthologyLockColumnForColumn() {
    Summary summary =
        new Summary(
            List.of(
                new Summary.Entry("smithi", "alice@build7", 12, 12),
                new Summary.Entry("smithi", null, 3, 2),
                new Summary.Entry("vps", null, 10, 10)));

    assertThat(SummaryTable.format(summary))
        .isEqualTo(
            "TYPE     COUNT  UP  OWNER\n"
                + "smithi     3    2  (free)\n"
                + "smithi    12   12  alice@build7\n"
                + "vps       10   10  (free)\n"
                + "         ---  ---\n"
                + "          25   24\n");
  }

  @Test
  void ecdsaKeysAreInTheOpenSshWireFormat() {
    HostKey key = DemoHostKeys.ecdsaNistp256();
    ByteBuffer blob = ByteBuffer.wrap(Base64.getDecoder().decode(key.base64()));
    assertThat(new String(readString(blob), StandardCharsets.US_ASCII))
        .isEqualTo("ecdsa-sha2-nistp256");
    assertThat(new String(readString(blob), StandardCharsets.US_ASCII)).isEqualTo("nistp256");
    byte[] point = readString(blob);
    assertThat(point).hasSize(65);
    assertThat(point[0]).isEqualTo((byte) 4);
    assertThat(blob.hasRemaining()).isFalse();
  }

  private static byte[] readString(ByteBuffer blob) {
    byte[] value = new byte[blob.getInt()];
    blob.get(value);
    return value;
  }
}
