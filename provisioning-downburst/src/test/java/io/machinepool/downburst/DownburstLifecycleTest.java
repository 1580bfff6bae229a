package io.machinepool.downburst;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.machinepool.HostKey;
import io.machinepool.InvalidRequestException;
import io.machinepool.Lease;
import io.machinepool.LockRequest;
import io.machinepool.Machine;
import io.machinepool.MachinePool;
import io.machinepool.MachineQuery;
import io.machinepool.MachineSpec;
import io.machinepool.NotEnoughMachinesException;
import io.machinepool.ProvisioningException;
import io.machinepool.config.TeuthologyConfig;
import io.machinepool.testing.LogCapture;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The provisioning lifecycle end to end: a real {@link MachinePool} on embedded H2 with a {@link
 * DownburstProvisioner} that runs the fake downburst. Everything is proven by what the fake tool
 * recorded (its argv, VM host, pids, start and finish times) and by the database's rows, never by
 * how long something took.
 */
@EnabledOnOs(OS.LINUX)
class DownburstLifecycleTest {
  static final String DOMAIN = ".front.sepia.ceph.com";
  static final String ALICE = "alice@build7";
  static final String BOB = "bob@build9";
  static final Duration AWAIT = Duration.ofSeconds(20);
  static final HostKey KEY =
      HostKey.parse("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeHostKeyOfAReimagedVmSlotxxxxxxxxxx");

  @RegisterExtension final LogCapture log = new LogCapture();

  @TempDir Path tmp;
  FakeDownburst fake;
  JdbcDataSource dataSource;
  final List<MachinePool> pools = new ArrayList<>();
  final ExecutorService background = Executors.newCachedThreadPool();

  @BeforeEach
  void lab() throws IOException {
    fake = new FakeDownburst(tmp);
    fake.listJson(DownburstProvisionerTest.LIST_JSON);
    Files.createDirectories(tmp.resolve("tmp"));
    dataSource = new JdbcDataSource();
    dataSource.setURL("jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
  }

  @AfterEach
  void cleanUp() throws Exception {
    fake.openGate("create").openGate("destroy");
    for (MachinePool pool : pools) {
      pool.close();
    }
    background.shutdownNow();
    background.awaitTermination(10, TimeUnit.SECONDS);
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement()) {
      s.execute("SHUTDOWN");
    }
  }

  // --- set-up helpers ---

  static String vm(int n) {
    return String.format("vpm%03d", n) + DOMAIN;
  }

  static String host(int n) {
    return String.format("mira%03d", n) + DOMAIN;
  }

  static String shortName(String name) {
    return name.substring(0, name.indexOf('.'));
  }

  static MachineSpec slot(int n, int host) {
    return MachineSpec.vm(vm(n), "vps", host(host))
        .withMacAddress(String.format("52:54:00:00:%02x:%02x", host, n));
  }

  DownburstProvisioner.Builder provisionerBuilder() {
    TeuthologyConfig config =
        TeuthologyConfig.parse("downburst:\n  path: " + fake.executable() + "\n", null);
    return DownburstProvisioner.builder()
        .config(config)
        .environment(Map.of("PATH", DownburstProvisionerTest.PATH))
        .homes(List.of())
        .temporaryDirectory(tmp.resolve("tmp"))
        .checkLibvirtAliases(false)
        .createAttempts(1)
        .retryPause(Duration.ZERO)
        .createTimeout(Duration.ofSeconds(20))
        .destroyTimeout(Duration.ofSeconds(20));
  }

  MachinePool pool(Consumer<MachinePool.Builder> options) {
    return pool(provisionerBuilder().build(), options);
  }

  MachinePool pool(DownburstProvisioner provisioner, Consumer<MachinePool.Builder> options) {
    MachinePool.Builder builder =
        MachinePool.builder()
            .dataSource(dataSource)
            .provisioner(provisioner)
            .releaseOnShutdown(false)
            .leaseDuration(Duration.ofMinutes(10))
            .heartbeatInterval(Duration.ofMinutes(5));
    options.accept(builder);
    MachinePool pool = builder.build();
    pools.add(pool);
    return pool;
  }

  MachinePool pool() {
    return pool(b -> {});
  }

  static LockRequest.Builder vps(int count) {
    return LockRequest.builder()
        .owner(ALICE)
        .description("run-42/job-3")
        .machineType("vps")
        .count(count)
        .os("ubuntu", "22.04");
  }

  static LockRequest byName(String owner, List<String> names) {
    return LockRequest.builder()
        .owner(owner)
        .description("run-43/job-1")
        .names(names)
        .os("ubuntu", "22.04")
        .build();
  }

  static List<Machine> locked(MachinePool pool) {
    return pool.machines(MachineQuery.builder().locked(true).build());
  }

  static List<String> names(List<Machine> machines) {
    return machines.stream().map(Machine::name).toList();
  }

  /** Makes a lease look expired, as if its holder had stopped heartbeating long ago. */
  void expire(Lease lease) throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement update =
            c.prepareStatement(
                "UPDATE machinepool_machine SET lease_expires = locked_since"
                    + " WHERE lease_token = ?")) {
      update.setString(1, lease.token());
      assertThat(update.executeUpdate()).isEqualTo(lease.machines().size());
    }
  }

  /** The runs of a sub-command for one VM (its short name), oldest first. */
  List<FakeDownburst.Call> calls(String subcommand, String vmName) {
    String vm = shortName(vmName);
    return fake.calls(subcommand).stream().filter(c -> c.vm().equals(vm)).toList();
  }

  /**
   * The most runs that were going on at one moment, from their recorded [started, finished]
   * intervals. With {@code touching} a run that started in the very nanosecond another finished
   * counts as overlapping it (the safe side for an upper bound); without, it does not (the safe
   * side for a lower bound).
   */
  static int peak(List<FakeDownburst.Call> runs, boolean touching) {
    record Event(long at, int delta) {}
    List<Event> events = new ArrayList<>();
    for (FakeDownburst.Call run : runs) {
      events.add(new Event(run.started(), +1));
      events.add(
          new Event(
              run.finished().orElseThrow(() -> new AssertionError(run + " never finished")), -1));
    }
    // At the same nanosecond: starts before ends when touching runs count as overlapping.
    events.sort(
        Comparator.comparingLong(Event::at)
            .thenComparingInt(e -> touching ? -e.delta() : e.delta()));
    int running = 0;
    int peak = 0;
    for (Event event : events) {
      running += event.delta();
      peak = Math.max(peak, running);
    }
    return peak;
  }

  @Test
  void peakCountsRunsGoingOnAtOnceFromTheirIntervals() throws IOException {
    List<FakeDownburst.Call> runs = new ArrayList<>();
    long[][] intervals = {{10, 20}, {15, 30}, {20, 25}, {40, 50}};
    for (long[] interval : intervals) {
      Path dir = Files.createDirectories(tmp.resolve("runs/" + interval[0] + "-create-1"));
      Files.writeString(dir.resolve("started"), interval[0] + "\n");
      Files.writeString(dir.resolve("finished"), interval[1] + "\n");
      runs.add(new FakeDownburst.Call(dir));
    }

    assertThat(peak(runs, true)).as("[10,20] touches [20,25]").isEqualTo(3);
    assertThat(peak(runs, false)).isEqualTo(2);
    assertThat(peak(runs.subList(3, 4), false)).isEqualTo(1);
  }

  static Map<String, List<FakeDownburst.Call>> byHost(List<FakeDownburst.Call> runs) {
    return runs.stream().collect(Collectors.groupingBy(FakeDownburst.Call::host));
  }

  // --- parallel provisioning ---

  @Test
  void theVmsOfOneRequestAreCreatedInParallelButNeverMoreAtOnceOnOneHostThanItsLimit() {
    MachinePool pool = pool(b -> b.perVmHostLimit(2));
    // 6 slots on 3 VM hosts: 3 + 2 + 1, so that the limit of 2 has to hold back one on mira001.
    pool.inventory()
        .addAll(slot(11, 1), slot(12, 1), slot(13, 1), slot(21, 2), slot(22, 2), slot(31, 3));
    fake.plan("create", FakeDownburst.slow(Duration.ofMillis(1500)));

    try (Lease lease = pool.lock(vps(6).build())) {
      assertThat(lease.machines()).hasSize(6);
    }

    List<FakeDownburst.Call> creates = fake.calls("create");
    assertThat(creates).hasSize(6);
    assertThat(creates)
        .as("runs started at once neither lose a count nor share a number")
        .extracting(FakeDownburst.Call::number)
        .containsExactlyInAnyOrder(1, 2, 3, 4, 5, 6);
    assertThat(creates).allSatisfy(c -> assertThat(c.ended()).as("%s succeeded", c).isTrue());
    Map<String, List<FakeDownburst.Call>> perHost = byHost(creates);
    assertThat(perHost).containsOnlyKeys("mira001", "mira002", "mira003");
    assertThat(perHost.get("mira001")).hasSize(3);
    assertThat(peak(perHost.get("mira001"), true))
        .as("creates running at once on mira001 (limit 2)")
        .isEqualTo(2);
    assertThat(peak(perHost.get("mira002"), true))
        .as("creates running at once on mira002")
        .isLessThanOrEqualTo(2);
    assertThat(peak(creates, false))
        .as("creates running at once over all VM hosts")
        .isGreaterThan(2);
    // The third create on mira001 waited until one of the first two was over.
    List<FakeDownburst.Call> mira001 =
        perHost.get("mira001").stream()
            .sorted(Comparator.comparingLong(FakeDownburst.Call::started))
            .toList();
    long firstFinished =
        Math.min(mira001.get(0).finished().getAsLong(), mira001.get(1).finished().getAsLong());
    assertThat(mira001.get(2).started()).isGreaterThan(firstFinished);
    assertThat(fake.calls("destroy")).hasSize(6);
  }

  @Test
  void aLimitOfOnePerVmHostSerialisesTheCreatesOnThatHost() {
    MachinePool pool = pool(b -> b.perVmHostLimit(1));
    pool.inventory().addAll(slot(11, 1), slot(12, 1), slot(13, 1), slot(21, 2));
    fake.plan("create", FakeDownburst.slow(Duration.ofMillis(600)));
    // mira002's one create lasts about as long as mira001's three in a row: it overlaps them.
    fake.planFor("create", "vpm021", FakeDownburst.slow(Duration.ofMillis(1500)));

    pool.lock(vps(4).build()).close();

    Map<String, List<FakeDownburst.Call>> perHost = byHost(fake.calls("create"));
    List<FakeDownburst.Call> mira001 =
        perHost.get("mira001").stream()
            .sorted(Comparator.comparingLong(FakeDownburst.Call::started))
            .toList();
    assertThat(mira001).hasSize(3);
    assertThat(peak(mira001, true)).isEqualTo(1);
    for (int i = 1; i < mira001.size(); i++) {
      assertThat(mira001.get(i).started())
          .as("%s started after %s finished", mira001.get(i), mira001.get(i - 1))
          .isGreaterThan(mira001.get(i - 1).finished().getAsLong());
    }
    // The other host is not held back by mira001's limit.
    assertThat(peak(fake.calls("create"), false)).isEqualTo(2);
  }

  // --- failures while provisioning ---

  @Test
  void whenOneVmOfALockManyFailsEveryCreatedVmIsDestroyedAndNothingStaysLocked() {
    MachinePool pool = pool();
    pool.inventory().addAll(slot(11, 1), slot(12, 1), slot(21, 2), slot(22, 2));
    fake.planFor("create", "vpm021", "fail");

    ProvisioningException failure =
        catchThrowableOfType(ProvisioningException.class, () -> pool.lock(vps(4).build()));

    assertThat(failure.failures()).singleElement();
    assertThat(failure.machine()).isEqualTo(vm(21));
    assertThat(failure.exitCode()).hasValue(1);
    assertThat(failure.stderrTail())
        .startsWith("DEBUG:downburst.cli:Connecting to libvirt...")
        .endsWith("libvirt.libvirtError: Cannot recv data: Connection reset by peer");
    assertThat(failure.getMessage())
        .contains(vm(21))
        .contains("Connection reset by peer (exit code 1)")
        .doesNotContain("\n");
    assertThat(calls("destroy", vm(21)))
        .as("the failed VM is destroyed once, by the pool's clean-up")
        .hasSize(1);

    List<FakeDownburst.Call> creates = fake.calls("create");
    assertThat(creates)
        .extracting(FakeDownburst.Call::vm)
        .containsExactlyInAnyOrder("vpm011", "vpm012", "vpm021", "vpm022");
    assertThat(creates)
        .filteredOn(FakeDownburst.Call::ended)
        .extracting(FakeDownburst.Call::vm)
        .containsExactlyInAnyOrder("vpm011", "vpm012", "vpm022");
    for (FakeDownburst.Call create : creates) {
      long finished = create.finished().orElseThrow();
      assertThat(fake.calls("destroy"))
          .as("a destroy of %s after its create", create.vm())
          .anySatisfy(
              d -> {
                assertThat(d.vm()).isEqualTo(create.vm());
                assertThat(d.host()).isEqualTo(create.host());
                assertThat(d.started()).isGreaterThan(finished);
              });
    }
    assertThat(locked(pool)).isEmpty();
    assertThat(pool.machines(MachineQuery.builder().up(false).build())).isEmpty();
    assertThat(pool.leases()).isEmpty();
  }

  @Test
  void aVmThatFailsKTimesInARowIsMarkedDownAndNoLongerHandedOut() {
    log.expect("io.machinepool.Provisioning", "marked down after 2 provisioning failures");
    MachinePool pool = pool(b -> b.markDownAfterFailures(2));
    pool.inventory().addAll(slot(11, 1), slot(12, 1));
    // Fails, succeeds (which resets the count), then fails twice in a row.
    fake.planFor("create", "vpm011", "fail", "ok", "fail", "fail");

    assertThat(catchThrowableOfType(ProvisioningException.class, () -> pool.lock(vps(2).build())))
        .isNotNull();
    assertThat(pool.machine(vm(11)).orElseThrow().up()).isTrue();
    pool.lock(vps(2).build()).close();
    assertThat(catchThrowableOfType(ProvisioningException.class, () -> pool.lock(vps(2).build())))
        .isNotNull();
    assertThat(pool.machine(vm(11)).orElseThrow().up())
        .as("up after 1 failure since the last success")
        .isTrue();
    ProvisioningException last =
        catchThrowableOfType(ProvisioningException.class, () -> pool.lock(vps(2).build()));

    assertThat(last.machine()).isEqualTo(vm(11));
    Machine down = pool.machine(vm(11)).orElseThrow();
    assertThat(down.up()).isFalse();
    assertThat(down.locked()).isFalse();
    assertThat(down.description())
        .startsWith("marked down after 2 provisioning failures in a row; the last: ")
        .contains("downburst create on mira001 failed")
        .contains("Connection reset by peer (exit code 1)")
        .doesNotContain("\n")
        .doesNotContain("Traceback");
    assertThat(down.description().length()).isLessThan(400);
    assertThat(pool.machine(vm(12)).orElseThrow().up()).isTrue();
    assertThat(calls("create", vm(11))).hasSize(4);

    // Not handed out any more: only vpm012 is left for lock-many.
    assertThat(
            catchThrowableOfType(NotEnoughMachinesException.class, () -> pool.lock(vps(2).build())))
        .isNotNull();
    try (Lease lease = pool.lock(vps(1).build())) {
      assertThat(lease.names()).containsExactly(vm(12));
    }
    assertThat(calls("create", vm(11))).hasSize(4);
    assertThat(locked(pool)).isEmpty();
  }

  @Test
  void aCreateThatHangsPastTheTimeoutIsKilledAndNothingStaysLocked() throws Exception {
    MachinePool pool =
        pool(provisionerBuilder().createTimeout(Duration.ofMillis(1500)).build(), b -> {});
    pool.inventory().addAll(slot(11, 1), slot(21, 2));
    fake.planFor("create", "vpm021", "hang");

    ProvisioningException failure =
        catchThrowableOfType(ProvisioningException.class, () -> pool.lock(vps(2).build()));

    assertThat(failure.machine()).isEqualTo(vm(21));
    assertThat(failure.getMessage()).contains("timed out after 1.5 s");
    assertThat(failure.exitCode()).isEmpty();
    FakeDownburst.Call hung = calls("create", vm(21)).get(0);
    assertThat(hung.ended()).isFalse();
    assertThat(FakeDownburst.gone(hung.pid(), Duration.ofSeconds(5)))
        .as("the hanging downburst, pid %d, is gone", hung.pid())
        .isTrue();
    long child = hung.grandchildPid().orElseThrow();
    assertThat(FakeDownburst.gone(child, Duration.ofSeconds(5)))
        .as("its child, pid %d, is gone", child)
        .isTrue();
    assertThat(locked(pool)).isEmpty();
    assertThat(calls("destroy", vm(11))).isNotEmpty();
    assertThat(calls("destroy", vm(21))).isNotEmpty();
  }

  @Test
  void aFailedCreateWhoseCleanUpFailsSaysTheSlotStaysLockedByTheOwnerAndMarkedDown() {
    log.expect("io.machinepool.VmCleanup", "stays locked and is marked down");
    MachinePool pool = pool();
    pool.inventory().addAll(slot(11, 1));
    fake.plan("create", "fail");
    fake.plan("destroy", "fail");

    ProvisioningException failure =
        catchThrowableOfType(ProvisioningException.class, () -> pool.lock(vps(1).build()));

    assertThat(failure.failures()).singleElement();
    assertThat(failure.getMessage())
        .contains("downburst create on mira001 failed: libvirt.libvirtError")
        .contains("then destroying its VM failed too (downburst destroy on mira001 failed")
        .contains("so it stays locked by " + ALICE + " and is marked down");
    assertThat(calls("destroy", vm(11))).hasSize(1);
    Machine kept = pool.machine(vm(11)).orElseThrow();
    assertThat(kept.locked()).isTrue();
    assertThat(kept.lockedBy()).isEqualTo(ALICE);
    assertThat(kept.up()).isFalse();
  }

  @Test
  void anArchitectureDownburstCannotCreateFailsBeforeAnythingIsLocked() {
    MachinePool pool = pool(provisionerBuilder().createAttempts(3).build(), b -> {});
    pool.inventory().addAll(slot(11, 1));
    List<Machine> before = pool.machines(MachineQuery.all());

    InvalidRequestException refused =
        catchThrowableOfType(
            InvalidRequestException.class, () -> pool.lock(vps(1).arch("aarch64").build()));

    assertThat(refused.getMessage()).contains("downburst creates x86 VMs only");
    assertThat(fake.calls("create")).isEmpty();
    assertThat(pool.machines(MachineQuery.all())).isEqualTo(before);
  }

  @Test
  void aRequestForPhysicalAndVmTypesWithAnArchDownburstCannotCreateIsRefusedAsAWhole() {
    MachinePool pool = pool();
    String smithi = "smithi001" + DOMAIN;
    pool.inventory()
        .addAll(MachineSpec.physical(smithi, "smithi").withArch("aarch64"), slot(11, 1));
    List<Machine> before = pool.machines(MachineQuery.all());

    InvalidRequestException refused =
        catchThrowableOfType(
            InvalidRequestException.class,
            () ->
                pool.lock(
                    LockRequest.builder()
                        .owner(ALICE)
                        .machineTypes("smithi", "vps")
                        .count(1)
                        .arch("aarch64")
                        .build()));

    assertThat(refused.getMessage())
        .contains("so it is refused as a whole")
        .contains("ask for its machine type alone");
    assertThat(pool.machines(MachineQuery.all())).isEqualTo(before);
    try (Lease lease =
        pool.lock(
            LockRequest.builder()
                .owner(ALICE)
                .machineType("smithi")
                .count(1)
                .arch("aarch64")
                .build())) {
      assertThat(lease.names()).as("the physical type alone").containsExactly(smithi);
    }
    assertThat(fake.calls("create")).isEmpty();
    assertThat(fake.calls("destroy")).isEmpty();
  }

  @Test
  void aVmSlotLockedByNameWhoseConfigArchDownburstCannotCreateFailsInProvisionAndIsReleased() {
    TeuthologyConfig arm =
        TeuthologyConfig.parse(
            "downburst:\n  path: "
                + fake.executable()
                + "\n  machine:\n    - type: vps\n      arch: aarch64\n",
            null);
    MachinePool pool = pool(provisionerBuilder().config(arm).build(), b -> {});
    pool.inventory().addAll(slot(11, 1));

    ProvisioningException failure =
        catchThrowableOfType(
            ProvisioningException.class, () -> pool.lock(byName(ALICE, List.of(vm(11)))));

    assertThat(failure).as("validate lets it through; provision refuses it").isNotNull();
    assertThat(failure.machine()).isEqualTo(vm(11));
    assertThat(failure.getMessage())
        .contains("the config file's downburst.machine entry for type vps gives arch 'aarch64'")
        .contains("downburst creates x86 VMs only");
    assertThat(fake.calls("create")).as("downburst create never ran").isEmpty();
    assertThat(calls("destroy", vm(11))).as("the pool's clean-up of the failed VM").hasSize(1);
    assertThat(locked(pool)).isEmpty();
    assertThat(pool.leases()).isEmpty();
  }

  // --- the OS ---

  @Test
  void theRequestedOsIsInTheMetaDataAndRecordedOnTheMachine() throws Exception {
    MachinePool pool = pool();
    pool.inventory().add(slot(11, 1).withOs("centos", "9.stream"));
    fake.plan("create", "gate");

    CompletableFuture<Lease> locking =
        CompletableFuture.supplyAsync(() -> pool.lock(vps(1).build()), background);
    fake.awaitCall("create", "vpm011", AWAIT);
    Machine during = pool.machine(vm(11)).orElseThrow();
    fake.openGate("create");
    Lease lease = locking.get(30, TimeUnit.SECONDS);

    assertThat(during.locked()).isTrue();
    assertThat(during.osType()).as("the old OS is cleared before create").isNull();
    assertThat(during.osVersion()).isNull();
    Map<String, Object> meta =
        DownburstProvisionerTest.yaml(fake.calls("create").get(0).metaData().orElseThrow());
    assertThat(DownburstProvisionerTest.map(meta.get("downburst")))
        .containsEntry("distro", "ubuntu")
        .containsEntry("distroversion", "22.04");
    assertThat(lease.machines().get(0))
        .extracting(Machine::osType, Machine::osVersion)
        .containsExactly("ubuntu", "22.04");
    assertThat(pool.machine(vm(11)).orElseThrow())
        .extracting(Machine::osType, Machine::osVersion, Machine::locked)
        .containsExactly("ubuntu", "22.04", true);
    lease.close();
  }

  @Test
  void anUnknownOsFailsBeforeAnythingIsLocked() {
    MachinePool pool = pool();
    pool.inventory().addAll(slot(11, 1), slot(21, 2));
    List<Machine> before = pool.machines(MachineQuery.all());

    InvalidRequestException refused =
        catchThrowableOfType(
            InvalidRequestException.class, () -> pool.lock(vps(2).os("ubuntu", "9.04").build()));

    assertThat(refused.getMessage()).contains("downburst cannot install ubuntu 9.04");
    assertThat(fake.calls("create")).isEmpty();
    assertThat(fake.calls("destroy")).isEmpty();
    assertThat(pool.machines(MachineQuery.all())).isEqualTo(before);

    assertThat(
            catchThrowableOfType(
                InvalidRequestException.class,
                () ->
                    pool.lock(
                        LockRequest.builder().owner(ALICE).names(vm(11)).os("plan9", "4").build())))
        .isNotNull();
    assertThat(fake.calls("create")).isEmpty();
    assertThat(pool.machines(MachineQuery.all())).isEqualTo(before);
  }

  // --- unlock ---

  @Test
  void closeDestroysEachVmWhileStillLockedThenForgetsItsKeysAndUnlocks() throws Exception {
    MachinePool pool = pool();
    pool.inventory().addAll(slot(11, 1), slot(21, 2));
    Lease lease = pool.lock(vps(2).build());
    for (String name : lease.names()) {
      pool.hostKeys().replace(name, List.of(KEY));
    }
    fake.plan("destroy", "gate");

    CompletableFuture<Void> closing = CompletableFuture.runAsync(lease::close, background);
    FakeDownburst.Call first = fake.awaitCall("destroy", "vpm011", AWAIT);
    // While the first destroy runs, nothing of the lease is unlocked or forgotten yet.
    List<Machine> during = pool.machines(MachineQuery.all());
    List<HostKey> keysDuring = pool.hostKeys().keys(vm(11));
    fake.openGate("destroy");
    closing.get(30, TimeUnit.SECONDS);

    assertThat(first.ended()).isTrue();
    assertThat(during).allSatisfy(m -> assertThat(m.locked()).as("%s", m.name()).isTrue());
    assertThat(keysDuring).containsExactly(KEY);
    List<FakeDownburst.Call> destroys = fake.calls("destroy");
    assertThat(destroys).hasSize(2);
    assertThat(destroys.stream().map(FakeDownburst.Call::argv).toList())
        .containsExactlyInAnyOrder(
            List.of("-v", "-c", "mira001", "destroy", "vpm011"),
            List.of("-v", "-c", "mira002", "destroy", "vpm021"));
    assertThat(locked(pool)).isEmpty();
    assertThat(pool.hostKeys().keys(vm(11))).isEmpty();
    assertThat(pool.hostKeys().keys(vm(21))).isEmpty();
    assertThat(pool.machines(MachineQuery.all()))
        .allSatisfy(m -> assertThat(m.hostKeys()).isEmpty());

    lease.close();
    assertThat(fake.calls("destroy")).as("close is idempotent").hasSize(2);
  }

  @Test
  void aDestroyThatFailsOnCloseLeavesThatVmLockedAndMarkedDownAndUnlocksTheOthers() {
    MachinePool pool = pool();
    pool.inventory().addAll(slot(11, 1), slot(12, 1), slot(21, 2));
    Lease lease = pool.lock(vps(3).build());
    fake.planFor("destroy", "vpm012", "fail");

    ProvisioningException failure = catchThrowableOfType(ProvisioningException.class, lease::close);

    assertThat(failure.machine()).isEqualTo(vm(12));
    assertThat(failure.exitCode()).hasValue(1);
    assertThat(failure.stderrTail()).endsWith("Connection reset by peer");
    assertThat(fake.calls("destroy"))
        .extracting(FakeDownburst.Call::vm)
        .containsExactlyInAnyOrder("vpm011", "vpm012", "vpm021");
    Machine kept = pool.machine(vm(12)).orElseThrow();
    assertThat(kept.locked()).isTrue();
    assertThat(kept.lockedBy()).isEqualTo(ALICE);
    assertThat(kept.up()).isFalse();
    assertThat(kept.description())
        .startsWith("destroy failed, VM may still use its host: ")
        .contains("downburst destroy on mira001 failed")
        .contains("Connection reset by peer")
        .doesNotContain("\n");
    assertThat(names(locked(pool))).containsExactly(vm(12));
    assertThat(pool.machine(vm(11)).orElseThrow().up()).isTrue();
    assertThat(pool.machine(vm(21)).orElseThrow().up()).isTrue();
    log.expect("io.machinepool.VmCleanup", "stays locked and is marked down");
    assertThat(log.entries("io.machinepool.VmCleanup", "stays locked and is marked down"))
        .singleElement()
        .satisfies(e -> assertThat(e.level()).isEqualTo("ERROR"))
        .satisfies(e -> assertThat(e.text()).contains(vm(12), "Connection reset by peer"));
  }

  @Test
  void aLeaseWhoseMachinesWereReapedAndLockedByOthersNeitherDestroysNorUnlocksThem()
      throws SQLException {
    DownburstProvisioner provisioner = provisionerBuilder().build();
    MachinePool alicePool = pool(provisioner, b -> {});
    MachinePool otherPool = pool(provisioner, b -> {});
    alicePool.inventory().addAll(slot(11, 1), slot(21, 2));
    Lease old = alicePool.lock(vps(2).build());
    expire(old);

    List<Machine> reaped = otherPool.reapExpired();
    assertThat(names(reaped)).containsExactlyInAnyOrder(vm(11), vm(21));
    Lease bobs = otherPool.lock(byName(BOB, old.names()));
    int destroysBefore = fake.calls("destroy").size();
    long bobsLastCreate =
        fake.calls("create").stream().mapToLong(FakeDownburst.Call::started).max().orElseThrow();

    assertThatCode(old::close).doesNotThrowAnyException();

    assertThat(fake.calls("destroy")).hasSize(destroysBefore);
    assertThat(fake.calls("destroy"))
        .as("no destroy after bob's VMs were created")
        .allSatisfy(d -> assertThat(d.started()).isLessThan(bobsLastCreate));
    for (String name : old.names()) {
      Machine machine = alicePool.machine(name).orElseThrow();
      assertThat(machine.locked()).isTrue();
      assertThat(machine.lockedBy()).isEqualTo(BOB);
      assertThat(machine.up()).isTrue();
      assertThat(machine.generation())
          .isEqualTo(
              bobs.machines().stream()
                  .filter(m -> m.name().equals(name))
                  .findFirst()
                  .orElseThrow()
                  .generation());
    }
    bobs.close();
    assertThat(locked(alicePool)).isEmpty();
  }

  @Test
  void reapExpiredDestroysTheVmsOfAnExpiredLeaseBeforeFreeingThem() throws Exception {
    MachinePool pool = pool();
    pool.inventory().addAll(slot(11, 1), slot(21, 2));
    Lease lease = pool.lock(vps(2).build());
    expire(lease);
    fake.plan("destroy", "gate");

    CompletableFuture<List<Machine>> reaping =
        CompletableFuture.supplyAsync(pool::reapExpired, background);
    FakeDownburst.Call first = fake.awaitCall("destroy", null, AWAIT);
    List<Machine> during = locked(pool);
    fake.openGate("destroy");
    List<Machine> reaped = reaping.get(30, TimeUnit.SECONDS);

    assertThat(first.ended()).isTrue();
    assertThat(names(during)).containsExactlyInAnyOrder(vm(11), vm(21));
    assertThat(names(reaped)).containsExactlyInAnyOrder(vm(11), vm(21));
    assertThat(fake.calls("destroy").stream().map(FakeDownburst.Call::argv).toList())
        .containsExactlyInAnyOrder(
            List.of("-v", "-c", "mira001", "destroy", "vpm011"),
            List.of("-v", "-c", "mira002", "destroy", "vpm021"));
    assertThat(locked(pool)).isEmpty();
    assertThat(lease.isLost()).isTrue();

    lease.close();
    assertThat(fake.calls("destroy")).as("the lost lease destroys nothing more").hasSize(2);
  }
}
