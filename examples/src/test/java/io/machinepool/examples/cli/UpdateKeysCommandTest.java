package io.machinepool.examples.cli;

import static io.machinepool.examples.cli.Lab.KEY;
import static io.machinepool.examples.cli.Lab.name;
import static org.assertj.core.api.Assertions.assertThat;

import io.machinepool.HostKey;
import io.machinepool.HostKeyScanner;
import io.machinepool.MachinePool;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --update-keys}: teuthology-updatekeys, with machines, a targets file or {@code -a}. */
class UpdateKeysCommandTest {
  private static final String NEW_KEY =
      "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g";

  private Lab lab;

  /** What the stand-in scanner answers, by host; a host without an answer does not answer. */
  private final Map<String, String> answers = new ConcurrentHashMap<>();

  private final List<String> scanned = new java.util.concurrent.CopyOnWriteArrayList<>();

  private PoolOpener scanning;

  @BeforeEach
  void lab() {
    lab = new Lab();
    HostKeyScanner scanner =
        (host, port, timeout) -> {
          scanned.add(host);
          String key = answers.get(host);
          if (key == null) {
            throw new IllegalStateException("connection refused");
          }
          return List.of(HostKey.parse(key));
        };
    scanning =
        (url, config, listener) -> {
          JdbcDataSource h2 = new JdbcDataSource();
          h2.setURL(url);
          MachinePool pool =
              MachinePool.builder()
                  .dataSource(h2)
                  .hostKeyScanner(scanner)
                  .sshTimeout(Duration.ofSeconds(5))
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

  @Test
  void updateKeysOnAPoolWithoutAScannerSaysSoWithoutJavaAdvice() {
    Lab.Result result = lab.run(Lab::bare, "--update-keys", "smithi002");

    assertThat(result.status()).isEqualTo(1);
    assertThat(result.out()).isEmpty();
    assertThat(result.err())
        .isEqualTo("machinepool: this pool has no host key scanner\n")
        .doesNotContain("hostKeyScanner(", "JschHostKeyScanner");
    assertThat(lab.machine("smithi002").hostKeys()).isEmpty();
  }

  @Test
  void updateKeysStoresTheKeysThatChangedAndSaysWhichDidNot() {
    answers.put(name("smithi001"), KEY);
    answers.put(name("smithi002"), NEW_KEY);

    Lab.Result result = lab.run(scanning, "--update-keys", "smithi001", "smithi002");

    assertThat(result.status()).as("%s", result).isZero();
    assertThat(result.err()).isEmpty();
    assertThat(result.out())
        .isEqualTo(
            name("smithi001")
                + ": host keys unchanged\n"
                + name("smithi002")
                + ": host keys updated\n");
    assertThat(lab.machine("smithi002").hostKeys()).containsExactly(HostKey.parse(NEW_KEY));
  }

  @Test
  void aMachineThatDoesNotAnswerKeepsItsKeysAndFailsTheRun() {
    answers.put(name("smithi002"), NEW_KEY);

    Lab.Result result = lab.run(scanning, "--update-keys", "smithi001", "smithi002");

    assertThat(result.status()).isEqualTo(1);
    assertThat(result.out()).isEqualTo(name("smithi002") + ": host keys updated\n");
    assertThat(result.errLines())
        .singleElement()
        .asString()
        .startsWith("machinepool: could not scan the host keys of " + name("smithi001") + ": ")
        .contains("connection refused")
        .endsWith("; its stored keys stay");
    assertThat(lab.machine("smithi001").hostKeys()).containsExactly(HostKey.parse(KEY));
  }

  @Test
  void updateKeysTakesATargetsFileOrEveryMachineWithAll(@TempDir Path dir) throws Exception {
    answers.put(name("smithi003"), NEW_KEY);
    Path targets = dir.resolve("targets.yaml");
    Files.writeString(targets, "targets:\n  " + name("smithi003") + ": null\n");

    Lab.Result fromFile = lab.run(scanning, "--update-keys", "-t", targets.toString());
    assertThat(fromFile.status()).as("%s", fromFile).isZero();
    assertThat(scanned).containsExactly(name("smithi003"));

    scanned.clear();
    Lab.Result all = lab.run(scanning, "--update-keys", "-a");
    assertThat(all.status()).as("the others do not answer").isEqualTo(1);
    assertThat(scanned).hasSize(lab.snapshot().size());
    assertThat(all.out()).isEqualTo(name("smithi003") + ": host keys unchanged\n");
    assertThat(all.errLines()).hasSize(lab.snapshot().size() - 1);
  }

  @Test
  void anUnknownMachineIsReportedAndNothingIsScanned() {
    Lab.Result result = lab.run(scanning, "--update-keys", "smithi001", "smithi999");

    assertThat(result.status()).isEqualTo(1);
    assertThat(result.errLines())
        .containsExactly(
            "machinepool: no machine named " + name("smithi999") + " in the inventory",
            "machinepool: no host keys were scanned");
    assertThat(scanned).isEmpty();
  }
}
