package io.machinepool;

import io.machinepool.internal.Database;
import io.machinepool.internal.JdbcHostKeyStore;
import io.machinepool.internal.JdbcInventory;
import io.machinepool.internal.JdbcLockStore;
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
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
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
  private static final AtomicInteger POOLS = new AtomicInteger();

  private final JdbcLockStore locks;
  private final JdbcInventory rows;
  private final Inventory inventory;
  private final HostKeyStore hostKeys;
  private final Provisioning provisioning;
  private final Listeners listeners;
  private final Duration leaseDuration;
  private final Duration contentionTimeout;
  private final Duration provisionTimeout;
  private final ScheduledExecutorService scheduler;
  private final ExecutorService workers;
  private final Map<String, Lease> openLeases = new ConcurrentHashMap<>();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final Thread shutdownHook;

  private MachinePool(Builder b, Database db) {
    this.locks = new JdbcLockStore(db);
    this.rows = new JdbcInventory(db);
    this.inventory = new Inventory(rows, this);
    this.hostKeys =
        new CheckedHostKeyStore(b.hostKeyStore != null ? b.hostKeyStore : new JdbcHostKeyStore(db));
    this.listeners = new Listeners(b.listeners);
    this.leaseDuration = b.leaseDuration;
    this.contentionTimeout = b.contentionTimeout;
    this.provisionTimeout = b.provisionTimeout;
    int id = POOLS.incrementAndGet();
    this.scheduler =
        Executors.newSingleThreadScheduledExecutor(daemon("machinepool-" + id + "-heartbeat"));
    this.workers =
        Executors.newFixedThreadPool(
            b.provisioningThreads, daemon("machinepool-" + id + "-provision"));
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
    Duration beat = b.heartbeatInterval != null ? b.heartbeatInterval : leaseDuration.dividedBy(3);
    scheduler.scheduleWithFixedDelay(
        this::heartbeat, beat.toMillis(), beat.toMillis(), TimeUnit.MILLISECONDS);
    if (b.reaperInterval != null) {
      scheduler.scheduleWithFixedDelay(
          this::backgroundReap,
          b.reaperInterval.toMillis(),
          b.reaperInterval.toMillis(),
          TimeUnit.MILLISECONDS);
    }
    if (b.releaseOnShutdown) {
      shutdownHook = new Thread(this::releaseOpenLeases, "machinepool-" + id + "-shutdown");
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
   * @param request what to lock
   * @return the open lease; close it to unlock
   * @throws InvalidRequestException when the request cannot be served as asked, e.g. it asks for
   *     more machines than the inventory has of its types
   * @throws NoSuchMachineException when a named machine does not exist
   * @throws LockConflictException when a named machine is locked by someone else, or by the same
   *     owner in a way that a re-lock may not return
   * @throws NotEnoughMachinesException when too few machines are free, also after {@code waitUpTo}
   * @throws ProvisioningException when a machine could not be prepared
   */
  public Lease lock(LockRequest request) {
    checkOpen();
    Checks.notNull(request, "lock request");
    provisioning.validate(request, rows::vmHosts);
    String token = UUID.randomUUID().toString();
    Duration lease = request.keepUntilUnlocked() ? null : leaseDuration;
    JdbcLockStore.Acquired acquired = acquire(request, token, lease);
    if (!token.equals(acquired.token())) {
      // The re-lock of a lock kept until unlocked (DESIGN §5.2): that lock, as it is, without a
      // second provisioning of its VMs; both handles name it.
      log.info(
          "{} already locked for {} ({}) until unlocked: the same lock, nothing changed",
          Texts.list(acquired.machines().stream().map(Machine::name).toList()),
          request.owner(),
          request.description());
      return new Lease(this, acquired.token(), request, acquired.machines(), null);
    }
    Lease held = new Lease(this, token, request, acquired.machines(), acquired.expiresAt());
    if (!request.keepUntilUnlocked()) {
      openLeases.put(token, held);
    }
    listeners.locked(held);
    if (provisioning.needsWork(held.machines())) {
      try {
        held.machines(provisioning.prepare(held.machines(), request));
      } catch (ProvisioningException e) {
        log.warn("provisioning failed, releasing {}: {}", held.names(), e.getMessage());
        try {
          held.close();
        } catch (RuntimeException cleanup) {
          e.addSuppressed(cleanup);
        }
        throw e;
      }
    }
    if (log.isInfoEnabled()) {
      log.info(
          "locked {} for {}{}: {}",
          describeCount(held.machines()),
          request.owner(),
          request.description() == null ? "" : " (" + request.description() + ")",
          String.join(", ", held.names()));
    }
    return held;
  }

  private JdbcLockStore.Acquired acquire(LockRequest request, String token, Duration lease) {
    long deadline = System.nanoTime() + request.waitUpTo().toNanos();
    for (int attempt = 1; ; attempt++) {
      try {
        return request.byName()
            ? locks.lockNames(request, token, lease, contentionTimeout)
            : locks.lockMany(request, token, lease, contentionTimeout);
      } catch (NotEnoughMachinesException e) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw e;
        }
        Duration pause =
            Database.Backoff.jittered(Duration.ofMillis(100), attempt, Duration.ofSeconds(2));
        log.debug("{}; waiting {} ms before trying again", e.getMessage(), pause.toMillis());
        Database.Backoff.sleep(pause.toNanos() < left ? pause : Duration.ofNanos(left));
      }
      checkOpen();
    }
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
    cleanUp(machine);
    if (!locks.unlockGeneration(name, owner, machine.generation())) {
      throw new LockConflictException(
          name + " changed hands while it was being unlocked; check its state and try again");
    }
    listeners.released(machine);
    log.info("unlocked {} for {}", name, owner);
  }

  private static NoSuchMachineException notFound(String name) {
    return new NoSuchMachineException(
        "no machine named " + name + " in the inventory; add it with inventory().add(...)");
  }

  /** Destroys a VM the caller holds at the machine's generation; on failure marks it down. */
  private void cleanUp(Machine machine) {
    try {
      provisioning.release(machine);
    } catch (RuntimeException e) {
      ProvisioningException failure =
          e instanceof ProvisioningException p
              ? p
              : new ProvisioningException(machine.name(), "destroy failed: " + e, null, null, e);
      String reason = "destroy failed, VM may still use its host: " + failure.getMessage();
      locks.markDownIfHeld(
          machine.name(), machine.generation(), Texts.storable(reason, Checks.MAX_DESCRIPTION));
      log.error("{} stays locked and is marked down: {}", machine.name(), failure.getMessage());
      throw failure;
    }
  }

  /** Destroys a VM on a worker thread, so that the VMs of one lease are destroyed in parallel. */
  private Future<?> destroyInBackground(Machine machine) {
    try {
      return workers.submit(() -> cleanUp(machine));
    } catch (RejectedExecutionException e) {
      // the pool is closing: destroy on this thread instead
      FutureTask<Void> inline = new FutureTask<>(() -> cleanUp(machine), null);
      inline.run();
      return inline;
    }
  }

  /** Waits for a destroy; returns its failure, or {@code null} when the VM is gone. */
  private ProvisioningException awaitDestroy(Machine machine, Future<?> destroy) {
    try {
      destroy.get(provisionTimeout.toMillis(), TimeUnit.MILLISECONDS);
      return null;
    } catch (ExecutionException e) {
      return e.getCause() instanceof ProvisioningException p
          ? p
          : new ProvisioningException(
              machine.name(), "destroy failed: " + e.getCause(), null, null, e);
    } catch (TimeoutException e) {
      destroy.cancel(true);
      String reason = "destroy did not finish within " + provisionTimeout;
      locks.markDownIfHeld(
          machine.name(), machine.generation(), reason + ", VM may still use its host");
      return new ProvisioningException(machine.name(), reason, null, null, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new ProvisioningException(
          machine.name(), "interrupted while destroying", null, null, e);
    }
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
    log.info("refreshed the host keys of {}", String.join(", ", wanted));
    return refreshed;
  }

  /**
   * Counts of machines by type and owner.
   *
   * @return the summary
   */
  public Summary summary() {
    checkOpen();
    return rows.summary();
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
   * Releases every lease whose holder stopped renewing it, destroying VMs first.
   *
   * @return the machines released
   */
  public List<Machine> reapExpired() {
    checkOpen();
    List<Machine> released = new ArrayList<>();
    for (JdbcLockStore.ExpiredLease expired : locks.expired()) {
      String reaper = UUID.randomUUID().toString();
      List<Machine> claimed = locks.claimExpired(expired.token(), reaper, leaseDuration);
      if (claimed.isEmpty()) {
        continue; // renewed or reaped by someone else meanwhile
      }
      List<String> names = claimed.stream().map(Machine::name).toList();
      Lease local = openLeases.remove(expired.token());
      if (local != null) {
        local.markLost();
      }
      listeners.leaseExpired(expired.token(), names);
      List<String> unlock = new ArrayList<>();
      for (Machine machine : claimed) {
        try {
          cleanUp(machine);
          unlock.add(machine.name());
        } catch (ProvisioningException e) {
          log.error("reaper could not destroy {}: {}", machine.name(), e.getMessage());
        }
      }
      locks.unlock(reaper, unlock);
      claimed.stream()
          .filter(m -> unlock.contains(m.name()))
          .forEach(
              m -> {
                released.add(m);
                listeners.released(m);
              });
      log.info(
          "reaped expired lease of {} ({}): {}",
          claimed.get(0).lockedBy(),
          expired.token(),
          String.join(", ", unlock));
    }
    return released;
  }

  private void backgroundReap() {
    try {
      reapExpired();
    } catch (RuntimeException e) {
      log.warn("background reaper failed, will try again: {}", e.getMessage());
    }
  }

  private void heartbeat() {
    for (Lease lease : openLeases.values()) {
      try {
        renewQuietly(lease);
      } catch (RuntimeException e) {
        log.warn("heartbeat of lease {} failed, will try again: {}", lease.token(), e.getMessage());
      }
    }
  }

  private boolean renewQuietly(Lease lease) {
    var expires = locks.renew(lease.token(), leaseDuration);
    if (expires == null) {
      if (lease.markLost()) {
        openLeases.remove(lease.token());
        log.warn(
            "lease {} of {} was lost: its machines were released or taken over",
            lease.token(),
            lease.names());
        listeners.leaseExpired(lease.token(), lease.names());
      }
      return false;
    }
    lease.expiresAt(expires);
    return true;
  }

  void renew(Lease lease) {
    checkOpen();
    if (lease.request().keepUntilUnlocked()) {
      return; // no expiry to extend
    }
    if (!lease.isOpen() || !renewQuietly(lease)) {
      throw new LockConflictException(
          "lease "
              + lease.token()
              + " on "
              + lease.names()
              + " is "
              + lease.state().name().toLowerCase(java.util.Locale.ROOT)
              + "; lock the machines again");
    }
  }

  void release(Lease lease) {
    openLeases.remove(lease.token());
    List<String> unlock = new ArrayList<>();
    List<ProvisioningException.Failure> failures = new ArrayList<>();
    Map<Machine, Future<?>> destroys = new LinkedHashMap<>();
    for (Machine machine : lease.machines()) {
      if (!machine.isVirtual()) {
        unlock.add(machine.name());
      } else if (!locks.holds(machine.name(), lease.token())) {
        log.warn(
            "{} is no longer held by lease {} (it expired, or was taken over): not destroying it;"
                + " an expired lease is the reaper's to clean up",
            machine.name(),
            lease.token());
      } else {
        destroys.put(machine, destroyInBackground(machine));
      }
    }
    destroys.forEach(
        (machine, destroy) -> {
          ProvisioningException failure = awaitDestroy(machine, destroy);
          if (failure == null) {
            unlock.add(machine.name());
          } else {
            failures.addAll(failure.failures());
          }
        });
    int count = locks.unlock(lease.token(), unlock);
    if (count < unlock.size()) {
      log.info(
          "lease {} still held {} of its {} machines when it was closed; the others had been"
              + " unlocked by their owner or taken over after the lease expired",
          lease.token(),
          count,
          unlock.size());
    }
    lease.machines().stream().filter(m -> unlock.contains(m.name())).forEach(listeners::released);
    if (log.isInfoEnabled()) {
      log.info(
          "unlocked {} for {}: {}",
          describeCount(lease.machines()),
          lease.owner(),
          String.join(", ", unlock));
    }
    if (!failures.isEmpty()) {
      throw new ProvisioningException(failures, null);
    }
  }

  private void releaseOpenLeases() {
    for (Lease lease : List.copyOf(openLeases.values())) {
      try {
        lease.close();
      } catch (RuntimeException e) {
        log.error(
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
    scheduler.shutdownNow();
    releaseOpenLeases();
    workers.shutdownNow();
    try {
      workers.awaitTermination(10, TimeUnit.SECONDS);
      scheduler.awaitTermination(10, TimeUnit.SECONDS);
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

  private static ThreadFactory daemon(String name) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, name + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
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
    private final List<PoolListener> listeners = new ArrayList<>();

    private Builder() {}

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
     * @param value at least 300 ms, at most 7 days
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
     * Runs {@link MachinePool#reapExpired()} in the background this often (default: never).
     *
     * @param value at least 1 ms, at most 7 days
     * @return this builder
     */
    public Builder reapExpiredEvery(Duration value) {
      this.reaperInterval = value;
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
     */
    public MachinePool build() {
      if (dataSource == null) {
        throw new InvalidRequestException(
            "a DataSource is required: MachinePool.builder().dataSource(...), e.g. an H2"
                + " JdbcDataSource for one host or a pooled PostgreSQL data source for a shared lab");
      }
      Checks.positive(leaseDuration, "leaseDuration");
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
      range(retryAttempts, 1, 100, "retryAttempts");
      range(provisioningThreads, 1, 1024, "provisioningThreads");
      range(perVmHostLimit, 1, 1024, "perVmHostLimit");
      range(markDownAfterFailures, 1, 100, "markDownAfterFailures");
      Database db =
          Database.connect(dataSource, Checks.notNull(tablePrefix, "tablePrefix"), retryAttempts);
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
