package io.machinepool;

import java.time.Duration;
import java.util.List;

/**
 * Hears what a pool does, for a progress display, a log or a metrics registry. Every method has an
 * empty default; a listener overrides what it needs. Listeners are called on the thread doing the
 * work (provisioning runs on several threads at once), must be quick and must not throw: an
 * exception from a listener is logged and otherwise ignored.
 */
public interface PoolListener {

  /**
   * Machines were locked in the database; provisioning, if any, comes next.
   *
   * @param lease the new lease
   */
  default void locked(Lease lease) {}

  /**
   * A machine's provisioning started.
   *
   * @param machine the machine
   */
  default void provisioningStarted(Machine machine) {}

  /**
   * A machine was provisioned.
   *
   * @param machine the machine
   * @param took how long it took
   */
  default void provisioningFinished(Machine machine, Duration took) {}

  /**
   * A machine failed to provision.
   *
   * @param machine the machine
   * @param failure why
   */
  default void provisioningFailed(Machine machine, Throwable failure) {}

  /**
   * A machine's host keys were scanned and stored.
   *
   * @param machine the machine
   * @param keys its keys now
   */
  default void hostKeysScanned(Machine machine, List<HostKey> keys) {}

  /**
   * A request joined the queue of requests waiting for machines, because what it asks for is not
   * free (or is held back for requests ahead of it). Called on the thread that asked, once the
   * database holds its place; {@link #locked} follows when it is served.
   *
   * @param request the request
   */
  default void waiting(LockRequest request) {}

  /**
   * A machine was unlocked (after its clean-up, if any).
   *
   * @param machine the machine as it was while locked
   */
  default void released(Machine machine) {}

  /**
   * A lease expired: its heartbeat found it taken over or gone, or the reaper released it.
   *
   * @param token the lease's token
   * @param machines the machines it held
   */
  default void leaseExpired(String token, List<String> machines) {}

  /**
   * A lease this pool holds may no longer be safe to use: it was not renewed within its safe
   * window, or its machines were found released or taken over. Called once per lease — on the
   * pool's watchdog or renewer thread, or on the thread whose call on the lease found it lost first
   * — before the database can let anyone else lock the machines (when the lease ran out of time) or
   * right after it was found taken over. {@link #leaseExpired} follows.
   *
   * @param lease the lease, now {@linkplain Lease#isLost() lost}
   * @param reason why, for people
   */
  default void leaseLost(Lease lease, String reason) {}
}
