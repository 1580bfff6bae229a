package io.machinepool;

import io.machinepool.internal.Database;
import io.machinepool.internal.Deadline;
import io.machinepool.internal.JdbcHostKeyStore;
import io.machinepool.internal.JdbcInventory;
import io.machinepool.internal.JdbcLockStore;
import io.machinepool.internal.JdbcWaitQueue;
import io.machinepool.internal.Schema;
import io.machinepool.internal.Texts;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A lab's machines, locked and unlocked atomically in a JDBC database that many harness hosts can
 * share. Build one with {@link #builder()}; the schema is created on {@link Builder#build()}.
 *
 * <pre>{@code
 * try (MachinePool pool = MachinePool.builder().dataSource(ds).build();
 *     Lease lease = pool.lock(LockRequest.builder().machineType("smithi").count(2).build())) {
 *   String targets = lease.targets().toYaml();
 * }
 * }</pre>
 *
 * <p>The locking rules are those of teuthology's lock server, made atomic (see {@link
 * io.machinepool.internal.JdbcLockStore} for the algorithm): all or nothing, one conditional write
 * per lock, time from the database clock, a fresh token and fencing generation per lock, leases
 * that expire unless the pool's heartbeat renews them. A pool is thread-safe.
 */
public final class MachinePool implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(MachinePool.class);

  /** The least time a lock request that waits for machines keeps for its last attempt. */
  private final Database db;

  private final JdbcLockStore locks;
  private final JdbcInventory rows;
  private final Inventory inventory;
  private final HostKeyStore hostKeys;
  private final Provisioning provisioning;
  private final Listeners listeners;
  private final Duration leaseDuration;
  private final Duration contentionTimeout;
  private final ExecutorService workers;
  private final VmCleanup vms;
  private final LeaseKeeper keeper;
  private final Reaper reaper;
  private final BackgroundRelease background;
  private final WaitQueue waits;
  private final Map<String, Lease> openLeases = new ConcurrentHashMap<>();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final Thread shutdownHook;

  private MachinePool(Builder b, Database db) {
    this.db = db;
    this.locks = new JdbcLockStore(db);
    this.rows = new JdbcInventory(db);
    this.inventory = new Inventory(rows, this);
    this.hostKeys =
        new CheckedHostKeyStore(b.hostKeyStore != null ? b.hostKeyStore : new JdbcHostKeyStore(db));
    FreedSignal freed = new FreedSignal();
    List<PoolListener> all = new ArrayList<>(b.listeners);
    all.add(freed); // wakes this pool's waiters when it frees machines
    this.listeners = new Listeners(all);
    this.waits = new WaitQueue(locks, new JdbcWaitQueue(db, locks), freed, listeners);
    this.leaseDuration = b.leaseDuration;
    this.contentionTimeout = b.contentionTimeout;
    PoolThreads threads = new PoolThreads(b.threadFactory);
    this.workers = Executors.newFixedThreadPool(b.provisioningThreads, threads.named("provision"));
    this.provisioning =
        new Provisioning(
            b.provisioner,
            locks,
            b.markDownAfterFailures,
            b.hostKeyScanner,
            hostKeys,
            listeners,
            workers,
            b.perVmHostLimit,
            b.sshTimeout,
            b.provisionTimeout);
    this.vms = new VmCleanup(provisioning, locks, workers, b.provisionTimeout);
    this.keeper =
        new LeaseKeeper(locks, leaseDuration, b.safetyMargin(), b.heartbeatInterval(), threads);
    this.background = new BackgroundRelease(threads);
    this.reaper =
        new Reaper(
            locks,
            keeper,
            vms,
            provisioning,
            listeners,
            leaseDuration,
            db::defaultDeadline,
            this::takenOver);
    if (b.backgroundReaper) {
      reaper.start(b.reaperInterval(), threads);
    }
    if (b.releaseOnShutdown) {
      shutdownHook = threads.thread("shutdown", this::releaseOpenLeases);
      Runtime.getRuntime().addShutdownHook(shutdownHook);
    } else {
      shutdownHook = null;
    }
  }

  /**
   * Starts configuring a pool.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * The inventory: add, change, remove, mark up or down.
   *
   * @return the inventory
   */
  public Inventory inventory() {
    checkOpen();
    return inventory;
  }

  /**
   * The store of host keys this pool uses (by default in the lock database).
   *
   * @return the store
   */
  public HostKeyStore hostKeys() {
    checkOpen();
    return hostKeys;
  }

  /**
   * Locks machines, provisions the VM slots among them, collects host keys, and returns the lease.
   * All or nothing: when any step fails, every machine of the request is released again.
   *
   * <p>A request by name for machines that the same owner holds with the same non-empty description
   * under one lock kept until unlocked ({@link LockRequest.Builder#keepUntilUnlocked()}), itself
   * kept until unlocked, returns that lock as it is: same token, nothing provisioned again, and
   * closing either lease unlocks it. Any other lock of a held machine fails, so that a second lock
   * never takes a machine from under an open lease.
   *
   * <p>When requests wait for machines, this one is served by the queue's rules: it takes no
   * machine that a request ahead of it (by priority, then arrival) can use. When it cannot be
   * served and its {@code waitUpTo} is above zero, it waits in the queue, on this thread, until it
   * is served, {@code waitUpTo} passes, the thread is interrupted or the pool closes; in each case
   * but the first it leaves the queue before this call returns. See {@link #waiters()}.
   *
   * @param request what to lock
   * @return the open lease; close it to unlock
   * @throws InvalidRequestException when the request cannot be served as asked, e.g. it asks for
   *     more machines than the inventory has of its types
   * @throws NoSuchMachineException when a named machine does not exist
   * @throws LockConflictException when a named machine is locked by someone else, or by the same
   *     owner in a way that a re-lock may not return
   * @throws NotEnoughMachinesException when too few machines are free beyond what requests waiting
   *     ahead hold back, also after {@code waitUpTo}
   * @throws LockContentionException when concurrent requests kept taking the machines chosen for
   *     this one until the deadline
   * @throws PoolClosedException when the pool is closed, also while the request waits
   * @throws MachinePoolException when interrupted while waiting in the queue (the interrupt flag
   *     stays set)
   * @throws ProvisioningException when a machine could not be prepared
   */
  public Lease lock(LockRequest request) {
    checkOpen();
    Checks.notNull(request, "lock request");
    provisioning.validate(request, rows::vmHosts);
    String token = UUID.randomUUID().toString();
    Duration lease = request.keepUntilUnlocked() ? null : leaseDuration;
    Deadline deadline = Deadline.after(max(request.waitUpTo(), contentionTimeout));
    JdbcLockStore.Acquired acquired;
    try {
      acquired = waits.acquire(request, token, lease, deadline);
    } catch (JdbcLockStore.OutcomeUnknownException e) {
      releaseInBackground(e.token());
      throw e;
    }
    if (!token.equals(acquired.token())) {
      // The re-lock of a lock kept until unlocked (README, Locking): that lock, as it is, without a
      // second provisioning of its VMs; both handles name it.
      log.debug(
          "{} already locked for {} ({}) until unlocked: the same lock, nothing changed",
          Texts.list(acquired.machines().stream().map(Machine::name).toList()),
          request.owner(),
          request.description());
      return new Lease(this, acquired.token(), request, acquired.machines(), null);
    }
    Lease held = new Lease(this, token, request, acquired.machines(), acquired.expiresAt());
    if (!request.keepUntilUnlocked()) {
      held.keeping(
          keeper.keep(
              token,
              held.names(),
              acquired.startedNanos(),
              acquired.expiresAt(),
              reason -> leaseLost(held, reason)));
      openLeases.put(token, held);
    }
    listeners.locked(held);
    if (provisioning.needsWork(held.held())) {
      try {
        held.machines(provisioning.prepare(held.held(), request));
      } catch (ProvisioningException e) {
        log.info("provisioning failed, releasing {}: {}", held.names(), e.getMessage());
        try {
          held.close();
        } catch (ProvisioningException cleanup) {
          throw stillHeld(e, cleanup, request.owner());
        } catch (RuntimeException cleanup) {
          e.addSuppressed(cleanup);
        }
        throw e;
      }
    }
    if (log.isDebugEnabled()) {
      log.debug(
          "locked {} for {}{}: {}",
          describeCount(held.held()),
          request.owner(),
          request.description() == null ? "" : " (" + request.description() + ")",
          String.join(", ", held.names()));
    }
    return held;
  }

  /**
   * A provisioning failure whose clean-up left VMs behind: each machine whose VM could not be
   * destroyed is named as still locked by the owner and marked down, with what to do.
   */
  private static ProvisioningException stillHeld(
      ProvisioningException failure, ProvisioningException cleanup, String owner) {
    Map<String, ProvisioningException.Failure> kept = new LinkedHashMap<>();
    cleanup.failures().forEach(f -> kept.put(f.machine(), f));
    List<ProvisioningException.Failure> failures = new ArrayList<>();
    for (ProvisioningException.Failure f : failure.failures()) {
      ProvisioningException.Failure destroy = kept.remove(f.machine());
      failures.add(
          destroy == null
              ? f
              : ProvisioningException.Failure.of(
                  f.machine(),
                  f.reason() + "; " + keptBecause(destroy, owner),
                  f.exitCode(),
                  f.stderrTail()));
    }
    kept.values()
        .forEach(
            f ->
                failures.add(
                    ProvisioningException.Failure.of(
                        f.machine(), keptBecause(f, owner), f.exitCode(), f.stderrTail())));
    ProvisioningException combined = new ProvisioningException(failures, failure.getCause());
    combined.addSuppressed(cleanup);
    return combined;
  }

  private static String keptBecause(ProvisioningException.Failure destroy, String owner) {
    return "then destroying its VM failed too ("
        + destroy.reason()
        + (destroy.exitCode() == null ? "" : ", exit code " + destroy.exitCode())
        + "), so it stays locked by "
        + owner
        + " and is marked down; destroy the VM by hand, then unlock it";
  }

  private static Duration max(Duration a, Duration b) {
    return a.compareTo(b) >= 0 ? a : b;
  }

  /** Whatever a lock whose outcome is unknown may hold, released in the background. */
  private void releaseInBackground(String token) {
    background.retry(
        "release what lock " + token + " may hold",
        Deadline.after(max(leaseDuration, Duration.ofMinutes(1))),
        () -> {
          locks.unlockToken(token, db.defaultDeadline());
          return true;
        },
        () ->
            log.warn(
                "could not find out whether lock {} committed; if it did, its machines are freed"
                    + " when its lease expires (a lock kept until unlocked must be unlocked by"
                    + " hand)",
                token));
  }

  private static String describeCount(List<Machine> machines) {
    long vms = machines.stream().filter(Machine::isVirtual).count();
    return machines.size()
        + (machines.size() == 1 ? " machine" : " machines")
        + (vms > 0 ? " (" + vms + " VM" + (vms == 1 ? ")" : "s)") : "");
  }

  /**
   * Unlocks a machine held by an owner, whatever lease locked it (the command-line path). A VM is
   * destroyed first, while the owner still holds it.
   *
   * @param name the machine
   * @param owner who holds it
   * @throws NoSuchMachineException when it does not exist
   * @throws LockConflictException when it is free or locked by someone else
   */
  public void unlock(String name, String owner) {
    unlock(name, owner, null);
  }

  /**
   * Unlocks a machine held by an owner; when a description is given and the lock has one, they must
   * match.
   *
   * @param name the machine
   * @param owner who holds it
   * @param description the lock's description, or {@code null} not to check it
   * @throws NoSuchMachineException when it does not exist
   * @throws LockConflictException when it is free, locked by someone else, or described otherwise
   * @throws ProvisioningException when its VM could not be destroyed; it stays locked, marked down
   */
  public void unlock(String name, String owner, String description) {
    checkOpen();
    Checks.machineName(name);
    Checks.owner(owner);
    Checks.description(description);
    Machine machine = rows.find(name).orElseThrow(() -> notFound(name));
    if (!machine.locked()) {
      throw new LockConflictException(name + " is not locked; there is nothing to unlock");
    }
    if (!owner.equals(machine.lockedBy())) {
      throw new LockConflictException(
          name + " is locked by " + machine.lockedBy() + ", not by " + owner + "; not unlocked");
    }
    if (description != null
        && machine.description() != null
        && !description.equals(machine.description())) {
      throw new LockConflictException(
          name
              + " is locked with description '"
              + Texts.echo(machine.description())
              + "', not '"
              + Texts.echo(description)
              + "'; not unlocked");
    }
    if (!provisioning.canRelease(machine)) {
      throw new ProvisioningException(
          name,
          "it is a VM slot, and destroying its VM needs a provisioner; unlock it with a pool built"
              + " with .provisioner(...), e.g. a DownburstProvisioner",
          null,
          null,
          null);
    }
    vms.destroy(machine);
    if (!locks.unlockGeneration(name, owner, machine.generation())) {
      throw new LockConflictException(
          name + " changed hands while it was being unlocked; check its state and try again");
    }
    listeners.released(machine);
    log.debug("unlocked {} for {}", name, owner);
  }

  private static NoSuchMachineException notFound(String name) {
    return new NoSuchMachineException(
        "no machine named " + name + " in the inventory; add it with inventory().add(...)");
  }

  /**
   * The machines that match a query, sorted by name, with their host keys.
   *
   * @param query the criteria
   * @return the machines
   */
  public List<Machine> machines(MachineQuery query) {
    checkOpen();
    return rows.query(Checks.notNull(query, "query"));
  }

  /**
   * One machine.
   *
   * @param name its name
   * @return the machine, or empty when not in the inventory
   */
  public Optional<Machine> machine(String name) {
    checkOpen();
    return rows.find(Checks.machineName(name));
  }

  /**
   * The {@code targets:} of the locked machines that match a query. When the pool has a host key
   * scanner, the keys of the VMs among them that the caller holds are scanned again first, as
   * {@code teuthology-lock --list-targets} does: the VMs the query names, or else those locked by
   * the query's owner ({@link LockRequest#defaultOwner()} when it names none). A VM that does not
   * answer keeps its stored keys, and a warning is logged.
   *
   * @param query the criteria
   * @return the targets
   */
  public Targets targets(MachineQuery query) {
    List<Machine> locked = machines(query).stream().filter(Machine::locked).toList();
    if (!provisioning.canScan()) {
      return Targets.of(locked);
    }
    String caller = query.owner() != null ? query.owner() : LockRequest.defaultOwner();
    List<Machine> held =
        locked.stream()
            .filter(Machine::isVirtual)
            .filter(m -> query.names().contains(m.name()) || caller.equals(m.lockedBy()))
            .toList();
    if (held.isEmpty()) {
      return Targets.of(locked);
    }
    try {
      provisioning.refresh(held);
    } catch (ProvisioningException e) {
      log.warn("listing targets with the stored keys of some VMs: {}", e.getMessage());
    }
    return Targets.of(machines(query).stream().filter(Machine::locked).toList());
  }

  /**
   * Scans the host keys of machines now and stores them, in parallel: what {@code
   * teuthology-updatekeys} does, e.g. after a physical machine was reinstalled. Each machine gets
   * one scan of at most {@link Builder#sshTimeout(Duration) sshTimeout}.
   *
   * @param names the machines
   * @return the machines with their keys now, sorted by name
   * @throws InvalidRequestException when a name is invalid or the pool has no host key scanner
   * @throws NoSuchMachineException when a machine is not in the inventory; nothing was scanned
   * @throws ProvisioningException naming every machine that could not be scanned; the keys of the
   *     others were stored
   */
  public List<Machine> refreshHostKeys(java.util.Collection<String> names) {
    checkOpen();
    List<String> wanted = Checks.machineNames(Checks.notNull(names, "machine names"));
    provisioning.requireScanner();
    List<Machine> found = rows.query(MachineQuery.builder().names(wanted).build());
    List<String> missing =
        wanted.stream().filter(n -> found.stream().noneMatch(m -> m.name().equals(n))).toList();
    if (!missing.isEmpty()) {
      throw new NoSuchMachineException(
          (missing.size() == 1 ? "no machine named " : "no machines named ")
              + Texts.list(missing)
              + " in the inventory; no host keys were scanned");
    }
    List<Machine> refreshed = provisioning.refresh(found);
    log.debug("refreshed the host keys of {}", String.join(", ", wanted));
    return refreshed;
  }

  /**
   * Counts of machines by type and owner.
   *
   * @return the summary
   */
  public Summary summary() {
    checkOpen();
    return new Summary(rows.summary().entries(), waits.list());
  }

  /**
   * The queue of lock requests that wait for machines, from every process on the database, in the
   * order they will be served: by priority (lower first), then by when they joined.
   *
   * @return the waiting requests, the first to be served first
   */
  public List<Waiter> waiters() {
    checkOpen();
    return waits.list();
  }

  /**
   * The leases this pool holds open (locks kept until unlocked are not tracked).
   *
   * @return the open leases
   */
  public List<Lease> leases() {
    return List.copyOf(openLeases.values());
  }

  /**
   * Releases every lease whose holder stopped renewing it, destroying VMs first, now on this thread
   * (the background reaper, on unless the builder switched it off, does the same regularly). A VM
   * slot is released only by a pool with a provisioner, which can destroy its VM; this pool leaves
   * others locked and logs a warning.
   *
   * @return the machines released
   */
  public List<Machine> reapExpired() {
    checkOpen();
    return reaper.reap();
  }

  /** A reaper (this pool's or another's) claimed a lease: if it is one of ours, it is lost. */
  private void takenOver(String token) {
    Lease local = openLeases.get(token);
    if (local != null && local.keeping() != null) {
      local.keeping().lose("it expired and a reaper took over its machines");
    }
  }

  private void leaseLost(Lease lease, String reason) {
    openLeases.remove(lease.token(), lease);
    if (lease.keeping() != null) {
      keeper.forget(lease.keeping());
    }
    if (lease.markLost(reason)) {
      log.info(
          "lease {} of {} on {} is lost: {}", lease.token(), lease.owner(), lease.names(), reason);
      listeners.leaseLost(lease, reason);
      listeners.leaseExpired(lease.token(), lease.names());
    }
  }

  void renew(Lease lease) {
    checkOpen();
    if (lease.request().keepUntilUnlocked()) {
      return; // no expiry to extend
    }
    Lease.State state = lease.state();
    if (state == Lease.State.LOST) {
      lease.checkSafe();
    }
    if (state != Lease.State.OPEN) {
      throw new LockConflictException(
          "lease "
              + lease.token()
              + " on "
              + lease.names()
              + " is "
              + state.name().toLowerCase(java.util.Locale.ROOT)
              + "; lock the machines again");
    }
    keeper.renewNow(lease.keeping(), "lease " + lease.token() + " on " + lease.names());
  }

  void release(Lease lease) {
    openLeases.remove(lease.token());
    if (lease.keeping() != null) {
      keeper.forget(lease.keeping());
    }
    try {
      releaseOnce(lease, db.defaultDeadline());
    } catch (DatabaseException e) {
      lease.releasing();
      Deadline bound = Deadline.after(max(leaseDuration, Duration.ofMinutes(1)));
      background.retry(
          "release lease " + lease.token() + " on " + lease.names(),
          bound,
          () -> {
            releaseOnce(lease, db.defaultDeadline());
            lease.released();
            return true;
          },
          () ->
              log.warn(
                  "gave up releasing lease {} on {}; it expires, and any pool's reaper frees it",
                  lease.token(),
                  lease.names()));
      throw new DatabaseException(
          "could not release lease "
              + lease.token()
              + " on "
              + lease.names()
              + ": "
              + e.getMessage()
              + "; the pool keeps trying in the background for up to "
              + bound.remaining().toSeconds()
              + " s (the lease is RELEASING until then), after which the lease expires and any"
              + " pool's reaper frees its machines",
          e);
    }
  }

  /** Destroys the VMs the lease still holds, then unlocks what it holds, within a deadline. */
  private void releaseOnce(Lease lease, Deadline deadline) {
    List<Machine> machines = lease.held();
    List<String> unlock = new ArrayList<>();
    List<Machine> destroy = new ArrayList<>();
    for (Machine machine : machines) {
      if (!machine.isVirtual()) {
        unlock.add(machine.name());
      } else if (!locks.holds(machine.name(), lease.token(), deadline)) {
        log.info(
            "{} is no longer held by lease {} (it expired, or was taken over): not destroying it;"
                + " an expired lease is the reaper's to clean up",
            machine.name(),
            lease.token());
      } else {
        destroy.add(machine);
      }
    }
    Map<Machine, ProvisioningException> failed = vms.destroyAll(destroy);
    destroy.stream().filter(m -> !failed.containsKey(m)).forEach(m -> unlock.add(m.name()));
    int count = locks.unlock(lease.token(), unlock, deadline);
    if (count < unlock.size()) {
      log.info(
          "lease {} still held {} of its {} machines when it was closed; the others had been"
              + " unlocked by their owner or taken over after the lease expired",
          lease.token(),
          count,
          unlock.size());
    }
    machines.stream().filter(m -> unlock.contains(m.name())).forEach(listeners::released);
    if (log.isDebugEnabled()) {
      log.debug("{}", unlockedLine(machines, unlock, failed.keySet(), lease.owner()));
    }
    if (!failed.isEmpty()) {
      List<ProvisioningException.Failure> failures = new ArrayList<>();
      failed.values().forEach(f -> failures.addAll(f.failures()));
      throw new ProvisioningException(failures, null);
    }
  }

  /**
   * The log line of a release: the machines it unlocked, and those that stay locked because their
   * VM could not be destroyed.
   */
  static String unlockedLine(
      List<Machine> machines,
      List<String> unlocked,
      java.util.Collection<Machine> keptLocked,
      String owner) {
    List<Machine> done = machines.stream().filter(m -> unlocked.contains(m.name())).toList();
    return "unlocked "
        + describeCount(done)
        + " for "
        + owner
        + (done.isEmpty()
            ? ""
            : ": " + String.join(", ", done.stream().map(Machine::name).toList()))
        + (keptLocked.isEmpty()
            ? ""
            : "; "
                + Texts.list(keptLocked.stream().map(Machine::name).toList())
                + (keptLocked.size() == 1 ? " stays" : " stay")
                + " locked and marked down, its VM may still exist");
  }

  private void releaseOpenLeases() {
    for (Lease lease : List.copyOf(openLeases.values())) {
      try {
        lease.close();
      } catch (RuntimeException e) {
        log.warn(
            "could not release lease {} on {}: {}", lease.token(), lease.names(), e.getMessage());
      }
    }
  }

  void checkOpen() {
    if (closed.get()) {
      throw new PoolClosedException("this MachinePool is closed; build a new one to go on");
    }
  }

  /**
   * Releases the leases this pool still holds, stops the heartbeat and the reaper. Further calls on
   * the pool fail with {@link PoolClosedException}. Idempotent.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    waits.close(Deadline.after(Duration.ofSeconds(5)));
    reaper.stop();
    releaseOpenLeases();
    keeper.stop();
    background.stop();
    workers.shutdownNow();
    try {
      Deadline stopping = Deadline.after(Duration.ofSeconds(10));
      workers.awaitTermination(stopping.remainingNanos(), TimeUnit.NANOSECONDS);
      reaper.awaitStopped(stopping);
      keeper.awaitStopped(stopping);
      background.awaitStopped(stopping);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (shutdownHook != null) {
      try {
        Runtime.getRuntime().removeShutdownHook(shutdownHook);
      } catch (IllegalStateException e) {
        // the JVM is shutting down already: the hook is running or has run
      }
    }
  }

  /**
   * Configures a {@link MachinePool}. Everything but the data source has a default; {@link
   * #build()} validates the whole configuration once and creates the schema.
   */
  public static final class Builder {
    private DataSource dataSource;
    private Provisioner provisioner;
    private HostKeyScanner hostKeyScanner;
    private HostKeyStore hostKeyStore;
    private Duration leaseDuration = Duration.ofMinutes(10);
    private Duration heartbeatInterval;
    private Duration reaperInterval;
    private Duration contentionTimeout = Duration.ofSeconds(10);
    private Duration sshTimeout = Duration.ofMinutes(5);
    private Duration provisionTimeout = Duration.ofMinutes(60);
    private String tablePrefix = "machinepool_";
    private int retryAttempts = 8;
    private int provisioningThreads = 16;
    private int perVmHostLimit = 4;
    private int markDownAfterFailures = 3;
    private boolean releaseOnShutdown = true;
    private boolean backgroundReaper = true;
    private Duration safetyMargin;
    private Duration databaseTimeout = Database.DEFAULT_TIMEOUT;
    private ThreadFactory threadFactory;
    private final List<PoolListener> listeners = new ArrayList<>();

    private Builder() {}

    /** The heartbeat interval set, or a third of the lease. */
    Duration heartbeatInterval() {
      return heartbeatInterval != null ? heartbeatInterval : leaseDuration.dividedBy(3);
    }

    /**
     * The safety margin set; by default a tenth of the lease, at least 100 ms and at most a minute,
     * but never more than half the time between a renewal and the lease's expiry.
     */
    Duration safetyMargin() {
      if (safetyMargin != null) {
        return safetyMargin;
      }
      Duration tenth = leaseDuration.dividedBy(10);
      Duration margin =
          tenth.compareTo(Duration.ofMillis(100)) < 0
              ? Duration.ofMillis(100)
              : tenth.compareTo(Duration.ofMinutes(1)) > 0 ? Duration.ofMinutes(1) : tenth;
      Duration room = leaseDuration.minus(heartbeatInterval()).dividedBy(2);
      return margin.compareTo(room) > 0 ? room : margin;
    }

    /** The reaper interval set, or half the lease, at least a second and at most a minute. */
    Duration reaperInterval() {
      if (reaperInterval != null) {
        return reaperInterval;
      }
      Duration half = leaseDuration.dividedBy(2);
      return half.compareTo(Duration.ofSeconds(1)) < 0
          ? Duration.ofSeconds(1)
          : half.compareTo(Duration.ofMinutes(1)) > 0 ? Duration.ofMinutes(1) : half;
    }

    /**
     * The database that holds the locks (required). Any JDBC data source; H2, PostgreSQL and
     * MariaDB/MySQL get their own SQL, others a portable fallback. A pooled data source is best.
     *
     * @param value the data source
     * @return this builder
     */
    public Builder dataSource(DataSource value) {
      this.dataSource = value;
      return this;
    }

    /**
     * What provisions VM slots (physical machines always use {@link Provisioner#none()}). Without
     * one, locking a VM slot fails and releases it.
     *
     * @param value e.g. a DownburstProvisioner
     * @return this builder
     */
    public Builder provisioner(Provisioner value) {
      this.provisioner = value;
      return this;
    }

    /**
     * What scans host keys after provisioning (and of physical machines without stored keys).
     * Without one, keys are neither scanned nor refreshed.
     *
     * @param value e.g. a JschHostKeyScanner
     * @return this builder
     */
    public Builder hostKeyScanner(HostKeyScanner value) {
      this.hostKeyScanner = value;
      return this;
    }

    /**
     * Where host keys are kept; by default in the lock database.
     *
     * @param value the store
     * @return this builder
     */
    public Builder hostKeyStore(HostKeyStore value) {
      this.hostKeyStore = value;
      return this;
    }

    /**
     * How long a lease lasts without a heartbeat (default 10 minutes).
     *
     * @param value at least 300 ms, at most 36,500 days (a century)
     * @return this builder
     */
    public Builder leaseDuration(Duration value) {
      this.leaseDuration = value;
      return this;
    }

    /**
     * How often open leases are renewed (default: a third of the lease duration).
     *
     * @param value at least 1 ms, and shorter than the lease
     * @return this builder
     */
    public Builder heartbeatInterval(Duration value) {
      this.heartbeatInterval = value;
      return this;
    }

    /**
     * Runs {@link MachinePool#reapExpired()} in the background this often (default: half the lease
     * duration, at least a second and at most a minute), and switches the background reaper on.
     *
     * @param value at least 1 ms, at most 7 days
     * @return this builder
     */
    public Builder reapExpiredEvery(Duration value) {
      this.reaperInterval = value;
      this.backgroundReaper = true;
      return this;
    }

    /**
     * Whether a background thread releases expired leases (default {@code true}): the leases of a
     * holder that crashed or was cut off are then freed within the lease duration plus the reaper
     * interval, by whichever pool on the database gets there first. Switch it off only when
     * something else calls {@link MachinePool#reapExpired()}.
     *
     * @param value whether to run the background reaper
     * @return this builder
     */
    public Builder backgroundReaper(boolean value) {
      this.backgroundReaper = value;
      return this;
    }

    /**
     * How much earlier than the lease's expiry a holder is told that its lease may be lost
     * (default: a tenth of the lease duration, at least 100 ms and at most a minute). It covers the
     * database clock running faster than this JVM's between renewals; see {@link Lease} for the
     * guarantee.
     *
     * @param value positive; with the heartbeat interval, shorter than the lease duration
     * @return this builder
     */
    public Builder safetyMargin(Duration value) {
      this.safetyMargin = value;
      return this;
    }

    /**
     * The longest any call spends on the database when it has no deadline of its own (default 30
     * seconds): listing, inventory changes, unlocking, each renewal and reaper pass. Lock requests
     * are bounded by their {@code waitUpTo} or the {@linkplain #contentionTimeout contention
     * timeout}, whichever is longer. Each statement's network timeout is set to the time left.
     *
     * @param value positive
     * @return this builder
     */
    public Builder databaseTimeout(Duration value) {
      this.databaseTimeout = value;
      return this;
    }

    /**
     * Makes the pool's threads (default: the JVM's default thread factory). The pool names them
     * {@code machinepool-<n>-<job>-<k>} and makes them daemons.
     *
     * @param value the factory
     * @return this builder
     */
    public Builder threadFactory(ThreadFactory value) {
      this.threadFactory = Checks.notNull(value, "threadFactory");
      return this;
    }

    /**
     * How long a lock request retries collisions with concurrent requesters before it gives up with
     * a {@link LockContentionException} (default 10 seconds).
     *
     * @param value positive, at most 7 days
     * @return this builder
     */
    public Builder contentionTimeout(Duration value) {
      this.contentionTimeout = value;
      return this;
    }

    /**
     * How long to wait for a VM's SSH server to present its host keys after the VM was created: it
     * is asked again and again, with a growing jittered pause, until this has passed (default 5
     * minutes). A physical machine without stored keys, and every machine of {@link
     * MachinePool#refreshHostKeys}, gets one scan of at most this long.
     *
     * @param value positive, at most 7 days
     * @return this builder
     */
    public Builder sshTimeout(Duration value) {
      this.sshTimeout = value;
      return this;
    }

    /**
     * The longest a request's provisioning may take in all (default 60 minutes: longer than a
     * downburst create retried three times).
     *
     * @param value positive, at most 7 days
     * @return this builder
     */
    public Builder provisionTimeout(Duration value) {
      this.provisionTimeout = value;
      return this;
    }

    /**
     * Prefix of the table names (default {@code machinepool_}), so that several pools can share a
     * database schema.
     *
     * @param value a letter, then letters, digits or underscores; at most 30 characters
     * @return this builder
     */
    public Builder tablePrefix(String value) {
      this.tablePrefix = value;
      return this;
    }

    /**
     * How often a statement that hit a serialization failure or deadlock is tried in all (default
     * 8).
     *
     * @param value 1 to 100
     * @return this builder
     */
    public Builder retryAttempts(int value) {
      this.retryAttempts = value;
      return this;
    }

    /**
     * How many machines are provisioned at once in all (default 16).
     *
     * @param value 1 to 1024
     * @return this builder
     */
    public Builder provisioningThreads(int value) {
      this.provisioningThreads = value;
      return this;
    }

    /**
     * How many VMs are provisioned at once on one VM host (default 4).
     *
     * @param value 1 to 1024
     * @return this builder
     */
    public Builder perVmHostLimit(int value) {
      this.perVmHostLimit = value;
      return this;
    }

    /**
     * After how many provisioning failures in a row a VM slot is marked down, with the last failure
     * as its description, so that it stops being handed out (default 3).
     *
     * @param value 1 to 100
     * @return this builder
     */
    public Builder markDownAfterFailures(int value) {
      this.markDownAfterFailures = value;
      return this;
    }

    /**
     * Whether a JVM shutdown hook releases the open leases (default {@code true}).
     *
     * @param value whether to register the hook
     * @return this builder
     */
    public Builder releaseOnShutdown(boolean value) {
      this.releaseOnShutdown = value;
      return this;
    }

    /**
     * Adds a listener of the pool's events.
     *
     * @param value the listener
     * @return this builder
     */
    public Builder listener(PoolListener value) {
      listeners.add(Checks.notNull(value, "listener"));
      return this;
    }

    /**
     * Validates the configuration, creates or migrates the schema, and starts the heartbeat.
     *
     * @return the pool
     * @throws InvalidRequestException when the configuration is invalid
     * @throws DatabaseException when the database cannot be reached or the schema not created
     * @throws ConfigurationException when the database is an in-memory H2 database that H2 would
     *     drop between two units of work ({@code jdbc:h2:mem:} without a name, or without {@code
     *     DB_CLOSE_DELAY=-1}); the message gives the URL to use
     */
    public MachinePool build() {
      if (dataSource == null) {
        throw new InvalidRequestException(
            "a DataSource is required: MachinePool.builder().dataSource(...), e.g. an H2"
                + " JdbcDataSource for one host or a pooled PostgreSQL data source for a shared lab");
      }
      Checks.lease(leaseDuration, "leaseDuration");
      Checks.positive(contentionTimeout, "contentionTimeout");
      Checks.positive(sshTimeout, "sshTimeout");
      Checks.positive(provisionTimeout, "provisionTimeout");
      if (heartbeatInterval != null) {
        Checks.period(heartbeatInterval, "heartbeatInterval");
        if (heartbeatInterval.compareTo(leaseDuration) >= 0) {
          throw new InvalidRequestException(
              "heartbeatInterval "
                  + heartbeatInterval
                  + " must be shorter than leaseDuration "
                  + leaseDuration
                  + ", or leases expire between heartbeats");
        }
      }
      if (leaseDuration.toMillis() < 300) {
        throw new InvalidRequestException(
            "leaseDuration must be at least 300 ms, was " + leaseDuration);
      }
      if (reaperInterval != null) {
        Checks.period(reaperInterval, "reapExpiredEvery");
      }
      if (safetyMargin != null) {
        Checks.positive(safetyMargin, "safetyMargin");
      }
      Checks.positive(databaseTimeout, "databaseTimeout");
      if (heartbeatInterval().plus(safetyMargin()).compareTo(leaseDuration) >= 0) {
        throw new InvalidRequestException(
            "heartbeatInterval "
                + heartbeatInterval()
                + " plus safetyMargin "
                + safetyMargin()
                + " must be shorter than leaseDuration "
                + leaseDuration
                + ", or a lease is lost before its first renewal");
      }
      range(retryAttempts, 1, 100, "retryAttempts");
      range(provisioningThreads, 1, 1024, "provisioningThreads");
      range(perVmHostLimit, 1, 1024, "perVmHostLimit");
      range(markDownAfterFailures, 1, 100, "markDownAfterFailures");
      Database db =
          Database.connect(dataSource, Checks.notNull(tablePrefix, "tablePrefix"), retryAttempts)
              .withDefaultTimeout(databaseTimeout);
      new Schema(db).migrate();
      return new MachinePool(this, db);
    }

    private static void range(int value, int min, int max, String what) {
      if (value < min || value > max) {
        throw new InvalidRequestException(
            what + " must be " + min + " to " + max + ", was " + value);
      }
    }
  }
}
