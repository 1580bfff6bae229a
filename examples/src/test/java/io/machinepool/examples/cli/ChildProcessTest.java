package io.machinepool.examples.cli;

import static io.machinepool.examples.cli.Lab.ME;
import static org.assertj.core.api.Assertions.assertThat;

import io.machinepool.HostKey;
import io.machinepool.Machine;
import io.machinepool.MachinePool;
import io.machinepool.MachineSpec;
import io.machinepool.downburst.LibvirtAliases;
import io.machinepool.examples.simulator.LocalLab;
import io.machinepool.examples.support.LockDatabase;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;

/**
 * The tool as a person runs it: {@code java ... io.machinepool.examples.cli.Main} in processes of
 * its own on an H2 file, with the config file named by {@code TEUTHOLOGY_CONFIG}. A lock made by
 * one process is seen by the next and freed by a third; runs started at once on the default file
 * take turns at it and all succeed.
 */
class ChildProcessTest {
  private static final long TIMEOUT_SECONDS = 60;
  private static final String DOMAIN = "front.sepia.ceph.com";
  private static final HostKey KEY =
      HostKey.parse(
          "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJzB5HD6gfzJ1JN5XnbAz2mlcmpPxa7iGZi7kdoMiuvE");

  @TempDir Path dir;

  private record Run(int status, String out, String err) {}

  private Run tool(String... args) throws Exception {
    return tool(Map.of(), args);
  }

  /** Runs the tool with these environment variables set, or removed where the value is empty. */
  private Run tool(Map<String, String> env, String... args) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx128m");
    command.add("-XX:TieredStopAtLevel=1");
    command.add("-Duser.home=" + dir); // never the real ~/.teuthology.yaml or ~/.machinepool
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(Main.class.getName());
    command.addAll(List.of(args));
    Path out = Files.createTempFile(dir, "out", ".txt");
    Path err = Files.createTempFile(dir, "err", ".txt");
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .directory(dir.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
            .redirectOutput(out.toFile())
            .redirectError(err.toFile());
    builder.environment().put("TEUTHOLOGY_CONFIG", dir.resolve("teuthology.yaml").toString());
    env.forEach(
        (name, value) -> {
          if (value.isEmpty()) {
            builder.environment().remove(name);
          } else {
            builder.environment().put(name, value);
          }
        });
    Process process = builder.start();
    try {
      assertThat(process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS))
          .as("machinepool %s finished within %d s", List.of(args), TIMEOUT_SECONDS)
          .isTrue();
    } finally {
      if (process.isAlive()) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
    return new Run(
        process.exitValue(),
        Files.readString(out, StandardCharsets.UTF_8),
        Files.readString(err, StandardCharsets.UTF_8));
  }

  @Test
  void lockInOneProcessListInAnotherUnlockInAThird() throws Exception {
    String url = "jdbc:h2:file:" + dir.resolve("locks") + ";AUTO_SERVER=TRUE";
    Files.writeString(
        dir.resolve("teuthology.yaml"),
        "lab_domain: " + DOMAIN + "\nmachine_pool:\n  database_url: '" + url + "'\n");
    JdbcDataSource h2 = new JdbcDataSource();
    h2.setURL(url);
    try (MachinePool pool = MachinePool.builder().dataSource(h2).releaseOnShutdown(false).build()) {
      pool.inventory()
          .addAll(
              MachineSpec.physical("smithi001." + DOMAIN, "smithi"),
              MachineSpec.physical("smithi002." + DOMAIN, "smithi"));
      // With stored keys a physical machine is not scanned when it is locked.
      for (String smithi : List.of("smithi001." + DOMAIN, "smithi002." + DOMAIN)) {
        pool.hostKeys()
            .replace(
                smithi,
                List.of(
                    HostKey.parse(
                        "ssh-ed25519"
                            + " AAAAC3NzaC1lZDI1NTE5AAAAIJzB5HD6gfzJ1JN5XnbAz2mlcmpPxa7iGZi7kdoMiuvE")));
      }
    }

    Run locked = tool("--db", url, "--lock", "--desc", "child-test", "smithi001");
    assertThat(locked.status()).as("%s", locked).isZero();
    assertThat(locked.out()).isEmpty();
    assertThat(locked.err()).isEmpty();

    Run listed = tool("--brief"); // the database of the config file
    assertThat(listed.status()).as("%s", listed).isZero();
    assertThat(listed.out())
        .isEqualTo("smithi001." + DOMAIN + " up   locked   " + ME + " \"child-test\"\n");
    Run summary = tool("--summary");
    assertThat(summary.out()).contains("smithi     1    1  " + ME + "\n", "           2    2\n");

    Run unlocked = tool("--db", url, "--unlock", "smithi001");
    assertThat(unlocked.status()).as("%s", unlocked).isZero();
    assertThat(unlocked.err()).isEmpty();

    try (MachinePool pool = MachinePool.builder().dataSource(h2).releaseOnShutdown(false).build()) {
      Machine m = pool.machine("smithi001." + DOMAIN).orElseThrow();
      assertThat(m.locked()).isFalse();
      assertThat(m.description()).isEqualTo("child-test");
    }
  }

  @Test
  void theOwnerIsLognameElseUserAtTheHostAndAScanFailureIsOnePlainLine() throws Exception {
    String url = "jdbc:h2:file:" + dir.resolve("locks") + ";AUTO_SERVER=TRUE";
    Files.writeString(dir.resolve("teuthology.yaml"), "lab_domain: " + DOMAIN + "\n");
    JdbcDataSource h2 = new JdbcDataSource();
    h2.setURL(url);
    try (MachinePool pool = MachinePool.builder().dataSource(h2).releaseOnShutdown(false).build()) {
      pool.inventory()
          .addAll(
              MachineSpec.physical("smithi001." + DOMAIN, "smithi"),
              MachineSpec.physical("smithi002." + DOMAIN, "smithi"));
    }
    String host = ME.substring(ME.indexOf('@'));

    Run byLogname =
        tool(Map.of("LOGNAME", "carol", "USER", "dave"), "--db", url, "--lock", "smithi001");
    Run byUser = tool(Map.of("LOGNAME", "", "USER", "dave"), "--db", url, "--lock", "smithi002");

    try (MachinePool pool = MachinePool.builder().dataSource(h2).releaseOnShutdown(false).build()) {
      assertThat(pool.machine("smithi001." + DOMAIN).orElseThrow().lockedBy())
          .as("%s", byLogname)
          .isEqualTo("carol" + host);
      assertThat(pool.machine("smithi002." + DOMAIN).orElseThrow().lockedBy())
          .as("%s", byUser)
          .isEqualTo("dave" + host);
    }
    // smithi001 does not resolve: one line of the tool's, no logger's WARN with thread and name
    assertThat(byLogname.status()).isZero();
    assertThat(byLogname.err().lines().toList())
        .singleElement()
        .asString()
        .startsWith("machinepool: warning: smithi001." + DOMAIN + " is locked without host keys: ")
        .doesNotContain("WARN", "[main]", "io.machinepool.Provisioning");
  }

  /**
   * A library warning other than the scan's, which the tool does not report itself: downburst's
   * list-json fails, so the built-in table serves and does not list the version asked for. The only
   * VM slot is down, so nothing is locked and downburst creates nothing.
   */
  @Test
  void aLibraryWarningIsAPlainLineOfTheToolAndKeepsItsLoggerWithVerbose() throws Exception {
    String url = "jdbc:h2:file:" + dir.resolve("locks") + ";AUTO_SERVER=TRUE";
    Path downburst = dir.resolve("downburst");
    Files.writeString(
        downburst,
        """
        #!/bin/sh
        # A downburst whose list-json cannot reach the image index; nothing else is asked of it.
        case "$*" in
          *list-json*) echo 'cannot reach the image index' >&2; exit 1 ;;
        esac
        echo "unexpected: downburst $*" >&2
        exit 2
        """);
    Files.setPosixFilePermissions(downburst, PosixFilePermissions.fromString("rwx------"));
    Path libvirt = dir.resolve("libvirt.conf");
    Files.writeString(libvirt, LibvirtAliases.render(List.of("mira001." + DOMAIN)));
    Files.writeString(
        dir.resolve("teuthology.yaml"),
        "lab_domain: "
            + DOMAIN
            + "\ndownburst: '"
            + downburst
            + "'\nmachine_pool:\n  database_url: '"
            + url
            + "'\n  libvirt_config: '"
            + libvirt
            + "'\n");
    JdbcDataSource h2 = new JdbcDataSource();
    h2.setURL(url);
    try (MachinePool pool = MachinePool.builder().dataSource(h2).releaseOnShutdown(false).build()) {
      pool.inventory()
          .addAll(
              MachineSpec.physical("mira001." + DOMAIN, "mira"),
              MachineSpec.vm("vpm011." + DOMAIN, "vps", "mira001." + DOMAIN)
                  .withMacAddress("52:54:00:00:00:11"));
      pool.inventory().markDown("vpm011." + DOMAIN, "disk errors");
    }
    String[] lock = {
      "--lock-many", "1", "-m", "vps", "--os-type", "ubuntu", "--os-version", "19.10"
    };
    String unlisted =
        "ubuntu 19.10 is not in the built-in table of what downburst can install (list-json is"
            + " not available); passing it to downburst, which installs it from the VM host's"
            + " image cache or a download, and fails at once if it has no such image";

    Run plain = tool(lock);

    assertThat(plain.status()).as("%s", plain).isEqualTo(1);
    assertThat(plain.out()).isEmpty();
    List<String> lines = plain.err().lines().toList();
    assertThat(lines)
        .as("%s", plain)
        .contains("machinepool: warning: " + unlisted)
        .anySatisfy(
            line ->
                assertThat(line)
                    .startsWith(
                        "machinepool: warning: "
                            + downburst
                            + " list-json failed, so OS requests are checked against the built-in"
                            + " table of what downburst can install (")
                    .endsWith("exited with code 1: cannot reach the image index"))
        .allSatisfy(
            line ->
                assertThat(line)
                    .startsWith("machinepool: ")
                    .doesNotContain("WARN", "[main]", "io.machinepool", "DownburstProvisioner"));

    List<String> verbose = new ArrayList<>(List.of(lock));
    verbose.add(0, "-v");
    Run detailed = tool(verbose.toArray(String[]::new));

    assertThat(detailed.status()).as("%s", detailed).isEqualTo(1);
    assertThat(detailed.err().lines())
        .as("%s", detailed)
        .contains("[main] WARN io.machinepool.downburst.DownburstProvisioner - " + unlisted);
  }

  @Test
  void vmsOfTheLabSimulatorAreReimagedOnLockAndDestroyedOnUnlock() throws Exception {
    try (LocalLab lab = LocalLab.builder().vmHost("mira001", "vpm011", "vpm012").build()) {
      String url = "jdbc:h2:file:" + dir.resolve("locks") + ";AUTO_SERVER=TRUE";
      Files.writeString(
          dir.resolve("teuthology.yaml"),
          Files.readString(lab.teuthologyConfigFile()) + "  database_url: '" + url + "'\n");
      JdbcDataSource h2 = new JdbcDataSource();
      h2.setURL(url);
      try (MachinePool pool =
          MachinePool.builder().dataSource(h2).releaseOnShutdown(false).build()) {
        pool.inventory().addAll(lab.inventory());
      }

      Run locked =
          tool("--lock-many", "1", "-m", "vps", "--os-type", "ubuntu", "--os-version", "24.04");
      assertThat(locked.status()).as("%s", locked).isZero();
      Map<String, Map<String, String>> targets = new Yaml().load(locked.out());
      String vm = targets.get("targets").keySet().iterator().next();
      HostKey key = HostKey.parse(targets.get("targets").get(vm));
      assertThat(key.type()).isEqualTo("ssh-ed25519");
      assertThat(lab.runningVms()).as("a durable lock keeps its VM").containsExactly(vm);

      Run listed = tool("--list-targets");
      assertThat(listed.status()).as("%s", listed).isZero();
      assertThat(listed.out()).isEqualTo("targets:\n  " + vm + ": " + key + "\n");

      Run unlocked = tool("--unlock", vm);
      assertThat(unlocked.status()).as("%s", unlocked).isZero();
      assertThat(lab.runningVms()).isEmpty();
      try (MachinePool pool =
          MachinePool.builder().dataSource(h2).releaseOnShutdown(false).build()) {
        Machine m = pool.machine(vm).orElseThrow();
        assertThat(m.locked()).isFalse();
        assertThat(m.hostKeys()).isEmpty();
      }
    }
  }

  /** Adds smithi001 to smithiN to the default database, each with a stored key (so no scan). */
  private void defaultDatabaseWith(int machines) throws Exception {
    Files.writeString(dir.resolve("teuthology.yaml"), "lab_domain: " + DOMAIN + "\n");
    JdbcDataSource h2 = new JdbcDataSource();
    h2.setURL("jdbc:h2:file:" + dir.resolve(LockDatabase.DEFAULT_FILE));
    try (MachinePool pool = MachinePool.builder().dataSource(h2).releaseOnShutdown(false).build()) {
      for (int i = 1; i <= machines; i++) {
        String name = String.format("smithi%03d.%s", i, DOMAIN);
        pool.inventory().add(MachineSpec.physical(name, "smithi"));
        pool.hostKeys().replace(name, List.of(KEY));
      }
    }
  }

  @Test
  void eightRunsAtOnceOnTheDefaultH2FileAllLockAndUnlock() throws Exception {
    int runs = 8;
    defaultDatabaseWith(runs);
    ExecutorService executor = Executors.newFixedThreadPool(runs);
    try {
      List<Future<List<Run>>> sequences = new ArrayList<>();
      for (int i = 1; i <= runs; i++) {
        String machine = String.format("smithi%03d", i);
        String description = "job-" + i;
        sequences.add(
            executor.submit(
                () ->
                    List.of(
                        tool("--lock", "--desc", description, machine),
                        tool("--unlock", "--desc", description, machine))));
      }
      for (Future<List<Run>> sequence : sequences) {
        for (Run run : sequence.get(TIMEOUT_SECONDS * 2, TimeUnit.SECONDS)) {
          assertThat(run.status()).as("%s", run).isZero();
          assertThat(run.err()).as("%s", run).isEmpty();
        }
      }
    } finally {
      executor.shutdownNow();
    }

    Run listed = tool("--brief", "-a");
    assertThat(listed.out().lines())
        .hasSize(runs)
        .allSatisfy(line -> assertThat(line).contains(" up   unlocked None "));
  }

  @Test
  void twoListingsAtOnceOnTheDefaultH2FileBothSucceed() throws Exception {
    defaultDatabaseWith(3);
    ExecutorService executor = Executors.newFixedThreadPool(2);
    try {
      Future<Run> first = executor.submit(() -> tool("--brief", "-a"));
      Future<Run> second = executor.submit(() -> tool("--brief", "-a"));
      for (Run run :
          List.of(
              first.get(TIMEOUT_SECONDS, TimeUnit.SECONDS),
              second.get(TIMEOUT_SECONDS, TimeUnit.SECONDS))) {
        assertThat(run.status()).as("%s", run).isZero();
        assertThat(run.err()).as("%s", run).isEmpty();
        assertThat(run.out().lines()).hasSize(3);
      }
    } finally {
      executor.shutdownNow();
    }
  }

  @Test
  void aUsageErrorExitsOneWithTheReasonOnStandardError() throws Exception {
    Files.writeString(dir.resolve("teuthology.yaml"), "lab_domain: " + DOMAIN + "\n");

    Run run = tool("--lock-many", "0", "-m", "smithi");

    assertThat(run.status()).isEqualTo(1);
    assertThat(run.out()).isEmpty();
    assertThat(run.err())
        .isEqualTo("machinepool: --lock-many 0 is not positive: lock at least 1\n");
    assertThat(dir.resolve(".machinepool")).as("no database was opened").doesNotExist();
  }
}
