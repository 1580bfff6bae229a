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
  private final Duration wait;
  private final int priority;
  private String vmUnavailable;

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
              + "; they go with --lock, --unlock, --update, --list, --brief and --list-targets");
    }
    if (machines.isEmpty()
        && (operation == Operation.LOCK
            || operation == Operation.UNLOCK
            || operation == Operation.UPDATE)) {
      throw new UsageException(
          operation.flag
              + " requires specific machines, as arguments or in a targets file (-t FILE)");
    }
    if (options.all) {
      if (!operation.lists()) {
        throw new UsageException("--all can only be used with --list, --list-targets and --brief");
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
    List<String> types = List.of(value.split("\\|", -1));
    if (types.stream().anyMatch(String::isBlank)) {
      throw new UsageException(
          "--machine-type '" + value + "' names an empty type; e.g. smithi, or smithi|mira");
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
      throw e;
    } catch (RuntimeException e) {
      throw new UsageException(
          "cannot open the lock database " + redacted(url) + ": " + e.getMessage());
    }
    vmUnavailable = opened.vmUnavailable();
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
      return e.getMessage() + "\ndownburst is not available here: " + vmUnavailable;
    }
    return e.getMessage();
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
    switch (operation) {
      case LIST -> {
        List<Machine> found = pool.machines(query);
        if (found.stream().anyMatch(m -> m.isVirtual() && m.locked())) {
          pool.targets(query); // rescans the keys of the caller's VMs, when the pool can scan
          found = pool.machines(query);
        }
        out.print(Listing.json(found));
      }
      case BRIEF -> out.print(Listing.brief(pool.machines(query)));
      default -> out.print(pool.targets(query).toYaml());
    }
    return unknown == 0 ? 0 : 1;
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
    for (String vm : vms) {
      err.println(
          Main.PREFIX
              + vm
              + " is a VM slot, and creating its VM needs downburst, which is not available here: "
              + vmUnavailable);
    }
    if (!options.keepGoing) {
      if (!vms.isEmpty()) {
        err.println(Main.PREFIX + "nothing was locked");
        return 1;
      }
      pool.lock(request(waitStarted).names(machines).build()); // all or none
      return 0;
    }
    List<String> skip = vms;
    List<String> names = machines.stream().filter(n -> !skip.contains(n)).toList();
    names.forEach(n -> request(waitStarted).names(n).build()); // checks all before locking any
    int failures = vms.size();
    for (String name : names) {
      try {
        pool.lock(request(waitStarted).names(name).build());
      } catch (MachinePoolException e) {
        err.println(Main.PREFIX + describe(e));
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
        problems.add(
            name
                + " is a VM slot, and destroying its VM needs downburst, which is not available"
                + " here: "
                + vmUnavailable);
      }
    }
    return problems;
  }

  // ---- inventory -------------------------------------------------------------------------------

  /** The reason {@code --update --status down} records when {@code --desc} gives none. */
  static String defaultDownReason(String owner) {
    return "marked down by " + owner + " with machinepool --update";
  }

  private int update(MachinePool pool) {
    Map<String, Machine> found = find(pool, machines);
    List<String> unknown = machines.stream().filter(n -> !found.containsKey(n)).toList();
    if (!unknown.isEmpty()) {
      unknown.forEach(n -> err.println(Main.PREFIX + notFound(n)));
      err.println(Main.PREFIX + "nothing was updated");
      return 1;
    }
    String reason =
        options.desc == null || options.desc.isBlank()
            ? defaultDownReason(LockRequest.defaultOwner())
            : options.desc;
    for (String name : machines) {
      if (Boolean.FALSE.equals(up)) {
        pool.inventory().markDown(name, reason);
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
