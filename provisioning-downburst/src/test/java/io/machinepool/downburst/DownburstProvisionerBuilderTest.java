package io.machinepool.downburst;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.machinepool.InvalidRequestException;
import io.machinepool.ProvisioningException;
import io.machinepool.config.TeuthologyConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/** The builder's checks and how build() finds the executable. */
@EnabledOnOs(OS.LINUX)
class DownburstProvisionerBuilderTest {
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
        .checkLibvirtAliases(false);
  }

  @Test
  void defaultsBuild() {
    DownburstProvisioner provisioner = builder().build();

    assertThat(provisioner.executable().path()).isEqualTo(fake.executable());
    assertThat(provisioner)
        .hasToString("DownburstProvisioner[" + fake.executable() + " (configured)]");
  }

  @Test
  void outOfRangeOptionsAreRejectedWithWhatToDo() {
    expectInvalid(b -> b.createTimeout(Duration.ZERO), "createTimeout must be a positive duration");
    expectInvalid(b -> b.createTimeout(null), "createTimeout must be a positive duration");
    expectInvalid(
        b -> b.destroyTimeout(Duration.ofSeconds(-1)),
        "destroyTimeout must be a positive duration");
    expectInvalid(b -> b.listTimeout(Duration.ZERO), "listTimeout must be a positive duration");
    expectInvalid(b -> b.createAttempts(0), "createAttempts must be between 1 (no retry) and 20");
    expectInvalid(b -> b.createAttempts(21), "was 21");
    expectInvalid(b -> b.retryPause(Duration.ofMillis(-1)), "retryPause must be zero or more");
    expectInvalid(b -> b.extraCreateArguments(null), "extraCreateArguments must not be null");
    expectInvalid(
        b -> b.extraCreateArguments(List.of("nokey")),
        "each starting with '-', e.g. --nokey; got 'nokey'");
    expectInvalid(b -> b.extraCreateArguments(Arrays.asList("--nokey", null)), "got null");
    expectInvalid(b -> b.config(null), "config must not be null");
  }

  private void expectInvalid(UnaryOperator<DownburstProvisioner.Builder> change, String message) {
    assertThatThrownBy(() -> change.apply(builder()).build())
        .isInstanceOf(InvalidRequestException.class)
        .hasMessageContaining(message);
  }

  @Test
  void theLimitsThemselvesAreAccepted() {
    builder().createAttempts(1).retryPause(Duration.ZERO).build();
    builder().createAttempts(20).extraCreateArguments(List.of("--nokey", "-v")).build();
  }

  @Test
  void theConfiguredPathWinsOverPath() throws Exception {
    Path bin = Files.createDirectories(tmp.resolve("other-bin"));
    Path onPath = bin.resolve("downburst");
    Files.copy(fake.executable(), onPath);

    DownburstProvisioner provisioner =
        builder().environment(Map.of("PATH", bin.toString())).build();

    assertThat(provisioner.executable().path()).isEqualTo(fake.executable());
  }

  @Test
  void withoutAConfiguredPathTheOneOnPathIsUsed() {
    DownburstProvisioner provisioner =
        builder()
            .config(TeuthologyConfig.empty())
            .environment(Map.of("PATH", "/nonexistent:" + fake.executable().getParent()))
            .build();

    assertThat(provisioner.executable().path()).isEqualTo(fake.executable());
    assertThat(provisioner.executable().toString()).endsWith("(found on PATH)");
  }

  @Test
  void aConfiguredPathUnderTildeIsLookedForInTheUsersHomeAsTheConfigExpandsIt() {
    Path expected =
        Path.of(System.getProperty("user.home"), "no-such-dir-" + tmp.getFileName(), "downburst");
    TeuthologyConfig config =
        TeuthologyConfig.parse(
            "downburst:\n  path: ~/no-such-dir-" + tmp.getFileName() + "/downburst\n", null);

    assertThatThrownBy(() -> builder().config(config).homes(List.of(tmp)).build())
        .isInstanceOf(ProvisioningException.class)
        .hasMessageContaining(expected.toString());
  }

  @Test
  void noExecutableIsAProvisioningExceptionNamingEveryPlaceTried() {
    Path home = tmp.resolve("home/alice");

    assertThatThrownBy(
            () ->
                builder()
                    .config(TeuthologyConfig.empty())
                    .environment(Map.of("PATH", "/nonexistent"))
                    .homes(List.of(home))
                    .build())
        .isInstanceOf(ProvisioningException.class)
        .hasMessageContaining("no downburst executable found")
        .hasMessageContaining("/nonexistent/downburst (on PATH): does not exist")
        .hasMessageContaining(
            home.resolve(DownburstExecutable.VIRTUALENV_BINARY) + ": does not exist");
  }

  @Test
  void aConfiguredPathThatDoesNotExistIsAnError() {
    assertThatThrownBy(
            () ->
                builder()
                    .config(TeuthologyConfig.parse("downburst: " + tmp.resolve("nope"), null))
                    .build())
        .isInstanceOf(ProvisioningException.class)
        .hasMessageContaining(tmp.resolve("nope") + ", cannot be used: does not exist");
  }
}
