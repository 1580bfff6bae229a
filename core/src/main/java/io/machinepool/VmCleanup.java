package io.machinepool;

import io.machinepool.internal.JdbcLockStore;
import io.machinepool.internal.Texts;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Destroys the VMs of machines that the caller holds, in parallel on the provisioning threads, each
 * within the provisioning timeout. A destroy that fails or does not finish leaves its machine
 * locked and marked down with the reason, only while the caller still holds it at the generation it
 * locked: a VM that may still use its host must not be handed out again.
 */
final class VmCleanup {
  private static final Logger log = LoggerFactory.getLogger(VmCleanup.class);

  private final Provisioning provisioning;
  private final JdbcLockStore locks;
  private final ExecutorService workers;
  private final Duration timeout;

  VmCleanup(
      Provisioning provisioning, JdbcLockStore locks, ExecutorService workers, Duration timeout) {
    this.provisioning = provisioning;
    this.locks = locks;
    this.workers = workers;
    this.timeout = timeout;
  }

  /** Destroys a VM the caller holds, on this thread; on failure marks it down and throws. */
  void destroy(Machine machine) {
    try {
      provisioning.release(machine);
    } catch (RuntimeException e) {
      ProvisioningException failure =
          e instanceof ProvisioningException p
              ? p
              : new ProvisioningException(machine.name(), "destroy failed: " + e, null, null, e);
      markDown(
          machine,
          "destroy failed, VM may still use its host: "
              + Texts.abbreviate(
                  Provisioning.firstLine(failure.getMessage()), Provisioning.MAX_REASON));
      log.error("{} stays locked and is marked down: {}", machine.name(), failure.getMessage());
      if (log.isDebugEnabled()) {
        failure.failures().stream()
            .filter(f -> !f.stderrTail().isBlank())
            .forEach(f -> log.debug("{}: stderr ends with:\n{}", f.machine(), f.stderrTail()));
      }
      throw failure;
    }
  }

  /**
   * Destroys the VMs of machines in parallel and waits for them all.
   *
   * @param machines the machines to destroy, all held by the caller
   * @return the failure of each machine whose VM may still exist; empty when all are gone
   */
  Map<Machine, ProvisioningException> destroyAll(List<Machine> machines) {
    Map<Machine, Future<?>> destroys = new LinkedHashMap<>();
    for (Machine machine : machines) {
      destroys.put(machine, inBackground(machine));
    }
    Map<Machine, ProvisioningException> failures = new LinkedHashMap<>();
    destroys.forEach(
        (machine, destroy) -> {
          ProvisioningException failure = await(machine, destroy);
          if (failure != null) {
            failures.put(machine, failure);
          }
        });
    return failures;
  }

  private Future<?> inBackground(Machine machine) {
    try {
      return workers.submit(() -> destroy(machine));
    } catch (RejectedExecutionException e) {
      // the pool is closing: destroy on this thread instead
      FutureTask<Void> inline = new FutureTask<>(() -> destroy(machine), null);
      inline.run();
      return inline;
    }
  }

  private ProvisioningException await(Machine machine, Future<?> destroy) {
    try {
      destroy.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      return null;
    } catch (ExecutionException e) {
      return e.getCause() instanceof ProvisioningException p
          ? p
          : new ProvisioningException(
              machine.name(), "destroy failed: " + e.getCause(), null, null, e);
    } catch (TimeoutException e) {
      destroy.cancel(true);
      String reason = "destroy did not finish within " + timeout;
      markDown(machine, reason + ", VM may still use its host");
      return new ProvisioningException(machine.name(), reason, null, null, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new ProvisioningException(
          machine.name(), "interrupted while destroying", null, null, e);
    }
  }

  private void markDown(Machine machine, String reason) {
    try {
      locks.markDownIfHeld(
          machine.name(), machine.generation(), Texts.storable(reason, Checks.MAX_DESCRIPTION));
    } catch (RuntimeException e) {
      log.warn("could not mark {} down ({}): {}", machine.name(), reason, e.getMessage());
    }
  }
}
