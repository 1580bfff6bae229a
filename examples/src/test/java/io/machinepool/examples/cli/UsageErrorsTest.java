package io.machinepool.examples.cli;

import static io.machinepool.examples.cli.Lab.name;
import static org.assertj.core.api.Assertions.assertThat;

import io.machinepool.Machine;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every constraint of teuthology-lock's command line and every kind of bad input: exit status 1,
 * one line on standard error that says what is wrong, nothing on standard output, and the lock
 * database unchanged.
 */
class UsageErrorsTest {
  private static Lab lab;
  private static List<Machine> before;
  @TempDir static Path dir;

  @BeforeAll
  static void lab() throws Exception {
    lab = new Lab();
    lab.lockAs(Lab.ME, "mine", "smithi001");
    before = lab.snapshot();
    Files.writeString(dir.resolve("not-yaml.yaml"), "targets: [unclosed\n");
    Files.writeString(dir.resolve("no-targets.yaml"), "roles: [[mon.a]]\n");
    Files.writeString(dir.resolve("list-targets.yaml"), "targets: [smithi001]\n");
    Files.writeString(dir.resolve("bad-name.yaml"), "targets:\n  'smithi001;reboot': null\n");
  }

  @AfterAll
  static void close() {
    lab.close();
  }

  static Stream<Arguments> badCommandLines() {
    String missing = dir.resolve("missing.yaml").toString();
    return Stream.of(
        // picocli: exactly one operation, known options, typed values
        bad("Missing required argument (specify one of these): (--list | --brief"),
        bad("--list, --lock are mutually exclusive", "--list", "--lock", "smithi001"),
        bad("--summary, --reap are mutually exclusive", "--summary", "--reap"),
        bad("Unknown option: '--bogus'", "--list", "--bogus"),
        bad("Invalid value for option '--lock-many': 'many' is not an int", "--lock-many", "many"),
        bad(
            "Missing required parameter for option '--owner'",
            "--db",
            lab.url,
            "--list",
            "--owner"),
        bad(
            "Expected parameter for option '--owner' but found '--all'",
            "--list",
            "--owner",
            "--all"),
        bad("should be specified only once", "--list", "--owner", "a@b", "--owner", "c@d"),
        // teuthology-lock's asserts
        bad("-f is only supported by --lock and --unlock", "--list", "-f"),
        bad(
            "-f is only supported by --lock and --unlock",
            "--update",
            "-f",
            "--desc",
            "x",
            "smithi001"),
        bad("machines cannot be specified with --summary", "--summary", "smithi001"),
        bad(
            "machines cannot be specified with --lock-many",
            "--lock-many",
            "1",
            "-m",
            "smithi",
            "smithi002"),
        bad("machines cannot be specified with --reap", "--reap", "smithi001"),
        bad("--lock requires specific machines", "--lock"),
        bad("--unlock requires specific machines", "--unlock"),
        bad("--update requires specific machines", "--update", "--status", "down"),
        bad(
            "--all can only be used with --list, --list-targets, --brief and --update-keys",
            "--summary",
            "-a"),
        bad("--update-keys requires specific machines", "--update-keys"),
        bad("--json-query must be a JSON object", "--list", "--json-query", "[1, 2]"),
        bad("--json-query is not valid JSON", "--list", "--json-query", "{\"up\": "),
        bad("--json-query only goes with --list", "--summary", "--json-query", "{}"),
        bad("--all and listing specific machines", "--update-keys", "-a", "smithi001"),
        bad(
            "--owner does not go with --update-keys",
            "--update-keys",
            "--owner",
            "a@b",
            "smithi001"),
        bad("--all can only be used with", "--lock", "--all", "smithi002"),
        bad("--all and --owner are mutually exclusive", "--brief", "-a", "--owner", "a@b"),
        bad("--all and listing specific machines are incompatible", "--list", "--all", "smithi001"),
        bad("must specify machine type to lock", "--lock-many", "2"),
        bad("--lock-many 0 is not positive", "--lock-many", "0", "-m", "smithi"),
        bad("--lock-many -3 is not positive", "--lock-many", "-3", "-m", "smithi"),
        bad(
            "--desc does nothing with --list, --brief and --list-targets",
            "--brief",
            "--desc",
            "x"),
        bad("--desc does nothing with", "--list-targets", "--desc", "x"),
        bad("you must specify description or status to update", "--update", "smithi002"),
        bad(
            "only description and status may be updated",
            "--update",
            "--desc",
            "x",
            "--owner",
            "a@b",
            "smithi002"),
        bad("--status must be up or down, was 'sideways'", "--list", "--status", "sideways"),
        bad("--status must be up or down", "--update", "--status", "UP", "smithi002"),
        bad("--locked must be true or false, was 'yes'", "--brief", "--locked", "yes"),
        // the queue: --queue, and --wait and --priority of the locks
        bad("--summary, --queue are mutually exclusive", "--queue", "--summary"),
        bad("machines cannot be specified with --queue", "--queue", "smithi001"),
        bad("--all can only be used with", "--queue", "-a"),
        bad(
            "Invalid value for option '--priority': 'high' is not an int",
            "--lock-many",
            "1",
            "-m",
            "smithi",
            "--priority",
            "high"),
        bad(
            "--priority -1 is out of range: 0 to 1000000 (0 is the most urgent)",
            "--lock",
            "--priority",
            "-1",
            "smithi002"),
        bad(
            "--priority 1000001 is out of range",
            "--lock-many",
            "1",
            "-m",
            "smithi",
            "--priority",
            "1000001"),
        bad("--priority only goes with --lock and --lock-many", "--list", "--priority", "5"),
        bad("--priority only goes with", "--queue", "--priority", "5"),
        bad("Invalid value for option '--wait': '1m' is not an int", "--lock", "--wait", "1m", "x"),
        bad(
            "--wait -5 is out of range: 0 to 604800 seconds (7 days)",
            "--lock-many",
            "1",
            "-m",
            "smithi",
            "--wait",
            "-5"),
        bad("--wait 604801 is out of range", "--lock", "--wait", "604801", "smithi002"),
        bad("--wait only goes with --lock and --lock-many", "--unlock", "--wait", "5", "smithi001"),
        // bad names, types, owners and OS values: the library's rules
        bad("has characters outside [A-Za-z0-9._@:-]", "--lock", "smithi002;reboot"),
        bad("has characters outside", "--lock", "smithi002 smithi003"),
        bad("has characters outside", "--lock", "it's"),
        bad("has characters outside", "--lock", "\"smithi002\""),
        bad("has characters outside", "--lock", "$(reboot)"),
        bad("has characters outside", "--unlock", "`id`@smithi001"),
        bad("has characters outside", "--lock", "x;reboot@smithi002"),
        bad("has characters outside", "--list", "smithi|mira"),
        bad("machine name must not be blank", "--lock", ""),
        bad("machine name must not be blank", "--lock", "ubuntu@"),
        bad("machine type 'smi;thi' has characters outside", "--lock-many", "1", "-m", "smi;thi"),
        bad(
            "--machine-type 'smithi,,mira' names an empty type",
            "--lock-many",
            "1",
            "-m",
            "smithi,,mira"),
        bad("--machine-type 'smithi|' names an empty type", "--lock-many", "1", "-m", "smithi|"),
        bad("an owner is required", "--lock", "--owner", " ", "smithi002"),
        bad(
            "OS type 'ubuntu;reboot' has characters outside",
            "--lock-many",
            "1",
            "-m",
            "smithi",
            "--os-type",
            "ubuntu;reboot"),
        // targets files
        bad("cannot read the targets file " + missing + ": no such file", "--lock", "-t", missing),
        bad("is not valid YAML at line", "--lock", "-t", dir.resolve("not-yaml.yaml").toString()),
        bad(
            "names no machines: it has no targets: mapping",
            "--unlock",
            "-t",
            dir.resolve("no-targets.yaml").toString()),
        bad(
            "targets: of document 1 must be a mapping",
            "--lock",
            "-t",
            dir.resolve("list-targets.yaml").toString()),
        bad(
            "'smithi001;reboot' has characters outside",
            "--lock",
            "-t",
            dir.resolve("bad-name.yaml").toString()),
        bad("cannot read the inventory file " + missing + ": no such file", "--import", missing),
        // the database
        bad(
            "'postgres://lockdb/lab' is not a JDBC URL",
            "--summary",
            "--db",
            "postgres://lockdb/lab"),
        // what the database refuses
        bad("no machine named " + name("smithi999") + " in the inventory", "--lock", "smithi999"),
        bad("is locked by", "--lock", "--owner", "eve@elsewhere", "smithi001"),
        bad("is locked by", "--unlock", "--owner", "eve@elsewhere", "smithi001"),
        bad(
            name("smithi002") + " is not locked; there is nothing to unlock",
            "--unlock",
            "smithi002"));
  }

  private static Arguments bad(String message, String... args) {
    return Arguments.of(message, List.of(args));
  }

  @ParameterizedTest(name = "{1}")
  @MethodSource("badCommandLines")
  void isRefusedWithOneClearLineAndNothingChanges(String message, List<String> args) {
    Lab.Result result = lab.run(args.toArray(String[]::new));

    assertThat(result.status()).as("%s", result).isEqualTo(1);
    assertThat(result.out()).as("%s", result).isEmpty();
    assertThat(result.errLines()).as("%s", result).hasSize(1);
    assertThat(result.errLines().get(0)).startsWith("machinepool: ").contains(message);
    assertThat(lab.snapshot()).isEqualTo(before);
  }

  @Test
  void helpListsEveryFlagWithExamplesAndExitsZero() {
    Lab.Result result = lab.run("--help");

    assertThat(result.status()).isZero();
    assertThat(result.err()).isEmpty();
    assertThat(result.out())
        .startsWith("Usage: machinepool OPERATION [OPTIONS] [MACHINE...]")
        .contains("Operations (exactly one):", "Examples:", "Exit status: 0 on success")
        .contains(
            "  machinepool --summary\n",
            "  machinepool --lock-many 1 --machine-type vps\n",
            "  machinepool --lock-many 2 -m smithi --wait 3600 --priority 100\n",
            "  machinepool --queue\n",
            "  machinepool --lock -t target.yaml\n",
            "  machinepool --update --status down --desc 'disk errors on sdb' smithi001\n");
    List<String> flags =
        new ArrayList<>(
            List.of(
                "--list",
                "--brief",
                "--list-targets",
                "--lock",
                "--unlock",
                "--lock-many=N",
                "--update",
                "--summary",
                "--queue",
                "--import=FILE",
                "--reap",
                "-a, --all",
                "--owner=OWNER",
                "-f",
                "--desc=TEXT",
                "--desc-pattern=TEXT",
                "-m, --machine-type=TYPE",
                "--status=up|down",
                "--locked=true|false",
                "-t, --targets=FILE",
                "--os-type=OS",
                "--os-version=VERSION",
                "--arch=ARCH",
                "--wait=SECONDS",
                "--priority=N",
                "--db=JDBC_URL",
                "-v, --verbose",
                "-h, --help",
                "[MACHINE...]"));
    assertThat(result.out().lines().map(String::strip))
        .allSatisfy(line -> flags.removeIf(line::startsWith));
    assertThat(flags).as("flags missing from the help").isEmpty();
    assertThat(lab.snapshot()).isEqualTo(before);
  }

  @Test
  void verboseAddsTheStackTraceOfAFailure() {
    Lab.Result quiet = lab.run("--lock", "smithi999");
    assertThat(quiet.err()).doesNotContain("\tat ");

    Lab.Result verbose = lab.run("-v", "--lock", "smithi999");
    assertThat(verbose.status()).isEqualTo(1);
    assertThat(verbose.errLines().get(0)).contains("no machine named " + name("smithi999"));
    assertThat(verbose.err()).contains("NoSuchMachineException", "\tat ");
    assertThat(lab.snapshot()).isEqualTo(before);
  }
}
