package io.machinepool;

import io.machinepool.internal.Database;
import io.machinepool.internal.JdbcLockStore;
import io.machinepool.internal.Texts;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The provisioning step between the database lock and the returned lease: VM slots are provisioned
 * in parallel (a bounded pool of threads, at most {@code perHostLimit} at once on one VM host),
 * then every machine whose host keys are needed is scanned and its keys stored: a VM over and over
 * until its SSH server answers (a jittered pause between attempts, at most {@code sshTimeout} in
 * all), a physical machine without stored keys once.
 */
final class Provisioning {
  private static final Logger log = LoggerFactory.getLogger(Provisioning.class);

  private final Provisioner vmProvisioner;
  private final JdbcLockStore locks;
  private final int markDownAfterFailures;
  private final HostKeyScanner scanner;
  private final HostKeyStore hostKeys;
  private final Listeners listeners;
  private final ExecutorService executor;
  private final int perHostLimit;
  private final Duration sshTimeout;
  private final Duration provisionTimeout;
  private final Map<String, Semaphore> hostSlots = new ConcurrentHashMap<>();

  /** The first pause between two attempts to reach a machine's SSH server. */
  static final Duration FIRST_PAUSE = Duration.ofMillis(250);

  /** The longest pause between two attempts to reach a machine's SSH server. */
  static final Duration LONGEST_PAUSE = Duration.ofSeconds(5);

  /** How long past its own timeout a scan running on a worker is waited for. */
  private static final Duration WORKER_GRACE = Duration.ofSeconds(5);

  Provisioning(
      Provisioner vmProvisioner,
      JdbcLockStore locks,
      int markDownAfterFailures,
      HostKeyScanner scanner,
      HostKeyStore hostKeys,
      Listeners listeners,
      ExecutorService executor,
      int perHostLimit,
      Duration sshTimeout,
      Duration provisionTimeout) {
    this.vmProvisioner = vmProvisioner;
    this.locks = locks;
    this.markDownAfterFailures = markDownAfterFailures;
    this.scanner = scanner;
    this.hostKeys = hostKeys;
    this.listeners = listeners;
    this.executor = executor;
    this.perHostLimit = perHostLimit;
    this.sshTimeout = sshTimeout;
    this.provisionTimeout = provisionTimeout;
  }

  /**
   * Checks a request against the VM provisioner before anything is locked.
   *
   * @param request the request
   * @param vmHosts finds the VM hosts whose slots could serve it; asked only when a VM provisioner
   *     is configured
   */
  void validate(LockRequest request, Function<LockRequest, SortedSet<String>> vmHosts) {
    if (vmProvisioner != null) {
      SortedSet<String> hosts = vmHosts.apply(request);
      if (!hosts.isEmpty()) {
        vmProvisioner.validate(request, hosts);
      }
    }
  }

  /** Whether any machine of these needs work after the lock. */
  boolean needsWork(List<Machine> machines) {
    return machines.stream()
        .anyMatch(m -> m.isVirtual() || (scanner != null && m.hostKeys().isEmpty()));
  }

  /**
   * Prepares the machines of a new lease.
   *
   * @return the machines with their host keys now
   * @throws ProvisioningException naming every machine that failed
   */
  List<Machine> prepare(List<Machine> machines, LockRequest request) {
    return inParallel(
        machines,
        machine -> prepareOne(machine, request),
        provisionTimeout,
        "not ready after " + provisionTimeout.toSeconds() + " s");
  }

  /** Work on one machine that may wait. */
  @FunctionalInterface
  private interface MachineWork {
    Machine apply(Machine machine) throws InterruptedException;
  }

  /**
   * Runs work on every machine at once on the executor and waits for all of it, at most {@code
   * timeout} in all; work still running then is cancelled.
   *
   * @return the results, in the order of the machines
   * @throws ProvisioningException naming every machine whose work failed or did not finish
   */
  private List<Machine> inParallel(
      List<Machine> machines, MachineWork work, Duration timeout, String timedOut) {
    List<Future<Machine>> futures = new ArrayList<>();
    for (Machine machine : machines) {
      futures.add(executor.submit(() -> work.apply(machine)));
    }
    List<Machine> done = new ArrayList<>();
    List<ProvisioningException.Failure> failures = new ArrayList<>();
    Throwable firstCause = null;
    long deadline = System.nanoTime() + timeout.toNanos();
    for (int i = 0; i < futures.size(); i++) {
      Machine machine = machines.get(i);
      try {
        done.add(
            futures.get(i).get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS));
      } catch (ExecutionException e) {
        Throwable cause = e.getCause();
        firstCause = firstCause == null ? cause : firstCause;
        failures.addAll(failuresOf(machine, cause));
      } catch (TimeoutException e) {
        futures.get(i).cancel(true);
        failures.add(ProvisioningException.Failure.of(machine.name(), timedOut, null, null));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        futures.forEach(f -> f.cancel(true));
        failures.add(ProvisioningException.Failure.of(machine.name(), "interrupted", null, null));
        break;
      }
    }
    if (!failures.isEmpty()) {
      throw new ProvisioningException(failures, firstCause);
    }
    return done;
  }

  private static List<ProvisioningException.Failure> failuresOf(Machine machine, Throwable cause) {
    if (cause instanceof ProvisioningException p) {
      return p.failures();
    }
    return List.of(
        ProvisioningException.Failure.of(machine.name(), String.valueOf(cause), null, null));
  }

  private Machine prepareOne(Machine machine, LockRequest request) throws InterruptedException {
    Machine current = machine;
    if (machine.isVirtual()) {
      current = scan(provisionVm(machine, request), true);
    } else if (scanner != null && machine.hostKeys().isEmpty()) {
      current = scan(machine, false);
    }
    return current;
  }

  private Machine provisionVm(Machine machine, LockRequest request) throws InterruptedException {
    if (vmProvisioner == null) {
      throw new ProvisioningException(
          machine.name(),
          "it is a VM slot on "
              + machine.vpsHost()
              + ", but the pool has no provisioner for VM slots; build the pool with"
              + " .provisioner(...), e.g. a DownburstProvisioner",
          null,
          null,
          null);
    }
    Semaphore slots =
        hostSlots.computeIfAbsent(machine.vpsHost(), h -> new Semaphore(perHostLimit));
    if (!slots.tryAcquire(provisionTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new ProvisioningException(
          machine.name(), "no provisioning slot free on " + machine.vpsHost(), null, null, null);
    }
    long started = System.nanoTime();
    try {
      locks.clearOs(machine.name(), machine.generation());
      listeners.provisioningStarted(machine);
      Machine done = vmProvisioner.provision(machine, request);
      if (done == null || !done.name().equals(machine.name())) {
        throw new IllegalStateException(
            vmProvisioner + " returned " + done + " for " + machine.name());
      }
      Machine provisioned = machine.withOs(done.osType(), done.osVersion(), done.arch());
      locks.recordProvisioned(provisioned);
      listeners.provisioningFinished(provisioned, Duration.ofNanos(System.nanoTime() - started));
      return provisioned;
    } catch (RuntimeException e) {
      recordFailure(machine, e);
      listeners.provisioningFailed(machine, e);
      throw e;
    } finally {
      slots.release();
    }
  }

  private void recordFailure(Machine machine, RuntimeException failure) {
    try {
      String reason =
          "marked down after "
              + markDownAfterFailures
              + " provisioning failures in a row; the last: "
              + Texts.abbreviate(firstLine(failure.getMessage()), MAX_REASON);
      if (locks.recordProvisioningFailure(
          machine.name(),
          machine.generation(),
          markDownAfterFailures,
          Texts.storable(reason, Checks.MAX_DESCRIPTION))) {
        log.warn("{} {}", machine.name(), reason);
      }
    } catch (RuntimeException e) {
      failure.addSuppressed(e);
    }
  }

  /**
   * How long the failure a machine is marked down with may be: enough for a tool's last error line,
   * short enough for a listing (its tail is in the exception, not in the database).
   */
  static final int MAX_REASON = 300;

  /** The first line of a text: what a reason stored in the database keeps. */
  static String firstLine(String text) {
    if (text == null) {
      return "";
    }
    int newline = text.indexOf('\n');
    return (newline < 0 ? text : text.substring(0, newline)).strip();
  }

  private Machine scan(Machine machine, boolean required) {
    if (scanner == null) {
      return machine.isVirtual() ? machine.withHostKeys(List.of()) : machine;
    }
    try {
      List<HostKey> keys = required ? waitForKeys(machine) : scanOnce(machine);
      return store(machine, keys);
    } catch (RuntimeException e) {
      if (required) {
        throw e;
      }
      log.warn("{} is locked without host keys: {}", machine.name(), e.getMessage());
      return machine;
    }
  }

  private Machine store(Machine machine, List<HostKey> keys) {
    hostKeys.replace(machine.name(), keys);
    listeners.hostKeysScanned(machine, keys);
    return machine.withHostKeys(keys);
  }

  /** One scan of a machine, under the SSH timeout. */
  private List<HostKey> scanOnce(Machine machine) {
    return checked(machine, scanner.scan(machine.name(), port(machine), sshTimeout));
  }

  /**
   * Scans a machine that is still coming up (a VM after its create) until its SSH server presents
   * keys: each attempt gets the time left, failed attempts are retried after a jittered pause that
   * grows from {@link #FIRST_PAUSE} to {@link #LONGEST_PAUSE}, until {@code sshTimeout} has passed.
   *
   * @throws ProvisioningException with the last attempt's failure when the deadline passes
   */
  private List<HostKey> waitForKeys(Machine machine) {
    long started = System.nanoTime();
    long deadline = started + sshTimeout.toNanos();
    int port = port(machine);
    RuntimeException failure = null;
    for (int attempt = 1; ; attempt++) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw notAnswering(machine, port, attempt - 1, failure);
      }
      try {
        List<HostKey> keys =
            checked(machine, scanner.scan(machine.name(), port, Duration.ofNanos(left)));
        if (attempt > 1) {
          log.debug(
              "{} answered on SSH after {} attempts, {} ms",
              machine.name(),
              attempt,
              Duration.ofNanos(System.nanoTime() - started).toMillis());
        }
        return keys;
      } catch (InvalidRequestException e) {
        throw e;
      } catch (RuntimeException e) {
        failure = e;
      }
      Duration pause = Database.Backoff.jittered(FIRST_PAUSE, attempt, LONGEST_PAUSE);
      if (System.nanoTime() + pause.toNanos() >= deadline) {
        throw notAnswering(machine, port, attempt, failure);
      }
      log.debug(
          "{} not answering on SSH yet (attempt {}): {}; trying again in {} ms",
          machine.name(),
          attempt,
          failure.getMessage(),
          pause.toMillis());
      Database.Backoff.sleep(pause);
    }
  }

  private ProvisioningException notAnswering(
      Machine machine, int port, int attempts, RuntimeException last) {
    return new ProvisioningException(
        machine.name(),
        "SSH on port "
            + port
            + " did not present host keys within "
            + sshTimeout.toSeconds()
            + " s ("
            + attempts
            + (attempts == 1 ? " attempt" : " attempts")
            + ")"
            + (last == null ? "" : "; the last: " + last.getMessage()),
        null,
        null,
        last);
  }

  private List<HostKey> checked(Machine machine, List<HostKey> keys) {
    if (keys == null || keys.isEmpty()) {
      throw new ProvisioningException(
          machine.name(), scanner + " found no host keys", null, null, null);
    }
    return keys;
  }

  private static int port(Machine machine) {
    return machine.sshPort() == null ? 22 : machine.sshPort();
  }

  /**
   * Scans the given machines now, in parallel, and stores the keys of each one that answered (what
   * teuthology's {@code updatekeys} does). A machine that does not answer keeps its stored keys.
   *
   * @param machines the machines
   * @return the machines with their keys now, sorted by name
   * @throws InvalidRequestException when the pool has no host key scanner
   * @throws ProvisioningException naming every machine that could not be scanned, after the keys of
   *     the others were stored
   */
  List<Machine> refresh(List<Machine> machines) {
    requireScanner();
    List<Machine> refreshed =
        new ArrayList<>(
            inParallel(
                machines,
                machine -> store(machine, scanOnce(machine)),
                sshTimeout.plus(WORKER_GRACE),
                "no answer within " + sshTimeout.toSeconds() + " s"));
    refreshed.sort(java.util.Comparator.comparing(Machine::name));
    return refreshed;
  }

  /** Whether this pool can scan host keys at all. */
  boolean canScan() {
    return scanner != null;
  }

  /**
   * Fails unless this pool can scan host keys.
   *
   * @throws InvalidRequestException when it has no scanner
   */
  void requireScanner() {
    if (scanner == null) {
      throw new InvalidRequestException(
          "this pool has no host key scanner: build it with .hostKeyScanner(...), e.g. a"
              + " JschHostKeyScanner, to scan host keys");
    }
  }

  /**
   * Whether this pool can clean up a machine: physical machines need nothing, VM slots need the VM
   * provisioner.
   */
  boolean canRelease(Machine machine) {
    return !machine.isVirtual() || vmProvisioner != null;
  }

  /**
   * Cleans up a VM before it is unlocked: destroys it and forgets its keys. Without a VM
   * provisioner this pool cannot have created a VM, so there is nothing to destroy.
   *
   * @throws ProvisioningException when destroying failed
   */
  void release(Machine machine) {
    if (!machine.isVirtual() || vmProvisioner == null) {
      return;
    }
    vmProvisioner.release(machine);
    hostKeys.forget(machine.name());
  }
}
