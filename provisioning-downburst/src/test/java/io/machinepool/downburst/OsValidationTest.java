package io.machinepool.downburst;

import static io.machinepool.downburst.DownburstProvisionerTest.request;
import static io.machinepool.downburst.DownburstProvisionerTest.vm;
import static io.machinepool.downburst.DownburstProvisionerTest.yaml;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.machinepool.InvalidRequestException;
import io.machinepool.LockRequest;
import io.machinepool.ProvisioningException;
import io.machinepool.config.TeuthologyConfig;
import io.machinepool.testing.LogCapture;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The OS check before locking: downburst list-json, its cache, and the built-in fallback. */
@EnabledOnOs(OS.LINUX)
class OsValidationTest {
  static final SortedSet<String> HOSTS = new TreeSet<>(List.of("mira001.front.sepia.ceph.com"));

  @RegisterExtension final LogCapture log = new LogCapture();

  @TempDir Path tmp;
  FakeDownburst fake;

  @BeforeEach
  void fake() {
    fake = new FakeDownburst(tmp);
  }

  DownburstProvisioner.Builder builder() {
    return DownburstProvisioner.builder()
        .config(TeuthologyConfig.parse("downburst: " + fake.executable(), null))
        .environment(Map.of("PATH", "/usr/bin:/bin"))
        .homes(List.of())
        .temporaryDirectory(tmp)
        .checkLibvirtAliases(false)
        .retryPause(Duration.ZERO);
  }

  @Test
  void knownVersionsAndCodenamesOfListJsonPass() {
    fake.listJson(
        "{\"ubuntu\": [\"22.04(jammy)\", \"24.04(noble)\"], \"rocky\": [\"9.6\"],"
            + " \"opensuse\": [\"15.6(leap)\"]}");
    DownburstProvisioner provisioner = builder().build();

    for (LockRequest ok :
        List.of(
            request("ubuntu", "22.04"),
            request("ubuntu", "jammy"),
            request("Ubuntu", "24.04"),
            request("rocky", "9.6"),
            request("opensuse", "leap"),
            request("rocky", null),
            LockRequest.builder().owner("a@b").machineType("vps").count(1).build())) {
      assertThatCode(() -> provisioner.validate(ok, HOSTS))
          .as("%s %s", ok.osType(), ok.osVersion())
          .doesNotThrowAnyException();
    }
  }

  @Test
  void anUnknownVersionIsRejectedListingTheKnownOnes() {
    fake.listJson("{\"ubuntu\": [\"22.04(jammy)\", \"24.04(noble)\"], \"centos\": [\"9.stream\"]}");

    assertThatThrownBy(() -> builder().build().validate(request("ubuntu", "18.04"), HOSTS))
        .isInstanceOf(InvalidRequestException.class)
        .hasMessage(
            "downburst cannot install ubuntu 18.04: the versions of ubuntu known to downburst"
                + " list-json are 22.04(jammy), 24.04(noble) (ask for the version or the codename"
                + " in parentheses)");
  }

  @Test
  void anUnknownDistributionIsRejectedListingTheKnownOnes() {
    fake.listJson("{\"ubuntu\": [\"24.04(noble)\"], \"centos\": [\"9.stream\"]}");

    assertThatThrownBy(() -> builder().build().validate(request("windows", "11"), HOSTS))
        .isInstanceOf(InvalidRequestException.class)
        .hasMessageContaining("downburst cannot install OS type 'windows'")
        .hasMessageContaining("known to downburst list-json are centos, ubuntu");
  }

  @Test
  void listJsonRunsOncePerExecutableAndIsCached() {
    fake.listJson("{\"ubuntu\": [\"24.04(noble)\"]}");

    DownburstProvisioner first = builder().build();
    first.validate(request("ubuntu", "24.04"), HOSTS);
    first.validate(request("ubuntu", "noble"), HOSTS);
    builder().build().validate(request("ubuntu", "24.04"), HOSTS);
    first.provision(vm(), request("ubuntu", "24.04"));

    assertThat(fake.calls("list-json")).hasSize(1);
    assertThat(fake.calls("list-json").get(0).argv()).containsExactly("list-json");
    assertThat(fake.calls("list-json").get(0).environment())
        .containsExactlyInAnyOrderEntriesOf(Map.of("PATH", "/usr/bin:/bin"));
  }

  @Test
  void whenListJsonFailsTheBuiltInTableIsUsed() {
    fake.plan("list-json", "offline");
    DownburstProvisioner provisioner = builder().build();

    provisioner.validate(request("ubuntu", "24.04"), HOSTS);
    provisioner.validate(request("ubuntu", "jammy"), HOSTS);
    provisioner.validate(request("centos", "9.stream"), HOSTS);
    provisioner.validate(request("rocky", "10.0"), HOSTS);
    provisioner.validate(request("debian", "12"), HOSTS);
    assertThatThrownBy(() -> provisioner.validate(request("plan9", "4"), HOSTS))
        .isInstanceOf(InvalidRequestException.class)
        .hasMessageContaining("the distributions known to the built-in table")
        .hasMessageContaining("alma, centos, debian");
    // within the retry interval, list-json is not run again
    assertThat(fake.calls("list-json")).hasSize(1);
    log.expect("io.machinepool.downburst.DownburstProvisioner", "list-json failed");
    assertThat(
            log.entries(
                "io.machinepool.downburst.DownburstProvisioner",
                "list-json failed, so OS requests are checked against"))
        .as("said once, at WARN")
        .singleElement()
        .satisfies(e -> assertThat(e.level()).isEqualTo("WARN"));
  }

  @Test
  void offlineTheReleasesOfTeuthologysTableAreKnown() {
    fake.plan("list-json", "offline");
    DownburstProvisioner provisioner = builder().build();
    log.expect("io.machinepool.downburst.DownburstProvisioner", "list-json failed");

    for (String[] os :
        new String[][] {
          {"rocky", "9.7"},
          {"alma", "9.7"},
          {"alma", "10.1"},
          {"ubuntu", "24.10"},
          {"ubuntu", "oracular"},
          {"ubuntu", "26.04"}
        }) {
      provisioner.validate(request(os[0], os[1]), HOSTS);
    }
    assertThat(log.entries("io.machinepool.downburst.DownburstProvisioner", "not in the built-in"))
        .isEmpty();
  }

  @Test
  void offlineAVersionTheBuiltInTableLacksIsPassedToDownburstWithAWarningOnce() {
    fake.plan("list-json", "offline");
    DownburstProvisioner provisioner = builder().build();
    log.expect("io.machinepool.downburst.DownburstProvisioner", "list-json failed");
    log.expect("io.machinepool.downburst.DownburstProvisioner", "not in the built-in table");

    provisioner.validate(request("rocky", "9.9"), HOSTS);
    provisioner.provision(vm(), request("rocky", "9.9"));

    assertThat(
            DownburstProvisionerTest.map(
                yaml(fake.calls("create").get(0).metaData().orElseThrow()).get("downburst")))
        .containsEntry("distro", "rocky")
        .containsEntry("distroversion", "9.9");
    assertThat(
            log.entries(
                "io.machinepool.downburst.DownburstProvisioner",
                "rocky 9.9 is not in the built-in table"))
        .singleElement()
        .satisfies(e -> assertThat(e.level()).isEqualTo("WARN"));
  }

  @Test
  void withListJsonAnUnlistedVersionIsStillRefused() {
    fake.listJson("{\"rocky\": [\"9.6\"]}");

    assertThatThrownBy(() -> builder().build().validate(request("rocky", "9.9"), HOSTS))
        .isInstanceOf(InvalidRequestException.class)
        .hasMessageContaining("downburst cannot install rocky 9.9");
  }

  @Test
  void afterTheRetryIntervalListJsonIsTriedAgainAndItsAnswerKept() throws Exception {
    fake.listJson("{\"ubuntu\": [\"24.04(noble)\"], \"plan9\": [\"4\"]}");
    fake.plan("list-json", "offline", "json");
    DownburstProvisioner provisioner = builder().listJsonRetryAfter(Duration.ofMillis(200)).build();
    log.expect("io.machinepool.downburst.DownburstProvisioner", "list-json failed");

    assertThatThrownBy(() -> provisioner.validate(request("plan9", "4"), HOSTS))
        .isInstanceOf(InvalidRequestException.class);
    Thread.sleep(300);
    provisioner.validate(request("plan9", "4"), HOSTS);
    provisioner.validate(request("plan9", "4"), HOSTS);

    assertThat(fake.calls("list-json")).hasSize(2);
  }

  @Test
  void aHangingListJsonTimesOutAndTheBuiltInTableServes() {
    fake.plan("list-json", "hang");
    DownburstProvisioner provisioner = builder().listTimeout(Duration.ofMillis(800)).build();
    log.expect("io.machinepool.downburst.DownburstProvisioner", "list-json failed");

    assertThatCode(() -> provisioner.validate(request("centos", "10.stream"), HOSTS))
        .doesNotThrowAnyException();
    assertThat(fake.calls("list-json").get(0).grandchildPid()).isPresent();
  }

  @Test
  void aDistributionWithoutVersionGetsItsNewestKnownVersion() {
    fake.listJson("{\"centos\": [\"9.stream\", \"10.stream\"], \"fedora\": [\"41\", \"42\"]}");
    DownburstProvisioner provisioner = builder().build();

    provisioner.provision(vm(), request("centos", null));
    provisioner.provision(vm(), request("fedora", null));

    List<FakeDownburst.Call> creates = fake.calls("create");
    assertThat(
            DownburstProvisionerTest.map(
                yaml(creates.get(0).metaData().orElseThrow()).get("downburst")))
        .containsEntry("distro", "centos")
        .containsEntry("distroversion", "10.stream");
    assertThat(
            DownburstProvisionerTest.map(
                yaml(creates.get(1).metaData().orElseThrow()).get("downburst")))
        .containsEntry("distroversion", "42");
  }

  @Test
  void provisionRefusesAnUnknownOsWithoutRunningCreate() {
    fake.listJson("{\"ubuntu\": [\"24.04(noble)\"]}");

    assertThatThrownBy(() -> builder().build().provision(vm(), request("ubuntu", "12.04")))
        .isInstanceOf(ProvisioningException.class)
        .hasMessageContaining("downburst cannot install ubuntu 12.04");
    assertThat(fake.calls("create")).isEmpty();
  }
}
