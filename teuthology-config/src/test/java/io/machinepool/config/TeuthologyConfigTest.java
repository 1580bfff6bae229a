package io.machinepool.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.machinepool.ConfigurationException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TeuthologyConfigTest {
  @TempDir Path dir;

  private Path write(String name, String text) throws IOException {
    Path file = dir.resolve(name);
    Files.createDirectories(file.getParent());
    Files.writeString(file, text);
    return file;
  }

  @Test
  void theEnvironmentVariableWinsOverTheHomeAndSystemFiles() throws IOException {
    Path named = write("named.yaml", "lab_domain: named.example.com\n");
    write("home/.teuthology.yaml", "lab_domain: home.example.com\n");
    Path system = write("etc/teuthology.yaml", "lab_domain: system.example.com\n");
    TeuthologyConfig config = TeuthologyConfig.load(named.toString(), dir.resolve("home"), system);
    assertThat(config.labDomain()).contains("named.example.com");
    assertThat(config.source()).contains(named);
  }

  @Test
  void theHomeFileWinsOverTheSystemFile() throws IOException {
    write("home/.teuthology.yaml", "lab_domain: home.example.com\n");
    Path system = write("etc/teuthology.yaml", "lab_domain: system.example.com\n");
    assertThat(TeuthologyConfig.load(null, dir.resolve("home"), system).labDomain())
        .contains("home.example.com");
    assertThat(TeuthologyConfig.load("", dir.resolve("nohome"), system).labDomain())
        .contains("system.example.com");
  }

  @Test
  void noFileAtAllIsAnEmptyConfiguration() {
    TeuthologyConfig config =
        TeuthologyConfig.load(null, dir.resolve("nohome"), dir.resolve("none"));
    assertThat(config.source()).isEmpty();
    assertThat(config.downburstPath()).isEmpty();
    assertThat(config.downburstMachines()).isEmpty();
    assertThat(config.labDomain()).isEmpty();
  }

  @Test
  void aVariableNamingAMissingFileIsAnError() {
    assertThatThrownBy(
            () -> TeuthologyConfig.load(dir.resolve("gone.yaml").toString(), dir, dir.resolve("x")))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("TEUTHOLOGY_CONFIG names")
        .hasMessageContaining("gone.yaml");
  }

  @Test
  void downburstAsAPlainStringIsThePath() {
    TeuthologyConfig config =
        TeuthologyConfig.parse("downburst: /opt/downburst/bin/downburst\n", null);
    assertThat(config.downburstPath()).contains(Path.of("/opt/downburst/bin/downburst"));
    assertThat(config.downburstDiscoverUrl()).isEmpty();
  }

  @Test
  void downburstAsAMapGivesPathDiscoverUrlAndMachinesPerType() {
    TeuthologyConfig config =
        TeuthologyConfig.parse(
            String.join(
                "\n",
                "downburst:",
                "  path: /srv/downburst",
                "  discover_url: http://images.example.com/",
                "  machine:",
                "    - type: [vps, vpm]",
                "      disk: 40G",
                "      ram: 8G",
                "      cpus: 4",
                "      volumes: {count: 2, size: 20G}",
                "    - type: big",
                "      cpus: 16",
                ""),
            null);
    assertThat(config.downburstPath()).contains(Path.of("/srv/downburst"));
    assertThat(config.downburstDiscoverUrl()).contains("http://images.example.com/");
    assertThat(config.downburstMachine("vpm"))
        .contains(new DownburstMachine(List.of("vps", "vpm"), "40G", "8G", 4, 2, "20G", null));
    assertThat(config.downburstMachine("big").orElseThrow().cpus()).isEqualTo(16);
    assertThat(config.downburstMachine("other")).isEmpty();
  }

  @Test
  void aSingleMachineMapAppliesToEveryType() {
    TeuthologyConfig config = TeuthologyConfig.parse("downburst:\n  machine:\n    ram: 2G\n", null);
    assertThat(config.downburstMachine("anything").orElseThrow().ram()).isEqualTo("2G");
  }

  @Test
  void unknownKeysAreIgnored() {
    TeuthologyConfig config =
        TeuthologyConfig.parse(
            "lock_server: http://paddles\nresults_server: x\nqueue_host: y\nlab_domain: front.sepia.ceph.com\n",
            null);
    assertThat(config.labDomain()).contains("front.sepia.ceph.com");
  }

  @Test
  void machinePoolSettingsAreRead() {
    TeuthologyConfig config =
        TeuthologyConfig.parse(
            "machine_pool:\n  database_url: jdbc:postgresql://db/lab\n  lease_duration: 10m\nssh_key: ~/.ssh/id_ed25519\n",
            null);
    assertThat(config.databaseUrl()).contains("jdbc:postgresql://db/lab");
    assertThat(config.leaseDuration()).contains(Duration.ofMinutes(10));
    assertThat(config.sshKey())
        .contains(Path.of(System.getProperty("user.home"), ".ssh/id_ed25519"));
    assertThat(TeuthologyConfig.parse("machine_pool: {lease_duration: 90}", null).leaseDuration())
        .contains(Duration.ofSeconds(90));
    assertThat(TeuthologyConfig.parse("machine_pool: {lease_duration: PT2H}", null).leaseDuration())
        .contains(Duration.ofHours(2));
  }

  @Test
  void everyPathOfTheFileHasTheHomeDirectoryForALeadingTilde() {
    Path home = Path.of("/home/alice");
    TeuthologyConfig config =
        TeuthologyConfig.parse(
            "downburst: ~/bin/downburst\nssh_key: ~/.ssh/id_ed25519\n"
                + "machine_pool: {libvirt_config: '~'}\n",
            null,
            home);

    assertThat(config.downburstPath()).contains(Path.of("/home/alice/bin/downburst"));
    assertThat(config.sshKey()).contains(Path.of("/home/alice/.ssh/id_ed25519"));
    assertThat(config.libvirtConfig()).contains(home);
  }

  @Test
  void aTildeOfAnotherUserAndATildeInsideAPathStayAsWritten() {
    TeuthologyConfig config =
        TeuthologyConfig.parse(
            "downburst: ~bob/bin/downburst\nssh_key: keys/~/id\n", null, Path.of("/home/alice"));

    assertThat(config.downburstPath()).contains(Path.of("~bob/bin/downburst"));
    assertThat(config.sshKey()).contains(Path.of("keys/~/id"));
  }

  @Test
  void aBlankPathIsAConfigurationExceptionNamingTheKey() {
    assertThatThrownBy(() -> TeuthologyConfig.parse("ssh_key: ' '\n", null))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("ssh_key must be a path");
    assertThatThrownBy(() -> TeuthologyConfig.parse("downburst: {path: \"a\\0b\"}\n", null))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("downburst.path must be a path");
  }

  @Test
  void sshAddressesSayWhereMachinesAreReached() {
    TeuthologyConfig config =
        TeuthologyConfig.parse(
            "machine_pool:\n  ssh_addresses:\n    vpm011.front.sepia.ceph.com: 127.0.0.1\n", null);
    assertThat(config.sshAddress("vpm011.front.sepia.ceph.com")).contains("127.0.0.1");
    assertThat(config.sshAddress("vpm012.front.sepia.ceph.com")).isEmpty();
    assertThat(TeuthologyConfig.empty().sshAddress("vpm011")).isEmpty();
    assertThatThrownBy(() -> TeuthologyConfig.parse("machine_pool: {ssh_addresses: [a]}", null))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("machine_pool.ssh_addresses must be a map");
    assertThatThrownBy(
            () -> TeuthologyConfig.parse("machine_pool: {ssh_addresses: {a: [b]}}", null))
        .hasMessageContaining("machine_pool.ssh_addresses must be a map of machine names");
  }

  @Test
  void downburstCreateArgumentsAndTheLibvirtConfigAreRead() {
    TeuthologyConfig config =
        TeuthologyConfig.parse(
            "machine_pool:\n  downburst_create_args: [--nokey, -v]\n"
                + "  libvirt_config: ~/lab/libvirt.conf\n",
            null);
    assertThat(config.downburstCreateArguments()).containsExactly("--nokey", "-v");
    assertThat(config.libvirtConfig())
        .contains(Path.of(System.getProperty("user.home"), "lab/libvirt.conf"));
    assertThat(
            TeuthologyConfig.parse("machine_pool: {downburst_create_args: --nokey}", null)
                .downburstCreateArguments())
        .containsExactly("--nokey");
    assertThat(TeuthologyConfig.empty().downburstCreateArguments()).isEmpty();
    assertThat(TeuthologyConfig.empty().libvirtConfig()).isEmpty();
    assertThatThrownBy(
            () -> TeuthologyConfig.parse("machine_pool: {downburst_create_args: [1, 2]}", null))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("machine_pool.downburst_create_args must be a string or a list");
  }

  @Test
  void malformedYamlNamesTheFileAndTheLine() throws IOException {
    Path file = write("bad.yaml", "lab_domain: a\ndownburst:\n  path: [unclosed\n  other: x\n");
    assertThatThrownBy(() -> TeuthologyConfig.load(file))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining(file.toString())
        .hasMessageMatching("(?s).*is not valid YAML at line \\d+, column \\d+.*");
  }

  @Test
  void valuesOfTheWrongKindNameTheKey() {
    assertThatThrownBy(() -> TeuthologyConfig.parse("downburst: {path: [a, b]}", null))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("downburst.path must be a string");
    assertThatThrownBy(() -> TeuthologyConfig.parse("downburst: {machine: 3}", null))
        .hasMessageContaining("downburst.machine must be a map or a list of maps");
    assertThatThrownBy(() -> TeuthologyConfig.parse("downburst: {machine: [{cpus: many}]}", null))
        .hasMessageContaining("downburst.machine[0].cpus must be a whole number");
    assertThatThrownBy(() -> TeuthologyConfig.parse("machine_pool: {lease_duration: soon}", null))
        .hasMessageContaining("machine_pool.lease_duration must be a positive duration");
    assertThatThrownBy(() -> TeuthologyConfig.parse("- just\n- a list\n", null))
        .hasMessageContaining("must be a YAML mapping");
  }

  @Test
  void timeoutsPauseAndAttemptsOfProvisioningAreRead() {
    TeuthologyConfig config =
        TeuthologyConfig.parse(
            "machine_pool:\n  ssh_timeout: 2m\n  downburst_create_timeout: 15m\n"
                + "  downburst_destroy_timeout: PT90S\n  downburst_retry_pause: 0\n"
                + "  downburst_create_attempts: 1\n",
            null);
    assertThat(config.sshTimeout()).contains(Duration.ofMinutes(2));
    assertThat(config.downburstCreateTimeout()).contains(Duration.ofMinutes(15));
    assertThat(config.downburstDestroyTimeout()).contains(Duration.ofSeconds(90));
    assertThat(config.downburstRetryPause()).contains(Duration.ZERO);
    assertThat(config.downburstCreateAttempts()).hasValue(1);
    assertThat(
            TeuthologyConfig.parse("machine_pool: {downburst_retry_pause: 30s}", null)
                .downburstRetryPause())
        .contains(Duration.ofSeconds(30));
    TeuthologyConfig none = TeuthologyConfig.empty();
    assertThat(none.sshTimeout()).isEmpty();
    assertThat(none.downburstCreateAttempts()).isEmpty();
  }

  @Test
  void outOfRangeProvisioningSettingsAreErrorsNamingTheKey() {
    assertThatThrownBy(() -> TeuthologyConfig.parse("machine_pool: {ssh_timeout: 0}", null))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("machine_pool.ssh_timeout must be a positive duration");
    assertThatThrownBy(
            () -> TeuthologyConfig.parse("machine_pool: {downburst_create_timeout: -5}", null))
        .hasMessageContaining("machine_pool.downburst_create_timeout must be a positive duration");
    assertThatThrownBy(
            () -> TeuthologyConfig.parse("machine_pool: {downburst_retry_pause: later}", null))
        .hasMessageContaining("machine_pool.downburst_retry_pause must be zero or a positive");
    assertThatThrownBy(
            () -> TeuthologyConfig.parse("machine_pool: {downburst_create_attempts: 0}", null))
        .hasMessageContaining(
            "machine_pool.downburst_create_attempts must be a whole number from 1 (no retry) to"
                + " 20");
    assertThatThrownBy(
            () -> TeuthologyConfig.parse("machine_pool: {downburst_create_attempts: 21}", null))
        .hasMessageContaining("downburst_create_attempts");
  }

  @Test
  void unsafeYamlTagsAreRefused() {
    assertThatThrownBy(
            () ->
                TeuthologyConfig.parse(
                    "lab_domain: !!javax.script.ScriptEngineManager [x]\n", null))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("not valid YAML");
  }

  @Test
  void shortNamesAreCompletedWithTheLabDomain() {
    TeuthologyConfig config = TeuthologyConfig.parse("lab_domain: front.sepia.ceph.com", null);
    assertThat(config.canonicalize("smithi001")).isEqualTo("smithi001.front.sepia.ceph.com");
    assertThat(config.canonicalize("ubuntu@smithi001")).isEqualTo("smithi001.front.sepia.ceph.com");
    assertThat(config.canonicalize("smithi001.other.org")).isEqualTo("smithi001.other.org");
    assertThat(TeuthologyConfig.empty().canonicalize("smithi001")).isEqualTo("smithi001");
  }

  @Test
  void anEmptyLabDomainMeansNoDomain() {
    for (String yaml : List.of("lab_domain: ''\n", "lab_domain: \"\"\n", "lab_domain: ' '\n")) {
      TeuthologyConfig config = TeuthologyConfig.parse(yaml, null);
      assertThat(config.labDomain()).as(yaml).isEmpty();
      assertThat(config.canonicalize("smithi001")).as(yaml).isEqualTo("smithi001");
      assertThat(config.canonicalize("ubuntu@smithi001")).as(yaml).isEqualTo("smithi001");
    }
  }

  @Test
  void anEmptyFileIsAnEmptyConfiguration() {
    assertThat(TeuthologyConfig.parse("", null).labDomain()).isEmpty();
  }
}
