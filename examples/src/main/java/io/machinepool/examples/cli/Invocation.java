package io.machinepool.examples.cli;

import io.machinepool.Lease;
import io.machinepool.LockRequest;
import io.machinepool.Machine;
import io.machinepool.MachinePool;
import io.machinepool.MachinePoolException;
import io.machinepool.MachineQuery;
import io.machinepool.MachineSpec;
import io.machinepool.ProvisioningException;
import io.machinepool.Summary;
import io.machinepool.Targets;
import io.machinepool.Waiter;
import io.machinepool.config.TeuthologyConfig;
import io.machinepool.examples.support.LockDatabase;
import io.machinepool.examples.support.SummaryTable;
import java.io.PrintStream;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * One run of the tool: the command line checked as a whole (the asserts of teuthology-lock's {@code
 * main()}, each a message), then the operation against the pool.
 */
final class Invocation {
  /** The tool's operations, with their flags. */
  enum Operation {
    LIST("--list"),
    BRIEF("--brief"),
    LIST_TARGETS("--list-targets"),
    LOCK("--lock"),
    UNLOCK("--unlock"),
    LOCK_MANY("--lock-many"),
    UPDATE("--update"),
    UPDATE_KEYS("--update-keys"),
    SUMMARY("--summary"),
    QUEUE("--queue"),
    IMPORT("--import"),
    REAP("--reap");

    final String flag;

    Operation(String flag) {
      this.flag = flag;
    }

    boolean lists() {
      return this == LIST || this == BRIEF || this == LIST_TARGETS;
    }

    boolean locks() {
      return this == LOCK || this == LOCK_MANY;
    }
  }

  /** The longest {@code --wait}: the library's limit of a lock request's wait, 7 days. */
  static final int MAX_WAIT_SECONDS = 7 * 24 * 60 * 60;

  private final Options options;
  private final Operation operation;
  private final TeuthologyConfig config;
  private final PrintStream out;
  private final PrintStream err;
  private final List<String> machines;
  private final List<String> types;
  private final Boolean up;
  private final Boolean locked;
  private final InventoryFile inventoryFile;
  private final JsonQuery jsonQuery;
  private final Duration wait;
  private final int priority;
  private String vmUnavailable;
  private ScanFailures scans;
  private boolean vmUnavailableSaid;

  private Invocation(Options options, TeuthologyConfig config, PrintStream out, PrintStream err) {
    this.options = options;
    this.operation = operation(options.operation);
    this.config = config;
    this.out = out;
    this.err = err;
    List<String> named = new ArrayList<>(options.machines);
    if (options.targets != null) {
      named.addAll(TargetsFile.names(path(options.targets, "-t")));
    }
    this.machines = canonical(named);
    checkCombination();
    this.types = machineTypes(options.machineType);
    this.up = choice(options.status, "--status", "up", "down");
    this.locked = choice(options.locked, "--locked", "true", "false");
    if (operation == Operation.LOCK_MANY && options.operation.lockMany < 1) {
      throw new UsageException(
          "--lock-many " + options.operation.lockMany + " is not positive: lock at least 1");
    }
    this.wait =
        Duration.ofSeconds(
            inRange(options.waitSeconds, 0, 0, MAX_WAIT_SECONDS, "--wait", " seconds (7 days)"));
    this.priority =
        inRange(
            options.priority,
            LockRequest.DEFAULT_PRIORITY,
            0,
            LockRequest.MAX_PRIORITY,
            "--priority",
            " (0 is the most urgent)");
    this.jsonQuery = options.jsonQuery == null ? null : JsonQuery.parse(options.jsonQuery);
    this.inventoryFile =
        operation == Operation.IMPORT
            ? InventoryFile.read(path(options.operation.importFile, "--import"), config)
            : null;
  }

  /**
   * Checks a parsed command line as a whole and reads the files it names; touches no database.
   *
   * @throws UsageException when the flags do not combine, or a file is unusable
   * @throws io.machinepool.InvalidRequestException when a machine name is invalid
   */
  static Invocation prepare(
      Options options, TeuthologyConfig config, PrintStream out, PrintStream err) {
    return new Invocation(options, config, out, err);
  }

  private static Operation operation(Options.Operation o) {
    if (o.list) {
      return Operation.LIST;
    } else if (o.brief) {
      return Operation.BRIEF;
    } else if (o.listTargets) {
      return Operation.LIST_TARGETS;
    } else if (o.lock) {
      return Operation.LOCK;
    } else if (o.unlock) {
      return Operation.UNLOCK;
    } else if (o.lockMany != null) {
      return Operation.LOCK_MANY;
    } else if (o.update) {
      return Operation.UPDATE;
    } else if (o.updateKeys) {
      return Operation.UPDATE_KEYS;
    } else if (o.summary) {
      return Operation.SUMMARY;
    } else if (o.queue) {
      return Operation.QUEUE;
    } else if (o.importFile != null) {
      return Operation.IMPORT;
    } else if (o.reap) {
      return Operation.REAP;
    }
    throw new IllegalStateException("picocli set no operation");
  }

  /** teuthology-lock's asserts, in its order, each a message saying what to do instead. */
  private void checkCombination() {
    Set<Operation> withMachines =
        Set.of(
            Operation.LOCK,
            Operation.UNLOCK,
            Operation.LIST,
            Operation.LIST_TARGETS,
            Operation.UPDATE,
            Operation.UPDATE_KEYS,
            Operation.BRIEF);
    if (options.keepGoing && operation != Operation.LOCK && operation != Operation.UNLOCK) {
      throw new UsageException("-f is only supported by --lock and --unlock");
    }
    if (options.waitSeconds != null && !operation.locks()) {
      throw new UsageException("--wait only goes with --lock and --lock-many");
    }
    if (options.priority != null && !operation.locks()) {
      throw new UsageException("--priority only goes with --lock and --lock-many");
    }
    if (!machines.isEmpty() && !withMachines.contains(operation)) {
      throw new UsageException(
          "machines cannot be specified with "
              + operation.flag
              + "; they go with --lock, --unlock, --update, --update-keys, --list, --brief and"
              + " --list-targets");
    }
    if (machines.isEmpty()
        && (operation == Operation.LOCK
            || operation == Operation.UNLOCK
            || operation == Operation.UPDATE)) {
      throw new UsageException(
          operation.flag
              + " requires specific machines, as arguments or in a targets file (-t FILE)");
    }
    if (operation == Operation.UPDATE_KEYS) {
      if (machines.isEmpty() && !options.all) {
        throw new UsageException(
            "--update-keys requires specific machines, as arguments or in a targets file (-t"
                + " FILE), or --all for every machine");
      }
      if (options.owner != null) {
        throw new UsageException("--owner does not go with --update-keys, which scans any machine");
      }
    }
    if (options.all) {
      if (!operation.lists() && operation != Operation.UPDATE_KEYS) {
        throw new UsageException(
            "--all can only be used with --list, --list-targets, --brief and --update-keys");
      }
      if (options.owner != null) {
        throw new UsageException("--all and --owner are mutually exclusive");
      }
      if (!machines.isEmpty()) {
        throw new UsageException("--all and listing specific machines are incompatible");
      }
    }
    if (operation == Operation.LOCK_MANY && options.machineType == null) {
      throw new UsageException(
          "must specify machine type to lock: --lock-many N --machine-type TYPE");
    }
    if (options.jsonQuery != null && !operation.lists()) {
      throw new UsageException("--json-query only goes with --list, --brief and --list-targets");
    }
    if (operation.lists() && options.desc != null) {
      throw new UsageException(
          "--desc does nothing with --list, --brief and --list-targets; to filter by"
              + " description use --desc-pattern");
    }
    if (operation == Operation.UPDATE) {
      if (options.desc == null && options.status == null) {
        throw new UsageException(
            "you must specify description or status to update: --desc TEXT or --status up|down");
      }
      if (options.owner != null) {
        throw new UsageException(
            "only description and status may be updated; --owner does not go with --update");
      }
    }
  }

  private static Path path(String value, String flag) {
    try {
      return Path.of(value);
    } catch (InvalidPathException e) {
      throw new UsageException(flag + " '" + value + "' is not a file name: " + e.getReason());
    }
  }

  /**
   * Checks the names as written (so that no quote or shell character hides before a {@code @}),
   * completes short names with the lab domain, and drops repeats.
   */
  private List<String> canonical(List<String> names) {
    MachineQuery.builder().names(new ArrayList<>(new LinkedHashSet<>(names))).build();
    Set<String> full = new LinkedHashSet<>();
    names.forEach(name -> full.add(config.canonicalize(name)));
    List<String> result = List.copyOf(full);
    MachineQuery.builder().names(result).build();
    return result;
  }

  private static List<String> machineTypes(String value) {
    if (value == null) {
      return List.of();
    }
    // teuthology splits on ',', ' ' or a tab, and paddles on '|'; any of them here.
    List<String> types = List.of(value.strip().split("\\s*[,|]\\s*|\\s+", -1));
    if (types.stream().anyMatch(String::isBlank)) {
      throw new UsageException(
          "--machine-type '"
              + value
              + "' names an empty type; e.g. smithi, or several as smithi,mira or smithi|mira");
    }
    MachineQuery.Builder check = MachineQuery.builder();
    types.forEach(check::machineType);
    check.build();
    return types;
  }

  /** A number option's value, or its default when not given, checked against its range. */
  private static int inRange(
      Integer value, int otherwise, int min, int max, String flag, String unit) {
    if (value == null) {
      return otherwise;
    }
    if (value < min || value > max) {
      throw new UsageException(
          flag + " " + value + " is out of range: " + min + " to " + max + unit);
    }
    return value;
  }

  private static Boolean choice(String value, String flag, String yes, String no) {
    if (value == null) {
      return null;
    }
    if (value.equals(yes) || value.equals(no)) {
      return value.equals(yes);
    }
    throw new UsageException(flag + " must be " + yes + " or " + no + ", was '" + value + "'");
  }

  private String owner() {
    return options.owner != null ? options.owner : LockRequest.defaultOwner();
  }

  /** The lock database: --db, else the config file's, else the default H2 file. */
  String databaseUrl() {
    if (options.database != null) {
      return options.database;
    }
    return config.databaseUrl().orElseGet(LockDatabase::defaultUrl);
  }

  /**
   * Opens the pool and runs the operation.
   *
   * @param opener how to open the pool
   * @param verbose whether to print progress beyond VM creation
   * @return the exit status
   */
  int execute(PoolOpener opener, boolean verbose) {
    PoolOpener.Opened opened;
    String url = databaseUrl();
    Progress progress = new Progress(err, verbose);
    try {
      opened = opener.open(url, config, progress);
    } catch (MachinePoolException e) {
      if (e instanceof io.machinepool.DatabaseException) {
        throw new UsageException(
            "cannot open the lock database "
                + redacted(url)
                + ": "
                + ToolMessages.of(e.getMessage())
                + rootCause(e));
      }
      throw e;
    } catch (RuntimeException e) {
      throw new UsageException(
          "cannot open the lock database " + redacted(url) + ": " + e.getMessage() + rootCause(e));
    }
    vmUnavailable = opened.vmUnavailable();
    scans = opened.scans();
    progress.destroysVms(vmUnavailable == null);
    try {
      return run(opened.pool());
    } catch (MachinePoolException e) {
      err.println(Main.PREFIX + describe(e));
      if (verbose && e instanceof ProvisioningException p) {
        printStderrTails(p);
      }
      Main.printTrace(err, e, verbose);
      return 1;
    } finally {
      try {
        opened.close();
      } catch (RuntimeException e) {
        err.println(Main.PREFIX + "warning: closing the lock database failed: " + e);
      }
    }
  }

  /**
   * The innermost cause of a failure, e.g. {@code Connection refused}, when the message does not
   * say it already: a connection pool's timeout hides the driver's reason in its causes.
   */
  static String rootCause(Throwable e) {
    Throwable root = e;
    for (int depth = 0; root.getCause() != null && root.getCause() != root && depth < 20; depth++) {
      root = root.getCause();
    }
    String message = root.getMessage();
    if (root == e || message == null || String.valueOf(e.getMessage()).contains(message)) {
      return "";
    }
    return " (cause: " + root.getClass().getSimpleName() + ": " + message + ")";
  }

  /** With {@code -v}: the tail of the tool's standard error of each machine that failed. */
  private void printStderrTails(ProvisioningException e) {
    for (ProvisioningException.Failure failure : e.failures()) {
      if (!failure.stderrTail().isBlank()) {
        err.println(failure.machine() + ": the tool's standard error ends with:");
        failure.stderrTail().strip().lines().forEach(line -> err.println("  " + line));
      }
    }
  }

  private static String redacted(String url) {
    int query = url.indexOf('?');
    return query < 0 ? url : url.substring(0, query) + "?...";
  }

  /**
   * A failure's message. The VM slots of a pool without downburst are refused before anything is
   * locked, saying why downburst is missing; a provisioning failure that still comes through (a
   * machine became a VM slot meanwhile) says it too.
   */
  private String describe(MachinePoolException e) {
    if (e instanceof ProvisioningException && vmUnavailable != null) {
      String why = vmUnavailableSaid ? "(see above)" : vmUnavailable;
      vmUnavailableSaid = true;
      return ToolMessages.of(e.getMessage()) + "\ndownburst is not available here: " + why;
    }
    return ToolMessages.of(e.getMessage());
  }

  private int run(MachinePool pool) {
    return switch (operation) {
      case LIST, BRIEF, LIST_TARGETS -> list(pool);
      case SUMMARY -> summary(pool);
      case QUEUE -> queue(pool);
      case LOCK -> lock(pool);
      case UNLOCK -> unlock(pool);
      case LOCK_MANY -> lockMany(pool);
      case UPDATE -> update(pool);
      case UPDATE_KEYS -> updateKeys(pool);
      case IMPORT -> importFile(pool);
      case REAP -> reap(pool);
    };
  }

  // ---- listing ---------------------------------------------------------------------------------

  private MachineQuery listQuery() {
    MachineQuery.Builder query = MachineQuery.builder().names(machines);
    types.forEach(query::machineType);
    String owner = options.owner;
    if (machines.isEmpty() && owner == null && !options.all) {
      owner = LockRequest.defaultOwner();
    }
    if (owner != null) {
      query.owner(owner);
    }
    if (up != null) {
      query.up(up);
    }
    if (locked != null) {
      query.locked(locked);
    }
    if (options.descPattern != null) {
      query.descriptionContains(options.descPattern);
    }
    if (options.osType != null || options.osVersion != null) {
      query.os(options.osType, options.osVersion);
    }
    return query.build();
  }

  private int list(MachinePool pool) {
    MachineQuery query = listQuery();
    int unknown = reportUnknown(pool);
    List<Machine> found = pool.machines(query);
    if (rescanVms(pool, query, found)) {
      found = pool.machines(query);
    }
    found = matching(pool, found);
    switch (operation) {
      case LIST -> out.print(Listing.json(found));
      case BRIEF -> out.print(Listing.brief(found));
      default -> out.print(Targets.of(found.stream().filter(Machine::locked).toList()).toYaml());
    }
    return unknown == 0 ? 0 : 1;
  }

  /**
   * Before {@code --list} and {@code --list-targets}, as teuthology-lock: scans again the host keys
   * of the locked VMs listed that the machines named are, or else that the query's owner (the
   * caller) holds. A VM that does not answer keeps its stored keys, with a line on standard error.
   *
   * @return whether any keys were scanned
   */
  private boolean rescanVms(MachinePool pool, MachineQuery query, List<Machine> found) {
    if (operation == Operation.BRIEF || scans == null) {
      return false;
    }
    String holder = query.owner() != null ? query.owner() : LockRequest.defaultOwner();
    List<String> vms =
        found.stream()
            .filter(m -> m.isVirtual() && m.locked())
            .filter(m -> !machines.isEmpty() || holder.equals(m.lockedBy()))
            .map(Machine::name)
            .toList();
    if (vms.isEmpty()) {
      return false;
    }
    try {
      pool.refreshHostKeys(vms);
    } catch (ProvisioningException e) {
      for (ProvisioningException.Failure f : e.failures()) {
        err.println(
            Main.PREFIX
                + "warning: "
                + f.machine()
                + " is listed with its stored host keys: "
                + f.reason());
      }
    }
    return true;
  }

  /** The machines that match {@code --json-query}, or all of them without it. */
  private List<Machine> matching(MachinePool pool, List<Machine> machines) {
    if (jsonQuery == null) {
      return machines;
    }
    Map<String, Machine> hosts =
        find(
            pool,
            machines.stream().map(Machine::vpsHost).filter(h -> h != null).distinct().toList());
    return jsonQuery.filter(machines, hosts::get);
  }

  /**
   * One line per machine of a lease that was locked without host keys because its scan failed (the
   * library logs it; without {@code -v} the tool says it instead, plainly).
   */
  private void reportUnscanned(Lease lease) {
    if (scans == null) {
      return;
    }
    for (Machine m : lease.machines()) {
      if (m.hostKeys().isEmpty()) {
        scans
            .reason(m.name())
            .ifPresent(
                reason ->
                    err.println(
                        Main.PREFIX
                            + "warning: "
                            + m.name()
                            + " is locked without host keys: "
                            + reason
                            + "; machinepool --update-keys "
                            + m.name()
                            + " stores them once it answers"));
      }
    }
  }

  /** Reports every machine named that is not in the inventory; returns how many. */
  private int reportUnknown(MachinePool pool) {
    Map<String, Machine> known = find(pool, machines);
    List<String> unknown = machines.stream().filter(n -> !known.containsKey(n)).toList();
    unknown.forEach(n -> err.println(Main.PREFIX + notFound(n)));
    return unknown.size();
  }

  private static String notFound(String name) {
    return "no machine named " + name + " in the inventory";
  }

  private static Map<String, Machine> find(MachinePool pool, Collection<String> names) {
    if (names.isEmpty()) {
      return Map.of();
    }
    return pool.machines(MachineQuery.builder().names(List.copyOf(names)).build()).stream()
        .collect(Collectors.toMap(Machine::name, Function.identity()));
  }

  /**
   * The {@code --summary} table, as teuthology-lock prints it; when requests wait, the queue
   * follows it ({@link QueueTable#section}). {@code --machine-type} narrows both.
   */
  private int summary(MachinePool pool) {
    Summary summary = pool.summary();
    List<Summary.Entry> entries =
        types.isEmpty()
            ? summary.entries()
            : summary.entries().stream().filter(e -> types.contains(e.machineType())).toList();
    List<Waiter> waiters = ofTypes(summary.waiters());
    out.print(SummaryTable.format(entries));
    if (!waiters.isEmpty()) {
      out.print(QueueTable.section(waiters));
    }
    return 0;
  }

  /** The {@code --queue} table, or a line on standard error when nobody waits. */
  private int queue(MachinePool pool) {
    List<Waiter> waiters = ofTypes(pool.waiters());
    if (waiters.isEmpty()) {
      err.println(
          "no request is waiting for "
              + (types.isEmpty() ? "" : String.join("/", types) + " ")
              + "machines");
    } else {
      out.print(QueueTable.format(waiters));
    }
    return 0;
  }

  /** The waiting requests that ask for a machine of a --machine-type, or all without it. */
  private List<Waiter> ofTypes(List<Waiter> waiters) {
    if (types.isEmpty()) {
      return waiters;
    }
    return waiters.stream()
        .filter(w -> w.machineTypes().stream().anyMatch(types::contains))
        .toList();
  }

  // ---- locking ---------------------------------------------------------------------------------

  /**
   * A lock request of the command line. With {@code --wait}, it waits for what is left of the wait
   * since {@code waitStarted}: the requests of {@code --lock -f}, made one after another, share one
   * wait.
   */
  private LockRequest.Builder request(long waitStarted) {
    Duration waited = Duration.ofNanos(System.nanoTime() - waitStarted);
    Duration left = wait.compareTo(waited) > 0 ? wait.minus(waited) : Duration.ZERO;
    LockRequest.Builder request =
        LockRequest.builder()
            .owner(owner())
            .description(options.desc)
            .keepUntilUnlocked()
            .waitUpTo(left)
            .priority(priority);
    if (options.osType != null || options.osVersion != null) {
      request.os(options.osType, options.osVersion);
    }
    if (options.arch != null) {
      request.arch(options.arch);
    }
    return request;
  }

  private int lock(MachinePool pool) {
    long waitStarted = System.nanoTime();
    List<String> vms =
        vmUnavailable == null
            ? List.of()
            : find(pool, machines).values().stream()
                .filter(Machine::isVirtual)
                .map(Machine::name)
                .sorted()
                .toList();
    if (!vms.isEmpty()) {
      // the reason (every place downburst was looked for) once, however many VM slots
      err.println(
          Main.PREFIX
              + String.join(", ", vms)
              + (vms.size() == 1
                  ? " is a VM slot, and creating its VM needs"
                  : " are VM slots, and creating their VMs needs")
              + " downburst, which is not available here: "
              + vmUnavailable);
      vmUnavailableSaid = true;
    }
    if (!options.keepGoing) {
      if (!vms.isEmpty()) {
        err.println(Main.PREFIX + "nothing was locked");
        return 1;
      }
      reportUnscanned(pool.lock(request(waitStarted).names(machines).build())); // all or none
      return 0;
    }
    List<String> skip = vms;
    List<String> names = machines.stream().filter(n -> !skip.contains(n)).toList();
    names.forEach(n -> request(waitStarted).names(n).build()); // checks all before locking any
    int failures = vms.size();
    for (String name : names) {
      try {
        reportUnscanned(pool.lock(request(waitStarted).names(name).build()));
      } catch (MachinePoolException e) {
        // each request of -f is one machine: the library's "nothing was locked" is about that one,
        // and the others are still locked
        err.println(
            Main.PREFIX + describe(e).replace("nothing was locked", name + " was not locked"));
        failures++;
      }
    }
    return failures == 0 ? 0 : 1;
  }

  private int lockMany(MachinePool pool) {
    long waitStarted = System.nanoTime();
    if (vmUnavailable != null) {
      MachineQuery.Builder ofTypes = MachineQuery.builder();
      types.forEach(ofTypes::machineType);
      List<String> vmTypes =
          pool.machines(ofTypes.build()).stream()
              .filter(Machine::isVirtual)
              .map(Machine::machineType)
              .distinct()
              .sorted()
              .toList();
      if (!vmTypes.isEmpty()) {
        err.println(
            Main.PREFIX
                + "machine type "
                + String.join(", ", vmTypes)
                + " has VM slots, and creating VMs needs downburst, which is not available here: "
                + vmUnavailable);
        return 1;
      }
    }
    LockRequest request =
        request(waitStarted)
            .machineTypes(types.toArray(String[]::new))
            .count(options.operation.lockMany)
            .build();
    Lease lease = pool.lock(request);
    reportUnscanned(lease);
    out.print(lease.targets().toYaml());
    return 0;
  }

  private int unlock(MachinePool pool) {
    String owner = owner();
    if (!options.keepGoing) {
      List<String> problems = unlockProblems(pool, owner);
      if (!problems.isEmpty()) {
        problems.forEach(p -> err.println(Main.PREFIX + p));
        if (machines.size() > 1) {
          err.println(Main.PREFIX + "nothing was unlocked (-f unlocks the others)");
        }
        return 1;
      }
    }
    int failures = 0;
    for (String name : machines) {
      try {
        pool.unlock(name, owner, options.desc);
      } catch (MachinePoolException e) {
        err.println(Main.PREFIX + describe(e));
        failures++;
        if (!options.keepGoing) {
          break;
        }
      }
    }
    return failures == 0 ? 0 : 1;
  }

  /** What would make unlocking fail, checked for every machine before any is unlocked. */
  private List<String> unlockProblems(MachinePool pool, String owner) {
    Map<String, Machine> found = find(pool, machines);
    List<String> problems = new ArrayList<>();
    List<String> vms = new ArrayList<>();
    for (String name : machines) {
      Machine m = found.get(name);
      if (m == null) {
        problems.add(notFound(name));
      } else if (!m.locked()) {
        problems.add(name + " is not locked; there is nothing to unlock");
      } else if (!owner.equals(m.lockedBy())) {
        problems.add(
            name
                + " is locked by "
                + m.lockedBy()
                + ", not by "
                + owner
                + "; not unlocked (--owner "
                + m.lockedBy()
                + " unlocks it on their behalf)");
      } else if (options.desc != null
          && m.description() != null
          && !options.desc.equals(m.description())) {
        problems.add(
            name
                + " is locked with description '"
                + m.description()
                + "', not '"
                + options.desc
                + "'; not unlocked");
      } else if (m.isVirtual() && vmUnavailable != null) {
        vms.add(name);
      }
    }
    if (!vms.isEmpty()) {
      // the reason (every place downburst was looked for) once, however many VM slots
      problems.add(
          String.join(", ", vms)
              + (vms.size() == 1
                  ? " is a VM slot, and destroying its VM needs"
                  : " are VM slots, and destroying their VMs needs")
              + " downburst, which is not available here: "
              + vmUnavailable);
    }
    return problems;
  }

  // ---- inventory -------------------------------------------------------------------------------

  private int update(MachinePool pool) {
    Map<String, Machine> found = find(pool, machines);
    List<String> unknown = machines.stream().filter(n -> !found.containsKey(n)).toList();
    if (!unknown.isEmpty()) {
      unknown.forEach(n -> err.println(Main.PREFIX + notFound(n)));
      err.println(Main.PREFIX + "nothing was updated");
      return 1;
    }
    for (String name : machines) {
      // As teuthology-lock: the status and the description are set independently, and marking a
      // machine down without --desc keeps its description (a holder unlocks by it).
      if (Boolean.FALSE.equals(up)) {
        if (options.desc == null || options.desc.isBlank()) {
          pool.inventory().markDown(name);
        } else {
          pool.inventory().markDown(name, options.desc);
        }
        continue;
      }
      if (Boolean.TRUE.equals(up)) {
        pool.inventory().markUp(name);
      }
      if (options.desc != null) {
        pool.inventory().describe(name, options.desc);
      }
    }
    return 0;
  }

  /**
   * {@code --update-keys}, as teuthology-updatekeys: scans each machine once, in parallel, and
   * stores the keys of those that answered; prints each machine whose keys changed or stayed, and
   * on standard error each one that could not be scanned, which keeps its stored keys.
   */
  private int updateKeys(MachinePool pool) {
    List<String> names =
        options.all
            ? pool.machines(MachineQuery.all()).stream().map(Machine::name).toList()
            : machines;
    if (names.isEmpty()) {
      err.println("the inventory is empty; there are no host keys to scan");
      return 0;
    }
    Map<String, Machine> before = find(pool, names);
    List<String> unknown = names.stream().filter(n -> !before.containsKey(n)).toList();
    if (!unknown.isEmpty()) {
      unknown.forEach(n -> err.println(Main.PREFIX + notFound(n)));
      err.println(Main.PREFIX + "no host keys were scanned");
      return 1;
    }
    Map<String, String> failed = new LinkedHashMap<>();
    try {
      pool.refreshHostKeys(names);
    } catch (ProvisioningException e) {
      e.failures().forEach(f -> failed.put(f.machine(), f.reason()));
    }
    Map<String, Machine> after = find(pool, names);
    for (String name : names.stream().sorted().toList()) {
      if (failed.containsKey(name)) {
        err.println(
            Main.PREFIX
                + "could not scan the host keys of "
                + name
                + ": "
                + failed.get(name)
                + "; its stored keys stay");
      } else {
        boolean changed = !after.get(name).hostKeys().equals(before.get(name).hostKeys());
        out.println(name + (changed ? ": host keys updated" : ": host keys unchanged"));
      }
    }
    return failed.isEmpty() ? 0 : 1;
  }

  private int importFile(MachinePool pool) {
    List<MachineSpec> specs = inventoryFile.specs(find(pool, inventoryFile.namesToLookUp()));
    pool.inventory().addAll(specs);
    out.println(
        "imported "
            + specs.size()
            + (specs.size() == 1 ? " machine" : " machines")
            + " from "
            + options.operation.importFile);
    return 0;
  }

  private int reap(MachinePool pool) {
    List<Machine> released = pool.reapExpired();
    for (Machine m : released) {
      out.println(
          "released "
              + m.name()
              + (m.lockedBy() == null ? "" : " (locked by " + m.lockedBy() + ")")
              + ": its lease expired");
    }
    if (released.isEmpty()) {
      err.println("no lease has expired; nothing was released");
    }
    return 0;
  }
}
