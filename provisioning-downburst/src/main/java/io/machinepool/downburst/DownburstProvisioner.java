package io.machinepool.downburst;

import io.machinepool.ConfigurationException;
import io.machinepool.InvalidRequestException;
import io.machinepool.LockRequest;
import io.machinepool.Machine;
import io.machinepool.Provisioner;
import io.machinepool.ProvisioningException;
import io.machinepool.config.TeuthologyConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Re-images VM slots with the external tool <a
 * href="https://github.com/ceph/downburst">downburst</a> on lock and destroys their image on
 * unlock, the way teuthology does. Build one with {@link #builder()}:
 *
 * <pre>{@code
 * Provisioner vms = DownburstProvisioner.builder()
 *     .config(TeuthologyConfig.load())          // downburst path, discover_url, sizes, lab_domain
 *     .createTimeout(Duration.ofMinutes(10))
 *     .extraCreateArguments(List.of("--nokey")) // a lab without internet access
 *     .build();                                 // finds the executable, or says where it looked
 * }</pre>
 *
 * <p><b>Create</b> runs, without a shell, {@code downburst -v -c <VM host short name> create --wait
 * [extra arguments] --meta-data=<file> --user-data=<file> <VM short name>}, where a short name is
 * the name up to its first dot. Exit code 0 means created. When standard error says {@code exists}
 * (the VM or one of its volumes is left from an earlier run), the VM is destroyed and created
 * again; a failure that another run can fix (a timeout, a dropped libvirt connection, a broken
 * download) is retried after a pause, one that cannot (an architecture downburst has no emulator
 * for, a missing cloud image, meta-data it cannot use, a refused command line; see {@code
 * CreateFailure}) fails at once. Every run of the tool counts as one of at most {@code
 * createAttempts} attempts, and each runs under {@code createTimeout}, after which its whole
 * process tree is killed. The {@link ProvisioningException} then says in one line what failed: the
 * tool's last error line (or "timed out after N s"), with the exit code; the last lines of standard
 * error are in its {@link ProvisioningException.Failure#stderrTail()}. The provisioner does not
 * destroy what a failed create left behind: the pool destroys every VM of a failed request (a
 * caller outside a pool calls {@link #release}).
 *
 * <p>The meta-data file gives downburst the VM's size (per machine type from the config file's
 * {@code downburst.machine} entries; else teuthology's defaults: disk 100G, ram 3.8G, 1 CPU, 4
 * additional disks of 100G, arch x86_64), its MAC address on the {@code front} network, the OS and
 * {@code local-hostname}. The user-data file is a {@code #cloud-config} document: user {@code
 * ubuntu} with its password removed for console logins, and the packages teuthology installs. Both
 * are temporary files readable by their owner only, deleted when the create is over.
 *
 * <p><b>Destroy</b> runs {@code downburst -v -c <VM host short name> destroy <VM short name>} under
 * {@code destroyTimeout}; exit code 0, or a failure whose standard error says {@code no domain with
 * matching name} (older downburst versions), means destroyed.
 *
 * <p><b>Environment</b> of every run: {@code PATH} of this process, {@code DOWNBURST_DISCOVER_URL}
 * when configured (this process's environment variable wins over the config file's {@code
 * downburst.discover_url}), {@code XDG_CONFIG_HOME} when this process has it set, so that libvirt
 * inside downburst reads the same {@code libvirt.conf} that {@link LibvirtAliases} checks, and what
 * the {@code ssh} of libvirt's {@code qemu+ssh://} transport needs to log in as this user: {@code
 * HOME}, {@code USER}, {@code LOGNAME}, {@code SSH_AUTH_SOCK} (the agent), {@code LANG}, {@code
 * LANGUAGE} and every {@code LC_*} variable. Nothing else: no credentials of other tools, no {@code
 * DISPLAY} or {@code SSH_ASKPASS} (downburst runs without a terminal; a key with a passphrase must
 * be in the agent).
 *
 * <p><b>Validation</b>, before anything is locked ({@link #validate}): the request's OS must be one
 * downburst can install, according to {@code downburst list-json} (run once per executable and
 * discover URL, under {@code listTimeout}, and cached), or a built-in table when list-json fails
 * (as it does without network access; a warning says so once); and every VM host needs a libvirt
 * URI alias for its short name, unless that check is turned off. The OS defaults to Ubuntu 24.04; a
 * distribution without a version gets its newest known version, and a version without a
 * distribution is Ubuntu's (as teuthology-lock has it for VMs).
 *
 * <p>Thread-safe: the pool provisions the machines of a request in parallel.
 */
public final class DownburstProvisioner implements Provisioner {
  private static final Logger LOG = LoggerFactory.getLogger(DownburstProvisioner.class);

  /** What standard error of destroy says, in older downburst versions, for a missing VM. */
  static final String NO_DOMAIN = "no domain with matching name";

  /** The architectures downburst can create VMs of: those its emulator lookup maps. */
  static final List<String> ARCHITECTURES = List.of("x86_64", "amd64", "i686");

  /**
   * The variables passed on for the {@code ssh} that libvirt runs for a {@code qemu+ssh://} URI:
   * where the user's {@code ~/.ssh} is and who the user is, the agent that holds the keys, and the
   * locale; variables starting with {@code LC_} are passed as well.
   */
  static final List<String> SSH_VARIABLES =
      List.of("HOME", "USER", "LOGNAME", "SSH_AUTH_SOCK", "LANG", "LANGUAGE");

  /** The variable downburst reads its image location from. */
  static final String DISCOVER_URL_VARIABLE = "DOWNBURST_DISCOVER_URL";

  /** The most attempts {@link Builder#createAttempts(int)} accepts. */
  static final int MAX_CREATE_ATTEMPTS = 20;

  /** How long a failed list-json is not tried again; the fallback table serves meanwhile. */
  static final Duration LIST_JSON_RETRY_AFTER = Duration.ofMinutes(10);

  private static final Map<String, CatalogEntry> CATALOGS = new ConcurrentHashMap<>();

  private final DownburstExecutable executable;
  private final TeuthologyConfig config;
  private final Duration createTimeout;
  private final Duration destroyTimeout;
  private final Duration listTimeout;
  private final int createAttempts;
  private final Duration retryPause;
  private final List<String> extraCreateArguments;
  private final Map<String, String> childEnvironment;
  private final LibvirtAliases aliases;
  private final Path temporaryDirectory;
  private final Duration listJsonRetryAfter;
  private final java.util.Set<String> unlistedWarned = ConcurrentHashMap.newKeySet();

  private DownburstProvisioner(
      Builder b,
      Attempts attempts,
      DownburstExecutable executable,
      Map<String, String> environment,
      List<String> extraCreateArguments,
      Path libvirtConfig) {
    this.executable = executable;
    this.config = b.config;
    this.createTimeout = attempts.createTimeout();
    this.destroyTimeout = attempts.destroyTimeout();
    this.listTimeout = b.listTimeout;
    this.createAttempts = attempts.createAttempts();
    this.retryPause = attempts.retryPause();

    this.extraCreateArguments = List.copyOf(extraCreateArguments);
    this.childEnvironment = childEnvironment(environment, b.config);
    this.aliases =
        !b.checkLibvirtAliases
            ? null
            : libvirtConfig != null
                ? LibvirtAliases.of(libvirtConfig)
                : LibvirtAliases.forCurrentUser();
    this.temporaryDirectory = b.temporaryDirectory;
    this.listJsonRetryAfter = b.listJsonRetryAfter;
  }

  /**
   * Starts a builder with the defaults: an empty configuration, create timeout 10 min, destroy
   * timeout 5 min, list-json timeout 1 min, 3 create attempts 60 s apart (teuthology's), no extra
   * create arguments, the libvirt alias check on. The config file's {@code machine_pool} keys
   * {@code downburst_create_timeout}, {@code downburst_destroy_timeout}, {@code
   * downburst_create_attempts}, {@code downburst_retry_pause} and {@code downburst_create_args}
   * replace these defaults; a value set on the builder wins over the file.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * The executable this provisioner runs, and where it was found.
   *
   * @return the executable
   */
  public DownburstExecutable executable() {
    return executable;
  }

  /**
   * Checks, before anything is locked, that every VM host has a libvirt URI alias (unless the check
   * is off) and that downburst can install the request's OS.
   *
   * @param request the lock request
   * @param vmHosts the VM hosts whose slots could serve it
   * @throws InvalidRequestException naming what is missing and how to fix it
   */
  @Override
  public void validate(LockRequest request, SortedSet<String> vmHosts) {
    Objects.requireNonNull(request, "request");
    Objects.requireNonNull(vmHosts, "vmHosts");
    List<String> hosts = new ArrayList<>();
    for (String host : vmHosts) {
      try {
        CommandLine.shortName(host);
      } catch (IllegalArgumentException e) {
        throw new InvalidRequestException("VM host " + e.getMessage(), e);
      }
      hosts.add(config.canonicalize(host));
    }
    if (request.machineTypes().isEmpty()) {
      checkArch(null, request);
    }
    request.machineTypes().forEach(type -> checkArch(type, request));
    if (aliases != null) {
      checkAliases(hosts);
    }
    resolveOs(request);
  }

  /**
   * Refuses an architecture downburst cannot create: its emulator lookup knows {@link
   * #ARCHITECTURES} only and fails every other one with a bare {@code AssertionError}. A request
   * that VM slots could serve is refused as a whole, also when it names physical machine types as
   * well (the pool might pick a VM slot); for a request by name only the request's own arch is
   * known here, and {@link #provision} refuses a slot whose type the config file gives another arch
   * (DEVELOPERS.md, Downburst).
   */
  private void checkArch(String machineType, LockRequest request) {
    String arch =
        VmDocuments.Size.of(
                machineType == null ? Optional.empty() : config.downburstMachine(machineType),
                request.arch())
            .arch();
    if (arch == null || ARCHITECTURES.contains(arch.strip().toLowerCase(java.util.Locale.ROOT))) {
      return;
    }
    String source =
        request.arch() != null
            ? "the request asks for arch '" + arch + "'"
            : "the config file's downburst.machine entry for type "
                + machineType
                + " gives arch '"
                + arch
                + "'";
    List<String> types = request.machineTypes();
    String advice =
        types.size() > 1
            ? ". VM slots could serve this request for one of its machine types ("
                + String.join(", ", types)
                + "), so it is refused as a whole: to lock a physical machine of that"
                + " architecture, ask for its machine type alone; or ask for arch x86_64"
            : ". Ask for arch x86_64, or lock a physical machine of that architecture";
    throw new InvalidRequestException(
        "downburst cannot create this VM: "
            + source
            + ", but downburst creates x86 VMs only ("
            + String.join(", ", ARCHITECTURES)
            + "; it fails every other architecture with an AssertionError)"
            + advice);
  }

  private void checkAliases(List<String> hosts) {
    List<String> missing;
    try {
      missing = aliases.missing(hosts);
    } catch (ConfigurationException e) {
      throw new InvalidRequestException(
          e.getMessage()
              + "\ndownburst names VM hosts by libvirt URI alias; fix the file, or build the"
              + " DownburstProvisioner with checkLibvirtAliases(false)",
          e);
    }
    if (missing.isEmpty()) {
      return;
    }
    String names =
        missing.stream()
            .map(h -> "'" + CommandLine.shortName(h) + "' (VM host " + h + ")")
            .collect(Collectors.joining(", "));
    throw new InvalidRequestException(
        "no libvirt URI alias for "
            + names
            + " in "
            + aliases.file()
            + ", the libvirt.conf that libvirt reads for this user: downburst -c <short name>"
            + " would fail with \"no connection driver available for URI\". To fix, "
            + aliases.fixFor(missing)
            + "(LibvirtAliases.forCurrentUser().add(hosts) writes them), or build the"
            + " DownburstProvisioner with checkLibvirtAliases(false) when downburst connects"
            + " without aliases");
  }

  /**
   * Installs a fresh OS on a VM slot with {@code downburst create}.
   *
   * @param machine the locked VM slot
   * @param request the request: its OS and architecture are installed
   * @return the machine with the OS type, version and architecture installed, defaults filled in
   * @throws ProvisioningException when the VM could not be created
   */
  @Override
  public Machine provision(Machine machine, LockRequest request) {
    Objects.requireNonNull(request, "request");
    Names names = names(machine);
    OsCatalog.Os os;
    try {
      checkArch(machine.machineType(), request);
      os = resolveOs(request);
    } catch (InvalidRequestException e) {
      throw new ProvisioningException(machine.name(), e.getMessage(), null, null, e);
    }
    VmDocuments.Size size =
        VmDocuments.Size.of(config.downburstMachine(machine.machineType()), request.arch());
    String metaData =
        VmDocuments.metaData(
            config.canonicalize(machine.name()),
            machine.macAddress(),
            os.distro(),
            os.version(),
            size);
    String userData = VmDocuments.userData(os.distro(), machine.macAddress());
    Path metaFile = null;
    Path userFile = null;
    try {
      metaFile = temporaryFile(names.vm(), ".meta.yaml", metaData);
      userFile = temporaryFile(names.vm(), ".user.yaml", userData);
      LOG.debug(
          "creating {} on {}: {} {} {}, {} CPU, {} RAM",
          machine.name(),
          machine.vpsHost(),
          os.distro(),
          os.version(),
          size.arch(),
          size.cpus(),
          size.ram());
      create(machine, names, createCommand(names, metaFile, userFile));
      return machine.withOs(os.distro(), os.version(), size.arch());
    } catch (IOException e) {
      throw new ProvisioningException(
          machine.name(),
          "cannot write the meta-data and user-data files for downburst in "
              + temporaryDirectory()
              + ": "
              + e,
          null,
          null,
          e);
    } finally {
      delete(metaFile);
      delete(userFile);
    }
  }

  /**
   * Destroys a VM slot's VM and its volumes with {@code downburst destroy}.
   *
   * @param machine the VM slot, still held by the caller
   * @throws ProvisioningException when the VM may still exist
   */
  @Override
  public void release(Machine machine) {
    Names names = names(machine);
    try {
      destroy(machine, names);
      LOG.debug("destroyed {} on {}", machine.name(), machine.vpsHost());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ProvisioningException(
          machine.name(),
          "interrupted while running " + CommandLine.render(destroyCommand(names)),
          null,
          null,
          e);
    }
  }

  @Override
  public String toString() {
    return "DownburstProvisioner[" + executable + "]";
  }

  // --- create ---

  private void create(Machine machine, Names names, List<String> command) {
    ProcessRunner.Result last = null;
    CreateFailure failure = null;
    boolean pause = false;
    int attempt = 0;
    try {
      while (attempt < createAttempts) {
        attempt++;
        if (pause && !retryPause.isZero()) {
          Thread.sleep(retryPause.toMillis());
        }
        last =
            run(
                machine,
                "create " + names.vm(),
                command,
                createTimeout,
                List.of(CreateFailure.EXISTS_MARKER));
        if (last.succeeded()) {
          LOG.info(
              "created {} in {} s (attempt {} of {})",
              machine.name(),
              last.elapsed().toSeconds(),
              attempt,
              createAttempts);
          return;
        }
        failure =
            CreateFailure.of(
                last.stderr().text(),
                last.timedOut(),
                last.timedOut() ? -1 : last.exitCode(),
                !last.timedOut() && last.stderr().saw(CreateFailure.EXISTS_MARKER));
        if (attempt == createAttempts || !failure.retryable()) {
          break;
        }
        if (failure.kind() == CreateFailure.Kind.EXISTS) {
          LOG.info(
              "{}: downburst says it exists already (attempt {} of {}); destroying it, then"
                  + " creating it again",
              machine.name(),
              attempt,
              createAttempts);
          pause = !destroyQuietly(machine, names);
        } else {
          LOG.info(
              "{}: {} (attempt {} of {}); trying again in {}",
              machine.name(),
              describe(last, failure, createTimeout),
              attempt,
              createAttempts,
              CommandLine.seconds(retryPause));
          pause = true;
        }
      }
      LOG.debug("{}: the last create was {}", machine.name(), CommandLine.render(command));
      String reason =
          "downburst create on "
              + names.host()
              + (attempt > 1 ? " failed " + attempt + " times, the last time: " : " failed: ")
              + describe(last, failure, createTimeout)
              + (failure.retryable() ? "" : "; not retried: " + failure.why());
      throw failure(machine, reason, last, null);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ProvisioningException(
          machine.name(),
          "interrupted during attempt "
              + attempt
              + " of "
              + CommandLine.render(command)
              + "; its process tree was killed",
          null,
          last == null ? null : last.stderr().text(),
          e);
    }
  }

  /**
   * A failed run in one line: the tool's last error line, or that it timed out or printed nothing.
   */
  private static String describe(
      ProcessRunner.Result result, CreateFailure failure, Duration timeout) {
    if (result.timedOut()) {
      return "timed out after " + CommandLine.seconds(timeout) + "; its process tree was killed";
    }
    return failure.summary().isEmpty()
        ? "it printed no error (exit code " + result.exitCode() + ")"
        : failure.summary();
  }

  /** Destroys after a failed create; logs a failure instead of throwing it. */
  private boolean destroyQuietly(Machine machine, Names names) throws InterruptedException {
    try {
      destroy(machine, names);
      return true;
    } catch (ProvisioningException e) {
      LOG.info("{}: {}", machine.name(), e.getMessage());
      return false;
    }
  }

  private List<String> createCommand(Names names, Path metaFile, Path userFile) {
    List<String> command = new ArrayList<>();
    command.add(executable.path().toString());
    command.addAll(List.of("-v", "-c", names.host(), "create", "--wait"));
    command.addAll(extraCreateArguments);
    command.add("--meta-data=" + metaFile);
    command.add("--user-data=" + userFile);
    command.add(names.vm());
    return command;
  }

  // --- destroy ---

  private void destroy(Machine machine, Names names) throws InterruptedException {
    List<String> command = destroyCommand(names);
    ProcessRunner.Result result =
        run(machine, "destroy " + names.vm(), command, destroyTimeout, List.of(NO_DOMAIN));
    if (result.succeeded()) {
      return;
    }
    if (!result.timedOut() && result.stderr().saw(NO_DOMAIN)) {
      LOG.debug("{}: downburst destroy found no such VM; counted as destroyed", machine.name());
      return;
    }
    LOG.debug("{}: the failed destroy was {}", machine.name(), CommandLine.render(command));
    String reason;
    if (result.timedOut()) {
      reason =
          "timed out after "
              + CommandLine.seconds(destroyTimeout)
              + "; its process tree was killed";
    } else {
      String line = CreateFailure.lastErrorLine(result.stderr().text());
      reason = line.isEmpty() ? "it printed no error" : line;
    }
    throw failure(
        machine, "downburst destroy on " + names.host() + " failed: " + reason, result, null);
  }

  private List<String> destroyCommand(Names names) {
    return List.of(executable.path().toString(), "-v", "-c", names.host(), "destroy", names.vm());
  }

  // --- running the tool ---

  private ProcessRunner.Result run(
      Machine machine,
      String label,
      List<String> command,
      Duration timeout,
      Collection<String> markers)
      throws InterruptedException {
    try {
      return ProcessRunner.run(
          label,
          command,
          childEnvironment,
          timeout,
          ProcessRunner.TAIL_LINES,
          ProcessRunner.TAIL_BYTES,
          markers);
    } catch (IOException e) {
      throw new ProvisioningException(
          machine.name(),
          "cannot start " + CommandLine.render(command) + ": " + e.getMessage(),
          null,
          null,
          e);
    }
  }

  private static String outcome(
      List<String> command, ProcessRunner.Result result, Duration timeout) {
    String line = CommandLine.render(command);
    if (result.timedOut()) {
      return line
          + " timed out after "
          + CommandLine.seconds(timeout)
          + "; its process tree was killed";
    }
    return line + " exited with code " + result.exitCode();
  }

  private static ProvisioningException failure(
      Machine machine, String reason, ProcessRunner.Result result, Throwable cause) {
    return new ProvisioningException(
        machine.name(),
        reason,
        result == null || result.timedOut() ? null : result.exitCode(),
        result == null ? null : result.stderr().text(),
        cause);
  }

  // --- OS ---

  private OsCatalog.Os resolveOs(LockRequest request) {
    OsCatalog.Os os = catalog().resolve(request.osType(), request.osVersion());
    if (!os.listed() && unlistedWarned.add(os.distro() + " " + os.version())) {
      LOG.warn(
          "{} {} is not in the built-in table of what downburst can install (list-json is not"
              + " available); passing it to downburst, which installs it from the VM host's image"
              + " cache or a download, and fails at once if it has no such image",
          os.distro(),
          os.version());
    }
    return os;
  }

  /** The catalog of this executable and discover URL: list-json's, cached, or the fallback. */
  OsCatalog catalog() {
    String key =
        executable.path().toAbsolutePath()
            + "\n"
            + childEnvironment.getOrDefault(DISCOVER_URL_VARIABLE, "");
    return CATALOGS.computeIfAbsent(key, k -> new CatalogEntry()).get(this);
  }

  /** Forgets every cached catalog (tests). */
  static void forgetCatalogs() {
    CATALOGS.clear();
  }

  /** Runs {@code downburst list-json}; throws with the reason when it fails. */
  private OsCatalog listJson() throws InterruptedException {
    List<String> command = List.of(executable.path().toString(), "list-json");
    ProcessRunner.Result result;
    try {
      result =
          ProcessRunner.run(
              "list-json", command, childEnvironment, listTimeout, 10_000, 1024 * 1024, List.of());
    } catch (IOException e) {
      throw new IllegalStateException("cannot start " + CommandLine.render(command) + ": " + e, e);
    }
    if (!result.succeeded()) {
      String tail = result.stderr().text().strip();
      String last = tail.isEmpty() ? "" : ": " + tail.substring(tail.lastIndexOf('\n') + 1);
      throw new IllegalStateException(outcome(command, result, listTimeout) + last);
    }
    if (result.stdout().droppedLines() > 0) {
      throw new IllegalStateException(CommandLine.render(command) + " printed too much to be JSON");
    }
    try {
      return OsCatalog.parse(result.stdout().text());
    } catch (IllegalArgumentException e) {
      throw new IllegalStateException(
          CommandLine.render(command) + " printed no usable JSON: " + e.getMessage(), e);
    }
  }

  /** The cached catalog of one executable and discover URL. */
  private static final class CatalogEntry {
    private OsCatalog fromDownburst;
    private OsCatalog fallback;
    private long fallbackSince;
    private boolean warned;

    synchronized OsCatalog get(DownburstProvisioner provisioner) {
      if (fromDownburst != null) {
        return fromDownburst;
      }
      if (fallback != null
          && System.nanoTime() - fallbackSince < provisioner.listJsonRetryAfter.toNanos()) {
        return fallback;
      }
      try {
        fromDownburst = provisioner.listJson();
        LOG.debug("{}", fromDownburst);
        return fromDownburst;
      } catch (IllegalStateException e) {
        fallback = OsCatalog.fallbackCatalog();
        fallbackSince = System.nanoTime();
        if (!warned) {
          warned = true;
          LOG.warn(
              "{} failed, so OS requests are checked against the built-in table of what"
                  + " downburst can install ({}); list-json needs network access. Cause: {}",
              CommandLine.render(List.of(provisioner.executable.path().toString(), "list-json")),
              OsCatalog.FALLBACK,
              e.getMessage());
        } else {
          LOG.debug("list-json failed again: {}", e.getMessage());
        }
        return fallback;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InvalidRequestException("interrupted while running downburst list-json", e);
      }
    }
  }

  // --- helpers ---

  /** The short names of a VM slot and its host. */
  private record Names(String vm, String host) {}

  private Names names(Machine machine) {
    Objects.requireNonNull(machine, "machine");
    if (!machine.isVirtual()) {
      throw new ProvisioningException(
          machine.name(),
          "it is a physical machine (no VM host): downburst provisions VM slots only",
          null,
          null,
          null);
    }
    try {
      return new Names(
          CommandLine.shortName(machine.name()), CommandLine.shortName(machine.vpsHost()));
    } catch (IllegalArgumentException e) {
      throw new ProvisioningException(machine.name(), e.getMessage(), null, null, e);
    }
  }

  private Path temporaryDirectory() {
    return temporaryDirectory != null
        ? temporaryDirectory
        : Path.of(System.getProperty("java.io.tmpdir"));
  }

  private Path temporaryFile(String vm, String suffix, String content) throws IOException {
    Path directory = temporaryDirectory();
    String prefix = "machinepool-" + vm + "-";
    Path file;
    try {
      file =
          Files.createTempFile(
              directory,
              prefix,
              suffix,
              PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    } catch (UnsupportedOperationException e) {
      file = Files.createTempFile(directory, prefix, suffix);
    }
    try {
      Files.writeString(file, content, StandardCharsets.UTF_8);
    } catch (IOException e) {
      delete(file);
      throw e;
    }
    return file;
  }

  private static void delete(Path file) {
    if (file == null) {
      return;
    }
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      LOG.warn("cannot delete the temporary file {}: {}", file, e.toString());
    }
  }

  private static Map<String, String> childEnvironment(
      Map<String, String> environment, TeuthologyConfig config) {
    Map<String, String> child = new LinkedHashMap<>();
    String path = environment.get("PATH");
    if (path != null) {
      child.put("PATH", path);
    }
    String discover = environment.get(DISCOVER_URL_VARIABLE);
    if (discover == null || discover.isBlank()) {
      discover = config.downburstDiscoverUrl().orElse(null);
    }
    if (discover != null && !discover.isBlank()) {
      child.put(DISCOVER_URL_VARIABLE, discover);
    }
    String xdg = environment.get("XDG_CONFIG_HOME");
    if (xdg != null && !xdg.isBlank()) {
      child.put("XDG_CONFIG_HOME", xdg);
    }
    for (String name : SSH_VARIABLES) {
      String value = environment.get(name);
      if (value != null && !value.isEmpty()) {
        child.put(name, value);
      }
    }
    new java.util.TreeMap<>(environment)
        .forEach(
            (name, value) -> {
              if (name.startsWith("LC_") && value != null && !value.isEmpty()) {
                child.put(name, value);
              }
            });
    return Map.copyOf(child);
  }

  /** The environment every run of the tool gets (tests). */
  Map<String, String> childEnvironment() {
    return childEnvironment;
  }

  /** How long creates and destroys may take and how often a create is tried, as resolved. */
  record Attempts(
      Duration createTimeout, Duration destroyTimeout, int createAttempts, Duration retryPause) {}

  /** The attempts, pause and timeouts that {@link Builder#build()} resolved (tests). */
  Attempts attempts() {
    return new Attempts(createTimeout, destroyTimeout, createAttempts, retryPause);
  }

  /**
   * Builds a {@link DownburstProvisioner}. Every option has a default (see {@link #builder()});
   * {@link #build()} checks them all and finds the executable.
   */
  public static final class Builder {
    private TeuthologyConfig config = TeuthologyConfig.empty();
    private Duration createTimeout = Duration.ofMinutes(10);
    private Duration destroyTimeout = Duration.ofMinutes(5);
    private Duration listTimeout = Duration.ofMinutes(1);
    private int createAttempts = 3;
    private Duration retryPause = Duration.ofSeconds(60);
    private List<String> extraCreateArguments;
    private boolean extraCreateArgumentsSet;
    private boolean checkLibvirtAliases = true;
    private Path libvirtConfig;
    private Map<String, String> environment;
    private List<Path> homes;
    private Path temporaryDirectory;
    private Duration listJsonRetryAfter = LIST_JSON_RETRY_AFTER;
    private boolean createTimeoutSet;
    private boolean destroyTimeoutSet;
    private boolean createAttemptsSet;
    private boolean retryPauseSet;

    private Builder() {}

    /**
     * Sets the teuthology configuration: the {@code downburst} path, {@code
     * downburst.discover_url}, the per-type sizes of {@code downburst.machine}, and {@code
     * lab_domain} (completes short names for {@code local-hostname} and the alias entries).
     *
     * @param value e.g. {@link TeuthologyConfig#load()}; the default is {@link
     *     TeuthologyConfig#empty()}
     * @return this builder
     */
    public Builder config(TeuthologyConfig value) {
      this.config = value;
      return this;
    }

    /**
     * Sets how long one {@code downburst create --wait} may run before its process tree is killed.
     *
     * @param value positive; default: the config file's {@code
     *     machine_pool.downburst_create_timeout}, else 10 minutes
     * @return this builder
     */
    public Builder createTimeout(Duration value) {
      this.createTimeout = value;
      this.createTimeoutSet = true;
      return this;
    }

    /**
     * Sets how long one {@code downburst destroy} may run before its process tree is killed.
     *
     * @param value positive; default: the config file's {@code
     *     machine_pool.downburst_destroy_timeout}, else 5 minutes
     * @return this builder
     */
    public Builder destroyTimeout(Duration value) {
      this.destroyTimeout = value;
      this.destroyTimeoutSet = true;
      return this;
    }

    /**
     * Sets how long {@code downburst list-json} may run; when it takes longer the built-in table is
     * used.
     *
     * @param value positive; default 1 minute
     * @return this builder
     */
    public Builder listTimeout(Duration value) {
      this.listTimeout = value;
      return this;
    }

    /**
     * Sets how many times {@code downburst create} runs at most for one VM, counting a run that
     * said {@code exists} and the one after its destroy.
     *
     * @param value 1 (no retry) to 20; default: the config file's {@code
     *     machine_pool.downburst_create_attempts}, else 3
     * @return this builder
     */
    public Builder createAttempts(int value) {
      this.createAttempts = value;
      this.createAttemptsSet = true;
      return this;
    }

    /**
     * Sets the pause before another create attempt after a failure (none after an {@code exists}
     * that a destroy cleared).
     *
     * @param value zero or more; default: the config file's {@code
     *     machine_pool.downburst_retry_pause}, else 60 seconds
     * @return this builder
     */
    public Builder retryPause(Duration value) {
      this.retryPause = value;
      this.retryPauseSet = true;
      return this;
    }

    /**
     * Sets options added to every {@code downburst create}, after {@code --wait}: e.g. {@code
     * --nokey}, which a lab without internet access needs (without it downburst fetches a public
     * key first).
     *
     * @param value options, each starting with {@code -}; default: the config file's {@code
     *     machine_pool.downburst_create_args}, else none
     * @return this builder
     */
    public Builder extraCreateArguments(List<String> value) {
      this.extraCreateArguments = value;
      this.extraCreateArgumentsSet = true;
      return this;
    }

    /**
     * Turns the check that every VM host has a libvirt URI alias on or off. Turn it off when
     * downburst reaches the VM hosts without aliases (or is not the real tool).
     *
     * @param value default {@code true}
     * @return this builder
     */
    public Builder checkLibvirtAliases(boolean value) {
      this.checkLibvirtAliases = value;
      return this;
    }

    /**
     * Sets the {@code libvirt.conf} whose aliases are checked, instead of the one libvirt reads for
     * the current user ({@link LibvirtAliases#forCurrentUser()}). Without it, the config file's
     * {@code machine_pool.libvirt_config} is used when set.
     *
     * @param value the file
     * @return this builder
     */
    public Builder libvirtConfig(Path value) {
      this.libvirtConfig = value;
      return this;
    }

    /** Replaces this process's environment as the source of PATH and the rest (tests). */
    Builder environment(Map<String, String> value) {
      this.environment = Map.copyOf(value);
      return this;
    }

    /** Replaces the home directories the executable is looked for under (tests). */
    Builder homes(List<Path> value) {
      this.homes = List.copyOf(value);
      return this;
    }

    /** Sets where the meta-data and user-data files are written (tests). */
    Builder temporaryDirectory(Path value) {
      this.temporaryDirectory = value;
      return this;
    }

    /** Sets how long a failed list-json is not run again (tests). */
    Builder listJsonRetryAfter(Duration value) {
      this.listJsonRetryAfter = value;
      return this;
    }

    /**
     * Checks the options and finds the downburst executable: the configured path, else {@code
     * PATH}, else the usual virtualenvs (see {@link DownburstExecutable}).
     *
     * @return the provisioner
     * @throws InvalidRequestException when an option is out of range
     * @throws ProvisioningException when no downburst executable is found; the message names every
     *     place tried
     */
    public DownburstProvisioner build() {
      if (config == null) {
        throw new InvalidRequestException(
            "config must not be null; pass TeuthologyConfig.load() or TeuthologyConfig.empty()");
      }
      // A value set on the builder wins, then the config file's, then the default; the builder
      // itself is left as it was, so that it can build again with another config.
      Attempts attempts =
          new Attempts(
              createTimeoutSet
                  ? createTimeout
                  : config.downburstCreateTimeout().orElse(createTimeout),
              destroyTimeoutSet
                  ? destroyTimeout
                  : config.downburstDestroyTimeout().orElse(destroyTimeout),
              createAttemptsSet
                  ? createAttempts
                  : config.downburstCreateAttempts().orElse(createAttempts),
              retryPauseSet ? retryPause : config.downburstRetryPause().orElse(retryPause));
      positive(attempts.createTimeout(), "createTimeout", "e.g. Duration.ofMinutes(10)");
      positive(attempts.destroyTimeout(), "destroyTimeout", "e.g. Duration.ofMinutes(5)");
      positive(listTimeout, "listTimeout", "e.g. Duration.ofMinutes(1)");
      positive(listJsonRetryAfter, "listJsonRetryAfter", "e.g. Duration.ofMinutes(10)");
      if (attempts.createAttempts() < 1 || attempts.createAttempts() > MAX_CREATE_ATTEMPTS) {
        throw new InvalidRequestException(
            "createAttempts must be between 1 (no retry) and "
                + MAX_CREATE_ATTEMPTS
                + ", was "
                + attempts.createAttempts());
      }
      if (attempts.retryPause() == null || attempts.retryPause().isNegative()) {
        throw new InvalidRequestException(
            "retryPause must be zero or more, was "
                + attempts.retryPause()
                + "; e.g. Duration.ofSeconds(60)");
      }
      if (extraCreateArgumentsSet && extraCreateArguments == null) {
        throw new InvalidRequestException(
            "extraCreateArguments must not be null; pass List.of() for none");
      }
      List<String> extra =
          extraCreateArgumentsSet ? extraCreateArguments : config.downburstCreateArguments();
      for (String argument : extra) {
        if (argument == null
            || !argument.startsWith("-")
            || argument.isBlank()
            || argument.chars().anyMatch(c -> c == 0 || c == '\n')) {
          throw new InvalidRequestException(
              "extraCreateArguments must be options of downburst create, each starting with '-',"
                  + " e.g. --nokey; got "
                  + (argument == null ? "null" : "'" + argument + "'"));
        }
      }
      Map<String, String> env = environment != null ? environment : System.getenv();
      List<Path> searchHomes = homes != null ? homes : DownburstExecutable.defaultHomes();
      DownburstExecutable executable =
          new DownburstExecutable.Lookup(config.downburstPath(), env.get("PATH"), searchHomes)
              .locate(DownburstExecutable.NO_MACHINE);
      Path aliasFile = libvirtConfig != null ? libvirtConfig : config.libvirtConfig().orElse(null);
      DownburstProvisioner provisioner =
          new DownburstProvisioner(this, attempts, executable, env, extra, aliasFile);
      LOG.debug(
          "{}: create timeout {}, {} attempts, extra create arguments {}, environment {}",
          provisioner,
          CommandLine.seconds(attempts.createTimeout()),
          attempts.createAttempts(),
          extra,
          provisioner.childEnvironment.keySet());
      return provisioner;
    }

    private static void positive(Duration value, String name, String example) {
      if (value == null || value.isNegative() || value.isZero()) {
        throw new InvalidRequestException(
            name + " must be a positive duration, was " + value + "; " + example);
      }
    }
  }
}
