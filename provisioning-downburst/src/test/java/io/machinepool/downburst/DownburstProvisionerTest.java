package io.machinepool.downburst;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.machinepool.InvalidRequestException;
import io.machinepool.LockRequest;
import io.machinepool.Machine;
import io.machinepool.ProvisioningException;
import io.machinepool.config.TeuthologyConfig;
import io.machinepool.testing.LogCapture;
import io.machinepool.testing.TestValues;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/** The downburst process contract, against a fake downburst that records what it was given. */
@EnabledOnOs(OS.LINUX)
class DownburstProvisionerTest {
  static final String LIST_JSON =
      """
      {"ubuntu": ["20.04(focal)", "22.04(jammy)", "24.04(noble)"], "centos": ["9.stream", "10.stream"]}
      """;
  static final String PATH = "/usr/local/bin:/usr/bin:/bin";
  static final String VM = "vpm011.front.sepia.ceph.com";
  static final String HOST = "mira001.front.sepia.ceph.com";
  static final String MAC = "52:54:00:00:00:11";

  @RegisterExtension final LogCapture log = new LogCapture();

  @TempDir Path tmp;
  FakeDownburst fake;
  Path temporary;

  @BeforeEach
  void fake() throws IOException {
    fake = new FakeDownburst(tmp);
    fake.listJson(LIST_JSON);
    temporary = Files.createDirectories(tmp.resolve("tmp"));
  }

  DownburstProvisioner.Builder builder(String moreConfig) {
    TeuthologyConfig config =
        TeuthologyConfig.parse(
            "downburst:\n  path: " + fake.executable() + "\n" + moreConfig, null);
    return DownburstProvisioner.builder()
        .config(config)
        .environment(Map.of("PATH", PATH, "HOME", "/home/alice", "USER", "alice", "TOKEN", "s3"))
        .homes(List.of())
        .temporaryDirectory(temporary)
        .checkLibvirtAliases(false)
        .createTimeout(Duration.ofSeconds(20))
        .destroyTimeout(Duration.ofSeconds(20))
        .retryPause(Duration.ZERO);
  }

  DownburstProvisioner provisioner() {
    return builder("").build();
  }

  static Machine vm(String name, String type, String host, String mac) {
    return TestValues.machine(
        name,
        type,
        host,
        true,
        true,
        "alice@build7",
        Instant.now(),
        "run-42/job-3",
        null,
        null,
        null,
        mac,
        List.of(),
        null,
        7);
  }

  static Machine vm() {
    return vm(VM, "vps", HOST, MAC);
  }

  static LockRequest request(String osType, String osVersion) {
    return LockRequest.builder()
        .owner("alice@build7")
        .machineType("vps")
        .count(1)
        .os(osType, osVersion)
        .build();
  }

  static LockRequest request() {
    return request("ubuntu", "22.04");
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> yaml(String text) {
    return (Map<String, Object>) new Yaml(new SafeConstructor(new LoaderOptions())).load(text);
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> map(Object value) {
    return (Map<String, Object>) value;
  }

  @SuppressWarnings("unchecked")
  static List<Object> list(Object value) {
    return (List<Object>) value;
  }

  List<Path> temporaryFiles() throws IOException {
    try (Stream<Path> files = Files.list(temporary)) {
      return files.toList();
    }
  }

  // --- the command line and environment ---

  @Test
  void createArgumentsComeFromTheConfigFileUnlessTheBuilderSetsThem() {
    builder("machine_pool:\n  downburst_create_args: [--nokey]\n")
        .build()
        .provision(vm(), request());
    builder("machine_pool:\n  downburst_create_args: [--nokey]\n")
        .extraCreateArguments(List.of())
        .build()
        .provision(vm(), request());

    List<FakeDownburst.Call> creates = fake.calls("create");
    assertThat(creates).hasSize(2);
    assertThat(creates.get(0).argv().subList(0, 6))
        .containsExactly("-v", "-c", "mira001", "create", "--wait", "--nokey");
    assertThat(creates.get(1).argv().get(5)).startsWith("--meta-data=");
  }

  @Test
  void createRunsExactlyTheDocumentedArgumentList() {
    DownburstProvisioner provisioner = builder("").extraCreateArguments(List.of("--nokey")).build();

    provisioner.provision(vm(), request());

    List<FakeDownburst.Call> creates = fake.calls("create");
    assertThat(creates).hasSize(1);
    List<String> argv = creates.get(0).argv();
    assertThat(argv).hasSize(9);
    assertThat(argv.subList(0, 6))
        .containsExactly("-v", "-c", "mira001", "create", "--wait", "--nokey");
    assertThat(argv.get(6)).startsWith("--meta-data=" + temporary.resolve("machinepool-vpm011-"));
    assertThat(argv.get(6)).endsWith(".meta.yaml");
    assertThat(argv.get(7)).startsWith("--user-data=" + temporary.resolve("machinepool-vpm011-"));
    assertThat(argv.get(7)).endsWith(".user.yaml");
    assertThat(argv.get(8)).isEqualTo("vpm011");
    assertThat(fake.calls("destroy")).isEmpty();
  }

  @Test
  void destroyRunsExactlyTheDocumentedArgumentList() {
    provisioner().release(vm());

    assertThat(fake.calls("destroy")).singleElement();
    assertThat(fake.calls("destroy").get(0).argv())
        .containsExactly("-v", "-c", "mira001", "destroy", "vpm011");
  }

  @Test
  void environmentIsWhatLibvirtsSshTransportNeedsAndTheConfiguredDiscoverUrl() {
    DownburstProvisioner provisioner =
        builder("  discover_url: http://images.example.com/cloudinit/\n").build();

    provisioner.provision(vm(), request());
    provisioner.release(vm());

    assertThat(fake.calls()).hasSizeGreaterThanOrEqualTo(2);
    for (FakeDownburst.Call call : fake.calls()) {
      assertThat(call.environment())
          .as("environment of %s", call)
          .containsExactlyInAnyOrderEntriesOf(
              Map.of(
                  "PATH",
                  PATH,
                  "DOWNBURST_DISCOVER_URL",
                  "http://images.example.com/cloudinit/",
                  "HOME",
                  "/home/alice",
                  "USER",
                  "alice"));
    }
  }

  @Test
  void discoverUrlOfTheEnvironmentWinsOverTheConfigFile() {
    DownburstProvisioner provisioner =
        builder("  discover_url: http://from-config/\n")
            .environment(
                Map.of("PATH", PATH, "DOWNBURST_DISCOVER_URL", "http://from-env/", "HOME", "/x"))
            .build();

    provisioner.provision(vm(), request());

    assertThat(fake.calls("create").get(0).environment())
        .containsExactlyInAnyOrderEntriesOf(
            Map.of("PATH", PATH, "DOWNBURST_DISCOVER_URL", "http://from-env/", "HOME", "/x"));
  }

  @Test
  void withoutDiscoverUrlNoneIsPassedAndXdgConfigHomeAndTheLocaleAreWhenSet() {
    provisioner().provision(vm(), request());
    assertThat(fake.calls("create").get(0).environment())
        .containsExactlyInAnyOrderEntriesOf(
            Map.of("PATH", PATH, "HOME", "/home/alice", "USER", "alice"));

    builder("")
        .environment(Map.of("PATH", PATH, "XDG_CONFIG_HOME", "/home/alice/.cfg", "LANG", "C"))
        .build()
        .release(vm());
    assertThat(fake.calls("destroy").get(0).environment())
        .containsExactlyInAnyOrderEntriesOf(
            Map.of("PATH", PATH, "XDG_CONFIG_HOME", "/home/alice/.cfg", "LANG", "C"));
  }

  @Test
  void theSshThatLibvirtRunsForAQemuSshUriGetsTheAgentHomeUserAndLocale() throws IOException {
    Path bin = Files.createDirectories(tmp.resolve("ssh-bin"));
    Path recorded = tmp.resolve("ssh.env");
    Path ssh = bin.resolve("ssh");
    Files.writeString(
        ssh, "#!/bin/sh\nenv > '" + recorded + "'\necho \"$@\" > '" + recorded + ".argv'\n");
    Files.setPosixFilePermissions(
        ssh, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
    Map<String, String> environment = new java.util.HashMap<>();
    environment.put("PATH", bin + ":" + PATH);
    environment.put("HOME", "/home/alice");
    environment.put("USER", "alice");
    environment.put("LOGNAME", "alice");
    environment.put("SSH_AUTH_SOCK", "/run/user/1000/ssh-agent.sock");
    environment.put("LANG", "en_US.UTF-8");
    environment.put("LC_ALL", "C.UTF-8");
    environment.put("LC_MESSAGES", "C");
    environment.put("AWS_SECRET_ACCESS_KEY", "s3cr3t");
    environment.put("DISPLAY", ":0");
    fake.plan("create", "ssh");

    builder("").environment(environment).build().provision(vm(), request());

    assertThat(Files.readString(tmp.resolve("ssh.env.argv"))).contains("mira001");
    Map<String, String> seen = new java.util.HashMap<>();
    for (String line : Files.readAllLines(recorded)) {
      int eq = line.indexOf('=');
      if (eq > 0) {
        seen.put(line.substring(0, eq), line.substring(eq + 1));
      }
    }
    assertThat(seen)
        .containsEntry("HOME", "/home/alice")
        .containsEntry("USER", "alice")
        .containsEntry("LOGNAME", "alice")
        .containsEntry("SSH_AUTH_SOCK", "/run/user/1000/ssh-agent.sock")
        .containsEntry("LANG", "en_US.UTF-8")
        .containsEntry("LC_ALL", "C.UTF-8")
        .containsEntry("LC_MESSAGES", "C")
        .doesNotContainKeys("AWS_SECRET_ACCESS_KEY", "DISPLAY");
  }

  // --- what downburst cannot do ---

  static LockRequest armRequest() {
    return LockRequest.builder()
        .owner("alice@build7")
        .machineType("vps")
        .count(1)
        .os("ubuntu", "22.04")
        .arch("aarch64")
        .build();
  }

  @Test
  void anArchitectureDownburstCannotCreateIsRefusedByValidateWithoutRunningIt() {
    InvalidRequestException refused =
        catchThrowableOfType(
            InvalidRequestException.class,
            () -> provisioner().validate(armRequest(), new java.util.TreeSet<>(List.of(HOST))));

    assertThat(refused.getMessage())
        .contains("the request asks for arch 'aarch64'")
        .contains("downburst creates x86 VMs only (x86_64, amd64, i686");
    assertThat(fake.calls("create")).isEmpty();
  }

  @Test
  void aRequestThatNamesPhysicalAndVmTypesIsRefusedAsAWholeSayingToAskForThePhysicalType() {
    LockRequest mixed =
        LockRequest.builder()
            .owner("alice@build7")
            .machineTypes("smithi", "vps")
            .count(1)
            .arch("aarch64")
            .build();

    InvalidRequestException refused =
        catchThrowableOfType(
            InvalidRequestException.class,
            () -> provisioner().validate(mixed, new java.util.TreeSet<>(List.of(HOST))));

    assertThat(refused.getMessage())
        .contains("the request asks for arch 'aarch64'")
        .contains("VM slots could serve this request for one of its machine types (smithi, vps)")
        .contains(
            "to lock a physical machine of that architecture, ask for its machine type alone");
    assertThat(fake.calls("create")).isEmpty();
  }

  @Test
  void anArchitectureFromTheConfigFileIsRefusedToo() {
    DownburstProvisioner provisioner =
        builder("  machine:\n    - type: [vps]\n      arch: ppc64le\n").build();

    InvalidRequestException refused =
        catchThrowableOfType(
            InvalidRequestException.class,
            () -> provisioner.validate(request(), new java.util.TreeSet<>(List.of(HOST))));

    assertThat(refused.getMessage())
        .contains("downburst.machine entry for type vps gives arch 'ppc64le'");
    assertThatCode(
            () ->
                provisioner()
                    .validate(
                        request().toBuilder().arch("x86_64").build(),
                        new java.util.TreeSet<>(List.of(HOST))))
        .doesNotThrowAnyException();
  }

  @Test
  void provisionRefusesAnArchitectureDownburstCannotCreateWithoutRunningIt() {
    ProvisioningException failure =
        catchThrowableOfType(
            ProvisioningException.class, () -> provisioner().provision(vm(), armRequest()));

    assertThat(failure.getMessage()).contains("downburst creates x86 VMs only");
    assertThat(fake.calls("create")).isEmpty();
  }

  // --- meta-data and user-data ---

  @Test
  void metaDataHasTeuthologysDefaultsWithoutAConfigEntry() {
    provisioner().provision(vm(), request());

    Map<String, Object> meta = yaml(fake.calls("create").get(0).metaData().orElseThrow());
    assertThat(meta)
        .containsOnlyKeys("downburst", "local-hostname")
        .containsEntry("local-hostname", VM);
    assertThat(meta.get("downburst"))
        .isEqualTo(
            Map.of(
                "disk-size", "100G",
                "ram", "3.8G",
                "cpus", 1,
                "networks", List.of(Map.of("source", "front", "mac", MAC)),
                "distro", "ubuntu",
                "distroversion", "22.04",
                "additional-disks", 4,
                "additional-disks-size", "100G",
                "arch", "x86_64"));
  }

  @Test
  void metaDataSizesComePerMachineTypeFromTheConfigFile() {
    DownburstProvisioner provisioner =
        builder(
                """
                  machine:
                    - type: [vps, vpm]
                      disk: 40G
                      ram: 8G
                      cpus: 4
                      volumes: {count: 2, size: 20G}
                    - type: vpsbig
                      disk: 500G
                      ram: 64G
                      cpus: 16
                      arch: i686
                """)
            .build();

    provisioner.provision(vm(), request());
    provisioner.provision(vm("vpm200.front.sepia.ceph.com", "vpsbig", HOST, null), request());
    provisioner.provision(vm("vpm300.front.sepia.ceph.com", "other", HOST, MAC), request());

    List<FakeDownburst.Call> creates = fake.calls("create");
    Map<String, Object> vps = yaml(creates.get(0).metaData().orElseThrow());
    assertThat(map(vps.get("downburst")))
        .containsEntry("disk-size", "40G")
        .containsEntry("ram", "8G")
        .containsEntry("cpus", 4)
        .containsEntry("additional-disks", 2)
        .containsEntry("additional-disks-size", "20G")
        .containsEntry("arch", "x86_64");
    Map<String, Object> big = yaml(creates.get(1).metaData().orElseThrow());
    assertThat(map(big.get("downburst")))
        .containsEntry("disk-size", "500G")
        .containsEntry("ram", "64G")
        .containsEntry("cpus", 16)
        .containsEntry("additional-disks", 4)
        .containsEntry("additional-disks-size", "100G")
        .containsEntry("arch", "i686")
        .doesNotContainKey("networks");
    assertThat(big).containsEntry("local-hostname", "vpm200.front.sepia.ceph.com");
    Map<String, Object> other = yaml(creates.get(2).metaData().orElseThrow());
    assertThat(map(other.get("downburst")))
        .containsEntry("disk-size", "100G")
        .containsEntry("ram", "3.8G")
        .containsEntry("cpus", 1);
  }

  @Test
  void shortMachineNamesAreCompletedWithTheLabDomainForLocalHostname() {
    DownburstProvisioner provisioner = builder("lab_domain: front.sepia.ceph.com\n").build();

    provisioner.provision(vm("vpm011", "vps", "mira001", MAC), request());

    FakeDownburst.Call create = fake.calls("create").get(0);
    assertThat(yaml(create.metaData().orElseThrow())).containsEntry("local-hostname", VM);
    assertThat(create.argv()).contains("mira001").endsWith("vpm011");
  }

  @Test
  void theRequestsOsAndArchAreInstalled() {
    LockRequest request =
        LockRequest.builder()
            .owner("alice@build7")
            .machineType("vps")
            .count(1)
            .os("CentOS", "9.stream")
            .arch("i686")
            .build();

    Machine provisioned = provisioner().provision(vm(), request);

    assertThat(provisioned.osType()).isEqualTo("centos");
    assertThat(provisioned.osVersion()).isEqualTo("9.stream");
    assertThat(provisioned.arch()).isEqualTo("i686");
    Map<String, Object> downburst =
        map(yaml(fake.calls("create").get(0).metaData().orElseThrow()).get("downburst"));
    assertThat(downburst)
        .containsEntry("distro", "centos")
        .containsEntry("distroversion", "9.stream")
        .containsEntry("arch", "i686");
  }

  @Test
  void withoutAnOsTheCurrentUbuntuLtsIsInstalledAndReturned() {
    LockRequest request = LockRequest.builder().owner("a@b").machineType("vps").count(1).build();

    Machine slot = vm();
    Machine provisioned = provisioner().provision(slot, request);

    assertThat(provisioned)
        .isEqualTo(slot.withOs("ubuntu", "24.04", "x86_64"))
        .extracting(Machine::osType, Machine::osVersion, Machine::arch)
        .containsExactly("ubuntu", "24.04", "x86_64");

    Map<String, Object> downburst =
        map(yaml(fake.calls("create").get(0).metaData().orElseThrow()).get("downburst"));
    assertThat(downburst).containsEntry("distro", "ubuntu").containsEntry("distroversion", "24.04");
  }

  @Test
  void aVersionWithoutTypeInstallsThatVersionOfUbuntuAsTeuthologyLockDoesForVms() {
    LockRequest request =
        LockRequest.builder().owner("a@b").machineType("vps").count(1).os(null, "22.04").build();
    DownburstProvisioner provisioner = provisioner();

    provisioner.validate(request, new java.util.TreeSet<>(List.of(HOST)));
    Machine provisioned = provisioner.provision(vm(), request);

    assertThat(provisioned)
        .extracting(Machine::osType, Machine::osVersion)
        .containsExactly("ubuntu", "22.04");
    Map<String, Object> downburst =
        map(yaml(fake.calls("create").get(0).metaData().orElseThrow()).get("downburst"));
    assertThat(downburst).containsEntry("distro", "ubuntu").containsEntry("distroversion", "22.04");
    assertThat(list(yaml(fake.calls("create").get(0).userData().orElseThrow()).get("packages")))
        .as("Ubuntu's packages")
        .containsExactly("git", "wget", "ntp", "python3");
  }

  @Test
  void userDataIsACloudConfigForConsoleLoginsWithTheFamilysPackages() {
    DownburstProvisioner provisioner = provisioner();
    provisioner.provision(vm(), request("ubuntu", "24.04"));
    provisioner.provision(vm(), request("centos", "10.stream"));

    String ubuntu = fake.calls("create").get(0).userData().orElseThrow();
    assertThat(ubuntu).startsWith("#cloud-config\n");
    Map<String, Object> document = yaml(ubuntu);
    assertThat(document)
        .containsEntry("user", "ubuntu")
        .containsEntry("runcmd", List.of(List.of("passwd", "-d", "ubuntu")));
    assertThat(list(document.get("packages"))).containsExactly("git", "wget", "ntp", "python3");

    Map<String, Object> centos = yaml(fake.calls("create").get(1).userData().orElseThrow());
    assertThat(list(centos.get("packages")))
        .containsExactly("git", "wget", "chrony", "python3", "python3-pip", "bind-utils");
    assertThat(list(centos.get("runcmd"))).hasSize(2);
  }

  @Test
  void temporaryFilesAreOwnerOnlyAndRemovedAfterSuccess() throws IOException {
    provisioner().provision(vm(), request());

    assertThat(fake.calls("create").get(0).fileModes()).containsExactly("600", "600");
    assertThat(temporaryFiles()).isEmpty();
  }

  @Test
  void temporaryFilesAreRemovedAfterFailure() throws IOException {
    fake.plan("create", "fail");

    catchThrowableOfType(
        ProvisioningException.class,
        () -> builder("").createAttempts(2).build().provision(vm(), request()));

    assertThat(fake.calls("create")).hasSize(2);
    assertThat(temporaryFiles()).isEmpty();
  }

  // --- outcomes ---

  @Test
  void transientFailuresAreRetriedUpToCreateAttemptsAndLeaveTheDestroyToThePool() {
    fake.plan("create", "fail");

    ProvisioningException failure =
        catchThrowableOfType(
            ProvisioningException.class,
            () -> builder("").createAttempts(3).build().provision(vm(), request()));

    assertThat(fake.subcommands())
        .as("the pool destroys every VM of a failed request; the provisioner does not as well")
        .containsExactly("list-json", "create", "create", "create");
    assertThat(failure.machine()).isEqualTo(VM);
    assertThat(failure.exitCode()).hasValue(1);
    assertThat(failure.stderrTail())
        .startsWith("DEBUG:downburst.cli:Connecting to libvirt...")
        .endsWith("libvirt.libvirtError: Cannot recv data: Connection reset by peer");
  }

  @Test
  void theFailureIsOneLineWithTheToolsLastErrorLineAndTheTailStaysInTheFailure() {
    fake.plan("create", "fail");

    ProvisioningException failure =
        catchThrowableOfType(
            ProvisioningException.class,
            () -> builder("").createAttempts(2).build().provision(vm(), request()));

    assertThat(failure.getMessage())
        .isEqualTo(
            "provisioning failed for "
                + VM
                + ": downburst create on mira001 failed 2 times, the last time:"
                + " libvirt.libvirtError: Cannot recv data: Connection reset by peer (exit code 1)");
    assertThat(failure.failures().get(0).stderrTail())
        .contains("Traceback (most recent call last):")
        .endsWith("Connection reset by peer");
  }

  @Test
  void downburstsOwnErrorLineIsShownWithoutItsLogPrefix() {
    fake.plan("create", "exists-vm");

    ProvisioningException failure =
        catchThrowableOfType(
            ProvisioningException.class,
            () -> builder("").createAttempts(1).build().provision(vm(), request()));

    assertThat(failure.failures().get(0).reason())
        .isEqualTo(
            "downburst create on mira001 failed: downburst create: Virtual machine with this name"
                + " exists already: vpm011");
  }

  @ParameterizedTest
  @ValueSource(strings = {"assert", "no-image", "bad-meta", "usage"})
  void failuresThatCannotSucceedOnRetryFailAtOnce(String behaviour) {
    fake.plan("create", behaviour, "ok");

    ProvisioningException failure =
        catchThrowableOfType(
            ProvisioningException.class,
            () -> builder("").createAttempts(3).build().provision(vm(), request()));

    assertThat(fake.subcommands()).containsExactly("list-json", "create");
    assertThat(failure.getMessage()).contains("; not retried: ").doesNotContain("\n");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "AssertionError",
        "NameError: Image centos-8-(\\d+)-cloudimg-arm64.(img|raw) not found on server at"
            + " http://download.ceph.com/cloudinit/",
        "NameError: Image not found on server at https://repo.almalinux.org/almalinux/9.9",
        "NameError: SHA-256 checksums not found for file x.img at https://example.com/SHA256SUMS",
        "RuntimeError: Unable to find checksum file by https://example.com/images",
        "requests.exceptions.HTTPError: 404 Client Error: Not Found for url: https://x/y.img",
        "yaml.scanner.ScannerError: mapping values are not allowed here",
        "KeyError: 'gentoo'",
        "ValueError: dictionary update sequence element #0 has length 4; 2 is required",
        "FileNotFoundError: [Errno 2] No such file or directory: '/tmp/meta.yaml'",
        "libvirt.libvirtError: no connection driver available for URI 'mira999'",
        "libvirt.libvirtError: Cannot recv data: ubuntu@mira001: Permission denied (publickey).:"
            + " Connection reset by peer"
      })
  void downburstsErrorsThatFailTheSameWayAgainArePermanent(String lastLine) {
    String stderr =
        "DEBUG:downburst.cli:x\nTraceback (most recent call last):\n  File \"x\"\n" + lastLine;

    CreateFailure failure = CreateFailure.of(stderr, false, 1, false);

    assertThat(failure.kind()).isEqualTo(CreateFailure.Kind.PERMANENT);
    assertThat(failure.summary()).isEqualTo(lastLine);
    assertThat(failure.why()).isNotEmpty();
  }

  /** Classifies a failed run's stderr as the provisioner does: through its tail and markers. */
  static CreateFailure classify(String stderr) {
    return classify(stderr, 1);
  }

  /** Classifies a failed run's stderr and exit code as the provisioner does. */
  static CreateFailure classify(String stderr, int exitCode) {
    OutputTail tail =
        new OutputTail(
            ProcessRunner.TAIL_LINES,
            ProcessRunner.TAIL_BYTES,
            List.of(CreateFailure.EXISTS_MARKER),
            null);
    tail.drain(new java.io.ByteArrayInputStream(stderr.getBytes(StandardCharsets.UTF_8)));
    return CreateFailure.of(tail.text(), false, exitCode, tail.saw(CreateFailure.EXISTS_MARKER));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "FileNotFoundError: [Errno 2] No such file or directory: '/srv/images/vpm011.img'",
        "AssertionError",
        "KeyError: 'distroversion'"
      })
  void aPermanentLastLineWinsOverExistsInTheSourceLinesOfItsTraceback(String lastLine) {
    String stderr =
        "DEBUG:downburst.cli:Connecting to libvirt...\n"
            + "Traceback (most recent call last):\n"
            + "  File \"/home/ubuntu/src/downburst/downburst/image.py\", line 97, in ensure\n"
            + "    if not os.path.exists(path):\n"
            + lastLine;

    CreateFailure failure = classify(stderr);

    assertThat(failure.kind()).isEqualTo(CreateFailure.Kind.PERMANENT);
    assertThat(failure.summary()).isEqualTo(lastLine);
  }

  @Test
  void aUsageErrorIsPermanentAlsoWhenItsCommandLineSaysExists() {
    CreateFailure failure =
        classify(
            "usage: downburst [-h] [-v] [-l LOGFILE] [-c URI] COMMAND ...\n"
                + "downburst: error: unrecognized arguments: --if-exists",
            2);

    assertThat(failure.kind()).isEqualTo(CreateFailure.Kind.PERMANENT);
    assertThat(failure.why()).isEqualTo("downburst refused its command line");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "ERROR:downburst.cli:downburst create: Virtual machine with this name exists already:"
            + " vpm011",
        "libvirt.libvirtError: storage volume 'vpm011.img' exists already"
      })
  void aVmOrVolumeThatExistsIsExistsAlsoWhenItsLineWasDroppedFromTheTail(String existsLine) {
    String traceback =
        "DEBUG:downburst.cli:Connecting to libvirt...\nTraceback (most recent call last):\n"
            + "  File \"/home/ubuntu/src/downburst/downburst/create.py\", line 92, in create\n";
    String laterLines =
        "DEBUG:downburst.cli:closing the libvirt connection\n".repeat(ProcessRunner.TAIL_LINES);

    CreateFailure last = classify(traceback + existsLine);
    CreateFailure dropped = classify(traceback + existsLine + "\n" + laterLines);

    assertThat(last.kind()).isEqualTo(CreateFailure.Kind.EXISTS);
    assertThat(dropped.kind()).isEqualTo(CreateFailure.Kind.EXISTS);
  }

  @Test
  void aTracebackQuotingOsPathExistsThatEndsInFileNotFoundErrorIsNotDestroyedAndRetried() {
    fake.plan("create", "no-file", "ok");

    ProvisioningException failure =
        catchThrowableOfType(
            ProvisioningException.class,
            () -> builder("").createAttempts(3).build().provision(vm(), request()));

    assertThat(failure).isNotNull();
    assertThat(failure.stderrTail()).contains("    if not os.path.exists(path):");
    assertThat(fake.subcommands()).containsExactly("list-json", "create");
    assertThat(failure.failures().get(0).reason())
        .isEqualTo(
            "downburst create on mira001 failed: FileNotFoundError: [Errno 2] No such file or"
                + " directory: '/srv/images/vpm011.img'; not retried: a file downburst was given"
                + " does not exist");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "libvirt.libvirtError: Cannot recv data: Connection reset by peer",
        "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='x', port=443): Max retries",
        "downburst.exc.ImageHashMismatchError: Image SHA-512 did not match",
        "ERROR:downburst.cli:downburst create: --wait was specified, but the virtual machine never"
            + " came up: vpm011 never came up (cd tray open check failed)",
        "something nobody has seen before"
      })
  void otherFailuresAreTransient(String lastLine) {
    CreateFailure failure =
        CreateFailure.of("Traceback (most recent call last):\n" + lastLine, false, 1, false);

    assertThat(failure.kind()).isEqualTo(CreateFailure.Kind.TRANSIENT);
    assertThat(CreateFailure.of("", true, -1, false).kind())
        .as("a timeout")
        .isEqualTo(CreateFailure.Kind.TRANSIENT);
  }

  @Test
  void aMissingImageSaysSoAndWhyItIsNotRetried() {
    fake.plan("create", "no-image");

    ProvisioningException failure =
        catchThrowableOfType(
            ProvisioningException.class, () -> provisioner().provision(vm(), request()));

    assertThat(failure.failures().get(0).reason())
        .isEqualTo(
            "downburst create on mira001 failed: NameError: Image not found on server at"
                + " https://cloud.centos.org/centos/8-stream/aarch64/images; not retried: the"
                + " cloud image does not exist");
  }

  DownburstProvisioner.Builder fromConfigOnly(String machinePool) {
    TeuthologyConfig config =
        TeuthologyConfig.parse(
            "downburst:\n  path: " + fake.executable() + "\nmachine_pool:\n" + machinePool, null);
    return DownburstProvisioner.builder()
        .config(config)
        .environment(Map.of("PATH", PATH))
        .homes(List.of())
        .temporaryDirectory(temporary)
        .checkLibvirtAliases(false);
  }

  @Test
  void attemptsPauseAndTimeoutsComeFromTheConfigFileUnlessTheBuilderSetsThem() {
    fake.plan("create", "fail", "fail", "fail", "hang");
    // Every value differs from the builder's default (3 attempts, 60 s, 10 min, 5 min).
    DownburstProvisioner provisioner =
        fromConfigOnly(
                "  downburst_create_attempts: 4\n"
                    + "  downburst_retry_pause: 0\n"
                    + "  downburst_create_timeout: 1s\n"
                    + "  downburst_destroy_timeout: 1s\n")
            .build();

    assertThat(provisioner.attempts())
        .isEqualTo(
            new DownburstProvisioner.Attempts(
                Duration.ofSeconds(1), Duration.ofSeconds(1), 4, Duration.ZERO));
    ProvisioningException failure =
        catchThrowableOfType(
            ProvisioningException.class, () -> provisioner.provision(vm(), request()));

    assertThat(fake.calls("create")).hasSize(4);
    assertThat(failure.getMessage()).contains("failed 4 times").contains("timed out after 1 s");
    fake.plan("destroy", "hang");
    assertThat(
            catchThrowableOfType(ProvisioningException.class, () -> provisioner.release(vm()))
                .getMessage())
        .contains("timed out after 1 s");

    fake.plan("create", "fail");
    DownburstProvisioner overridden =
        fromConfigOnly("  downburst_create_attempts: 4\n  downburst_retry_pause: 0\n")
            .createAttempts(1)
            .retryPause(Duration.ofSeconds(5))
            .build();
    assertThat(overridden.attempts())
        .extracting(
            DownburstProvisioner.Attempts::createAttempts,
            DownburstProvisioner.Attempts::retryPause)
        .containsExactly(1, Duration.ofSeconds(5));
    catchThrowableOfType(ProvisioningException.class, () -> overridden.provision(vm(), request()));
    assertThat(fake.calls("create")).as("the builder's createAttempts(1) wins").hasSize(5);
  }

  @Test
  void theConfigFilesRetryPauseIsThePauseBetweenAttempts() {
    fake.plan("create", "fail", "ok");
    DownburstProvisioner provisioner = fromConfigOnly("  downburst_retry_pause: 1s\n").build();
    long started = System.nanoTime();

    provisioner.provision(vm(), request());

    Duration took = Duration.ofNanos(System.nanoTime() - started);
    assertThat(fake.calls("create")).hasSize(2);
    assertThat(took)
        .as("the config's 1 s pause, not none and not the builder's default of 60 s")
        .isGreaterThanOrEqualTo(Duration.ofSeconds(1))
        .isLessThan(Duration.ofSeconds(30));
  }

  @Test
  void aBuilderBuiltAgainWithAnotherConfigTakesThatConfigsValuesNotTheFirstOnes() {
    DownburstProvisioner.Builder builder =
        fromConfigOnly("  downburst_create_attempts: 1\n  downburst_retry_pause: 0\n");
    builder.build();
    fake.plan("create", "fail", "ok");

    builder
        .config(
            TeuthologyConfig.parse(
                "downburst:\n  path: "
                    + fake.executable()
                    + "\nmachine_pool:\n  downburst_retry_pause: 0\n",
                null))
        .build()
        .provision(vm(), request());

    assertThat(fake.calls("create"))
        .as("the default 3 attempts, not the first config's 1")
        .hasSize(2);
  }

  @Test
  void aTimeoutIsRetried() {
    fake.plan("create", "hang", "ok");

    builder("").createTimeout(Duration.ofMillis(1500)).build().provision(vm(), request());

    assertThat(fake.calls("create")).hasSize(2);
  }

  @Test
  void aFailureFollowedBySuccessNeedsNoDestroy() {
    fake.plan("create", "fail", "ok");

    provisioner().provision(vm(), request());

    assertThat(fake.subcommands()).containsExactly("list-json", "create", "create");
  }

  @Test
  void theRetryPauseSeparatesAttempts() {
    fake.plan("create", "fail", "ok");
    long started = System.nanoTime();

    builder("").retryPause(Duration.ofMillis(700)).build().provision(vm(), request());

    assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThan(Duration.ofMillis(700));
    assertThat(fake.calls("create")).hasSize(2);
  }

  @Test
  void oneAttemptMeansNoRetry() {
    fake.plan("create", "fail", "ok");

    ProvisioningException failure =
        catchThrowableOfType(
            ProvisioningException.class,
            () -> builder("").createAttempts(1).build().provision(vm(), request()));

    assertThat(fake.calls("create")).hasSize(1);
    assertThat(failure.exitCode()).hasValue(1);
    assertThat(failure.getMessage()).contains("downburst create on mira001 failed: libvirt.");
  }

  @ParameterizedTest
  @ValueSource(strings = {"exists-vm", "exists-volume"})
  void existsMeansDestroyThenCreateAgain(String behaviour) {
    fake.plan("create", behaviour, "ok");

    provisioner().provision(vm(), request());

    assertThat(fake.subcommands()).containsExactly("list-json", "create", "destroy", "create");
    assertThat(fake.calls("destroy").get(0).argv())
        .containsExactly("-v", "-c", "mira001", "destroy", "vpm011");
  }

  @Test
  void existsEveryTimeIsBoundedByCreateAttempts() {
    fake.plan("create", "exists-vm");

    ProvisioningException failure =
        catchThrowableOfType(
            ProvisioningException.class,
            () -> builder("").createAttempts(3).build().provision(vm(), request()));

    assertThat(fake.subcommands())
        .containsExactly("list-json", "create", "destroy", "create", "destroy", "create");
    assertThat(failure.stderrTail())
        .isEqualTo(
            "ERROR:downburst.cli:downburst create: Virtual machine with this name exists already:"
                + " vpm011");
  }

  @Test
  void aFailedDestroyAfterExistsIsFollowedByAnotherCreate() {
    fake.plan("create", "exists-vm", "ok");
    fake.plan("destroy", "fail");

    provisioner().provision(vm(), request());

    assertThat(fake.subcommands()).containsExactly("list-json", "create", "destroy", "create");
  }

  @Test
  void aToolThatCannotBeStartedFailsAtOnceNamingTheCommand() throws IOException {
    // list-json cannot be started either, so the OS is checked against the built-in table.
    log.expect("io.machinepool.downburst.DownburstProvisioner", "list-json failed");
    DownburstProvisioner provisioner = provisioner();
    Files.setPosixFilePermissions(
        fake.executable(), java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));

    ProvisioningException failure =
        catchThrowableOfType(
            ProvisioningException.class, () -> provisioner.provision(vm(), request()));

    assertThat(failure.machine()).isEqualTo(VM);
    assertThat(failure.getMessage())
        .contains("cannot start " + fake.executable() + " -v -c mira001");
    assertThat(temporaryFiles()).isEmpty();
  }

  @Test
  void aHangingCreateIsKilledWithItsWholeProcessTree() throws Exception {
    fake.plan("create", "hang");
    DownburstProvisioner provisioner =
        builder("").createTimeout(Duration.ofSeconds(2)).createAttempts(1).build();
    long started = System.nanoTime();

    ProvisioningException failure =
        catchThrowableOfType(
            ProvisioningException.class, () -> provisioner.provision(vm(), request()));

    Duration took = Duration.ofNanos(System.nanoTime() - started);
    assertThat(failure.getMessage())
        .contains(
            "downburst create on mira001 failed: timed out after 2 s; its process tree was"
                + " killed");
    assertThat(failure.exitCode()).isEmpty();
    FakeDownburst.Call create = fake.calls("create").get(0);
    assertThat(create.ended()).isFalse();
    long grandchild = create.grandchildPid().orElseThrow();
    assertThat(FakeDownburst.gone(create.pid(), Duration.ofSeconds(5))).isTrue();
    assertThat(FakeDownburst.gone(grandchild, Duration.ofSeconds(5)))
        .as("the child of the hanging downburst, pid %d, is gone", grandchild)
        .isTrue();
    assertThat(fake.subcommands()).containsExactly("list-json", "create");
    assertThat(took).isLessThan(Duration.ofSeconds(15));
    assertThat(temporaryFiles()).isEmpty();
  }

  @Test
  void anInterruptedProvisionThrowsProvisioningExceptionAndKeepsTheInterrupt() throws Exception {
    fake.plan("create", "hang");
    DownburstProvisioner provisioner = provisioner();
    Thread caller = Thread.currentThread();
    Thread interrupter =
        new Thread(
            () -> {
              try {
                awaitGrandchild();
              } catch (InterruptedException e) {
                return;
              }
              caller.interrupt();
            });
    interrupter.start();
    try {
      ProvisioningException failure =
          catchThrowableOfType(
              ProvisioningException.class, () -> provisioner.provision(vm(), request()));

      assertThat(Thread.interrupted()).isTrue();
      assertThat(failure.getMessage()).contains("interrupted during attempt 1 of");
      FakeDownburst.Call create = fake.calls("create").get(0);
      assertThat(FakeDownburst.gone(create.grandchildPid().orElseThrow(), Duration.ofSeconds(5)))
          .isTrue();
      assertThat(temporaryFiles()).isEmpty();
    } finally {
      interrupter.join();
      Thread.interrupted();
    }
  }

  private FakeDownburst.Call awaitGrandchild() throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (System.nanoTime() < deadline) {
      List<FakeDownburst.Call> creates = fake.calls("create");
      if (!creates.isEmpty() && creates.get(0).grandchildPid().isPresent()) {
        return creates.get(0);
      }
      Thread.sleep(20);
    }
    throw new AssertionError("the fake never started its child");
  }

  @Test
  void megabytesOfOutputDoNotBlockTheTool() {
    fake.plan("create", "chatty");

    assertThatCode(() -> provisioner().provision(vm(), request())).doesNotThrowAnyException();

    assertThat(fake.calls("create").get(0).ended()).isTrue();
  }

  @Test
  void megabytesOfStderrLeaveABoundedTailEndingWithTheTraceback() {
    fake.plan("create", "chatty-fail");

    ProvisioningException failure =
        catchThrowableOfType(
            ProvisioningException.class,
            () -> builder("").createAttempts(1).build().provision(vm(), request()));

    assertThat(failure.stderrTail())
        .endsWith("libvirt.libvirtError: internal error: disk full")
        .hasSizeLessThanOrEqualTo(ProcessRunner.TAIL_BYTES);
    assertThat(failure.stderrTail().split("\n")).hasSizeLessThanOrEqualTo(ProcessRunner.TAIL_LINES);
  }

  // --- destroy ---

  @Test
  void destroyThatFindsNoDomainCountsAsDone() {
    fake.plan("destroy", "no-domain");

    assertThatCode(() -> provisioner().release(vm())).doesNotThrowAnyException();
  }

  @Test
  void destroyFailureIsAProvisioningExceptionWithTheTail() {
    fake.plan("destroy", "fail");

    ProvisioningException failure =
        catchThrowableOfType(ProvisioningException.class, () -> provisioner().release(vm()));

    assertThat(failure.machine()).isEqualTo(VM);
    assertThat(failure.exitCode()).hasValue(1);
    assertThat(failure.stderrTail()).endsWith("Connection reset by peer");
    assertThat(failure.getMessage())
        .isEqualTo(
            "provisioning failed for "
                + VM
                + ": downburst destroy on mira001 failed: libvirt.libvirtError: Cannot recv data:"
                + " Connection reset by peer (exit code 1)");
    assertThat(fake.calls("destroy")).hasSize(1);
  }

  @Test
  void aHangingDestroyTimesOut() throws InterruptedException {
    fake.plan("destroy", "hang");

    ProvisioningException failure =
        catchThrowableOfType(
            ProvisioningException.class,
            () -> builder("").destroyTimeout(Duration.ofMillis(1500)).build().release(vm()));

    assertThat(failure.getMessage()).contains("timed out after 1.5 s");
    assertThat(failure.exitCode()).isEmpty();
    FakeDownburst.Call destroy = fake.calls("destroy").get(0);
    assertThat(FakeDownburst.gone(destroy.grandchildPid().orElseThrow(), Duration.ofSeconds(5)))
        .isTrue();
  }

  @Test
  void aPhysicalMachineIsRefused() {
    Machine physical = vm("smithi001.front.sepia.ceph.com", "smithi", null, null);

    ProvisioningException failure =
        catchThrowableOfType(
            ProvisioningException.class, () -> provisioner().provision(physical, request()));

    assertThat(failure.getMessage()).contains("physical machine");
    assertThat(fake.calls("create")).isEmpty();
  }
}
