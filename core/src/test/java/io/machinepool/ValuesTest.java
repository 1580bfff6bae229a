package io.machinepool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ValuesTest {
  private static final HostKey ED25519 =
      HostKey.parse("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5 root@vpm011");
  private static final HostKey ECDSA = HostKey.parse("ecdsa-sha2-nistp256 AAAAE2VjZHNh");
  private static final HostKey RSA = HostKey.parse("ssh-rsa AAAAB3NzaC1yc2E=");

  private static Machine machine(String name, List<HostKey> keys) {
    return new Machine(
        name, "vps", "mira001", true, true, "a@b", null, null, null, null, null, null, keys, null,
        1);
  }

  @Test
  void hostKeyParsesKnownHostsFormAndPrintsItBack() {
    assertThat(ED25519.type()).isEqualTo("ssh-ed25519");
    assertThat(ED25519.base64()).isEqualTo("AAAAC3NzaC1lZDI1NTE5");
    assertThat(ED25519).hasToString("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5");
    assertThat(HostKey.parse(ED25519.toString())).isEqualTo(ED25519);
  }

  @Test
  void preferredKeyIsEd25519ThenEcdsaThenRsa() {
    assertThat(machine("a", List.of(RSA, ECDSA, ED25519)).preferredHostKey()).contains(ED25519);
    assertThat(machine("a", List.of(RSA, ECDSA)).preferredHostKey()).contains(ECDSA);
    assertThat(machine("a", List.of(RSA)).preferredHostKey()).contains(RSA);
    assertThat(machine("a", List.of()).preferredHostKey()).isEmpty();
  }

  @Test
  void targetsRenderTheTeuthologyDocumentSortedByName() {
    Targets targets =
        Targets.of(
            List.of(
                machine("vpm012.front", List.of(RSA)),
                machine("vpm011.front", List.of(ED25519)),
                machine("vpm013.front", List.of())));
    assertThat(targets.toYaml())
        .isEqualTo(
            "targets:\n"
                + "  vpm011.front: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5\n"
                + "  vpm012.front: ssh-rsa AAAAB3NzaC1yc2E=\n"
                + "  vpm013.front: null\n");
    assertThat(targets.names()).containsExactly("vpm011.front", "vpm012.front", "vpm013.front");
  }

  @Test
  void targetsQuoteNamesWithAColon() {
    Map<String, HostKey> keys = new LinkedHashMap<>();
    keys.put("host:2222", RSA);
    assertThat(new Targets(keys).toYaml())
        .isEqualTo("targets:\n  'host:2222': ssh-rsa AAAAB3NzaC1yc2E=\n");
  }

  @Test
  void summaryTotalsFreeMachinesByUpState() {
    Summary summary =
        new Summary(
            List.of(
                new Summary.Entry("smithi", null, 5, 4),
                new Summary.Entry("smithi", "alice@h", 2, 2),
                new Summary.Entry("vps", "bob@h", 1, 1)),
            List.of());
    assertThat(summary.of("smithi")).isEqualTo(new Summary.TypeTotals("smithi", 7, 6, 2, 4));
    assertThat(summary.of("vps")).isEqualTo(new Summary.TypeTotals("vps", 1, 1, 1, 0));
    assertThat(summary.of("mira")).isEqualTo(new Summary.TypeTotals("mira", 0, 0, 0, 0));
    assertThat(summary.total()).isEqualTo(8);
  }

  @Test
  void lockRequestByNameTakesItsCountFromTheNames() {
    LockRequest request = LockRequest.builder().owner("a@b").names("x.front", "y.front").build();
    assertThat(request.count()).isEqualTo(2);
    assertThat(request.byName()).isTrue();
    assertThat(request.waitUpTo()).isEqualTo(Duration.ZERO);
    assertThat(request.keepUntilUnlocked()).isFalse();
  }

  @Test
  void lockRequestOwnerDefaultsToUserAtHost() {
    LockRequest request = LockRequest.builder().machineType("smithi").count(1).build();
    assertThat(request.owner()).isEqualTo(LockRequest.defaultOwner()).contains("@");
    assertThat(request.owner()).startsWith(System.getProperty("user.name") + "@");
  }

  @Test
  void machineSpecsAreVirtualOnlyWithAVmHost() {
    assertThat(MachineSpec.physical("a.front", "smithi").isVirtual()).isFalse();
    MachineSpec vm =
        MachineSpec.vm("v.front", "vps", "h.front").withMacAddress("52:54:00:AB:00:11");
    assertThat(vm.isVirtual()).isTrue();
    assertThat(vm.macAddress()).isEqualTo("52:54:00:ab:00:11");
  }

  @Test
  void provisioningExceptionNamesEveryFailedMachineOnOneLineEachAndKeepsTheTailApart() {
    ProvisioningException e =
        new ProvisioningException(
            List.of(
                ProvisioningException.Failure.of("vpm011", "timed out after 600 s", null, ""),
                ProvisioningException.Failure.of(
                    "vpm012", "create failed", 1, "line1\nlibvirt: no space\n")),
            null);
    assertThat(e.getMessage())
        .contains("2 machines failed to provision")
        .contains("vpm011: timed out after 600 s")
        .contains("vpm012: create failed (exit code 1)")
        .doesNotContain("libvirt: no space");
    assertThat(e.getMessage().lines()).hasSize(3);
    assertThat(e.failures().get(1).stderrTail()).isEqualTo("line1\nlibvirt: no space\n");
    assertThat(e.machine()).isEqualTo("vpm011");
    assertThat(e.exitCode()).isEmpty();
    assertThat(e.failures()).hasSize(2);
  }

  @Test
  void aRequestRebuiltFromItsBuilderIsEqualAndTakesAChange() {
    LockRequest request =
        LockRequest.builder()
            .owner("alice@h")
            .description("run-1")
            .machineTypes("smithi", "mira")
            .count(2)
            .os("ubuntu", "22.04")
            .arch("x86_64")
            .waitUpTo(Duration.ofMinutes(5))
            .priority(50)
            .build();

    assertThat(request.toBuilder().build()).isEqualTo(request).hasSameHashCodeAs(request);
    assertThat(request.toBuilder().priority(10).build().priority()).isEqualTo(10);
    assertThat(request.toBuilder().priority(10).build()).isNotEqualTo(request);
    assertThat(request.toString()).startsWith("LockRequest[owner=alice@h, description=run-1,");
  }

  @Test
  void aRequestByNameRebuiltFromItsBuilderMayNameMoreMachines() {
    LockRequest request = LockRequest.builder().owner("alice@h").names("a.front").build();

    LockRequest more = request.toBuilder().names("b.front").build();

    assertThat(more.names()).containsExactly("a.front", "b.front");
    assertThat(more.count()).isEqualTo(2);
  }

  @Test
  void aRequestSaysWhatItAsksForAsAWaiterDoes() {
    LockRequest request =
        LockRequest.builder().machineTypes("smithi", "mira").count(2).os("ubuntu", "22.04").build();
    Waiter waiter =
        new Waiter(
            1,
            "a@b",
            null,
            List.of(),
            List.of("smithi", "mira"),
            2,
            "ubuntu",
            "22.04",
            null,
            1000,
            null);

    assertThat(request.asks()).isEqualTo("2 smithi/mira with os ubuntu 22.04");
    assertThat(waiter.asks()).isEqualTo(request.asks());
  }

  @Test
  void aMachineSpecBuiltFieldByFieldEqualsTheOneRefinedFromAFactory() {
    MachineSpec refined =
        MachineSpec.vm("v.front", "vps", "h.front")
            .withMacAddress("52:54:00:00:00:11")
            .withArch("x86_64")
            .withOs("ubuntu", "22.04")
            .withUp(false)
            .withSshPort(2222);

    MachineSpec built =
        MachineSpec.builder()
            .name("v.front")
            .machineType("vps")
            .vpsHost("h.front")
            .macAddress("52:54:00:00:00:11")
            .arch("x86_64")
            .os("ubuntu", "22.04")
            .up(false)
            .sshPort(2222)
            .build();

    assertThat(built).isEqualTo(refined).hasSameHashCodeAs(refined);
    assertThat(built.toBuilder().build()).isEqualTo(built);
    assertThat(built.toBuilder().up(true).build()).isNotEqualTo(built);
  }

  @Test
  void aMachineSpecBuilderValidatesWhatItBuilds() {
    assertThatThrownBy(() -> MachineSpec.builder().machineType("smithi").build())
        .isInstanceOf(InvalidRequestException.class);
    assertThatThrownBy(
            () ->
                MachineSpec.builder().name("a.front").machineType("vps").vpsHost("a.front").build())
        .isInstanceOf(InvalidRequestException.class)
        .hasMessageContaining("cannot be its own VM host");
  }

  @Test
  void aMachineReachedAtAnotherPortKeepsItsNameLockAndKeys() {
    Machine machine = machine("vpm011.front", List.of(ED25519));

    Machine forwarded = machine.withSshPort(2222);

    assertThat(forwarded.sshPort()).isEqualTo(2222);
    assertThat(forwarded.withSshPort(null)).isEqualTo(machine);
    assertThat(forwarded.name()).isEqualTo(machine.name());
    assertThat(forwarded.lockedBy()).isEqualTo(machine.lockedBy());
    assertThat(forwarded.hostKeys()).containsExactly(ED25519);
    assertThatThrownBy(() -> machine.withSshPort(0)).isInstanceOf(InvalidRequestException.class);
  }

  @Test
  void machinesAreEqualByEveryFieldAndPrintLikeARecord() {
    Machine machine = machine("vpm011.front", List.of(ED25519));

    assertThat(machine("vpm011.front", List.of(ED25519)))
        .isEqualTo(machine)
        .hasSameHashCodeAs(machine);
    assertThat(machine.withHostKeys(List.of())).isNotEqualTo(machine);
    assertThat(machine.toString())
        .startsWith("Machine[name=vpm011.front, machineType=vps, vpsHost=mira001, up=true,")
        .endsWith(", sshPort=null, generation=1]");
  }

  @Test
  void theDefaultOwnersUserIsFoundAsTeuthologysGetpassGetuserFindsIt() {
    Map<String, String> env = new HashMap<>();
    assertThat(LockRequest.userName(env::get, "account")).isEqualTo("account");
    env.put("USERNAME", "dora");
    assertThat(LockRequest.userName(env::get, "account")).isEqualTo("dora");
    env.put("LNAME", "carol");
    assertThat(LockRequest.userName(env::get, "account")).isEqualTo("carol");
    env.put("USER", "bob");
    assertThat(LockRequest.userName(env::get, "account")).isEqualTo("bob");
    env.put("LOGNAME", "");
    assertThat(LockRequest.userName(env::get, "account")).as("empty is not set").isEqualTo("bob");
    env.put("LOGNAME", "alice");
    assertThat(LockRequest.userName(env::get, "account")).isEqualTo("alice");
  }
}
