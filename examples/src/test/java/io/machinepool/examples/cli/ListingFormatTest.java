package io.machinepool.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.machinepool.HostKey;
import io.machinepool.LockRequest;
import io.machinepool.Machine;
import io.machinepool.Waiter;
import io.machinepool.testing.TestValues;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * The {@code --list} JSON, the {@code --brief} lines, the {@code --queue} table and the line of a
 * lock that joins the queue, character for character.
 */
class ListingFormatTest {

  private static Machine machine(
      String name, String vpsHost, boolean locked, String owner, String description) {
    return TestValues.machine(
        name,
        vpsHost == null ? "smithi" : "vps",
        vpsHost,
        true,
        locked,
        owner,
        locked ? Instant.parse("2026-11-24T09:15:02.123456Z") : null,
        description,
        null,
        null,
        null,
        null,
        List.of(),
        null,
        1);
  }

  @Test
  void jsonIsIndentedAndEscapedAsPythonsJsonDumps() {
    Machine m =
        machine("smithi001.front.sepia.ceph.com", null, true, "alice@build7", "say \"hi\"\n\té")
            .withHostKeys(
                List.of(
                    HostKey.parse("ssh-rsa AAAAB3NzaC1yc2EAAAAD"),
                    HostKey.parse("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5")));

    String json = Listing.json(List.of(m));

    assertThat(json)
        .isEqualTo(
            """
            [
                {
                    "name": "smithi001.front.sepia.ceph.com",
                    "machine_type": "smithi",
                    "up": true,
                    "locked": true,
                    "locked_since": "2026-11-24 09:15:02.123456",
                    "locked_by": "alice@build7",
                    "description": "say \\"hi\\"\\n\\t\\u00e9",
                    "os_type": null,
                    "os_version": null,
                    "arch": null,
                    "mac_address": null,
                    "vm_host": null,
                    "is_vm": false,
                    "ssh_pub_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5"
                }
            ]
            """);
    List<Map<String, Object>> parsed = new Yaml().load(json);
    assertThat(parsed.get(0).get("description")).isEqualTo("say \"hi\"\n\té");
    assertThat(Listing.json(List.of())).isEqualTo("[]\n");
    assertThat(Listing.string("\u0001\u007f\\")).isEqualTo("\"\\u0001\\u007f\\\\\"");
  }

  @Test
  void lockTimesLeaveOutZeroMicrosecondsAsPythonDoes() {
    assertThat(Listing.lockedSince(Instant.parse("2026-11-24T09:15:02Z")))
        .isEqualTo("2026-11-24 09:15:02");
    assertThat(Listing.lockedSince(Instant.parse("2026-11-24T09:15:02.000001Z")))
        .isEqualTo("2026-11-24 09:15:02.000001");
    assertThat(Listing.lockedSince(Instant.parse("2026-11-24T23:59:59.5Z")))
        .isEqualTo("2026-11-24 23:59:59.500000");
  }

  @Test
  void briefPadsToTheLongestNameAndOwnerAndShortensUserAtHostNames() {
    String brief =
        Listing.brief(
            List.of(
                machine("vpm011.front.sepia.ceph.com", "mira001", false, null, null),
                machine("ubuntu@smithi001.front.sepia.ceph.com", null, true, "bob@b", "x"),
                machine("a", null, true, "carol@build3", "")));

    int nameWidth = "ubuntu@smithi001.front.sepia.ceph.com".length();
    String line = "%-" + nameWidth + "s %-4s %-8s %-12s \"%s\"\n";
    assertThat(brief)
        .isEqualTo(
            String.format(line, "a", "up", "locked", "carol@build3", "")
                + String.format(line, "smithi001", "up", "locked", "bob@b", "x")
                + String.format(
                    line, "vpm011.front.sepia.ceph.com", "up", "unlocked", "None", "None"));
    assertThat(brief.lines().toList().get(1))
        .startsWith("smithi001" + " ".repeat(nameWidth - "smithi001".length()) + " up   locked   ");
  }

  @Test
  void queueTablePadsEachColumnToItsWidestValueAndTheSummarySectionCountsTheRequests() {
    Waiter byType =
        TestValues.waiter(
            1,
            "bob@build9",
            "nightly run",
            List.of(),
            List.of("smithi", "mira"),
            2,
            "ubuntu",
            "22.04",
            null,
            100,
            Instant.parse("2026-11-24T09:15:02.123456Z"));
    Waiter byName =
        TestValues.waiter(
            3,
            "alice@build7",
            null,
            List.of("smithi001.front.sepia.ceph.com"),
            List.of("smithi"),
            1,
            null,
            null,
            null,
            1000,
            Instant.parse("2026-11-24T09:16:00Z"));

    String table = QueueTable.format(List.of(byType, byName));

    assertThat(table)
        .isEqualTo(
            "POS  PRIORITY  WAITING SINCE (UTC)         OWNER         ASKS FOR                     "
                + "       DESCRIPTION\n"
                + "  1       100  2026-11-24 09:15:02.123456  bob@build9    2 smithi/mira with os"
                + " ubuntu 22.04  \"nightly run\"\n"
                + "  3      1000  2026-11-24 09:16:00         alice@build7  "
                + "smithi001.front.sepia.ceph.com      \"None\"\n");
    assertThat(QueueTable.section(List.of(byName)))
        .isEqualTo("\n1 request waiting for machines:\n" + QueueTable.format(List.of(byName)));
    assertThat(QueueTable.section(List.of(byType, byName)))
        .startsWith("\n2 requests waiting for machines:\nPOS  PRIORITY");
  }

  @Test
  void theProgressLineNamesARequestInTheWordsOfTheQueueTable() {
    LockRequest request =
        LockRequest.builder()
            .owner("bob@build9")
            .machineTypes("smithi", "mira")
            .count(5)
            .os("ubuntu", "22.04")
            .arch("x86_64")
            .priority(7)
            .build();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    new Progress(new PrintStream(err, true, StandardCharsets.UTF_8), false).waiting(request);

    assertThat(err.toString(StandardCharsets.UTF_8))
        .isEqualTo(
            "waiting in the queue for 5 smithi/mira with os ubuntu 22.04, arch x86_64"
                + " (priority 7)\n");
  }
}
