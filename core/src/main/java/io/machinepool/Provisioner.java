package io.machinepool;

/**
 * Makes a locked machine ready and cleans it up on unlock. The pool calls it only for machines the
 * caller holds: {@link #provision} right after the database lock, {@link #release} before the
 * database unlock. Physical machines always go to {@link #none()}; VM slots go to the provisioner
 * the pool was built with (downburst in {@code machinepool-provisioning-downburst}).
 *
 * <p>Implementations must be thread-safe: the pool provisions the machines of one request in
 * parallel.
 */
public interface Provisioner {

  /**
   * Checks a request before anything is locked, e.g. that the OS is one the provisioner can install
   * and that every VM host can be reached. Called only when the request may be served by VM slots.
   * The default accepts everything.
   *
   * @param request the lock request
   * @param vmHosts the VM hosts whose slots could serve the request (for a request by name, those
   *     of the named VM slots), sorted; never empty
   * @throws InvalidRequestException when the request cannot be provisioned
   */
  default void validate(LockRequest request, java.util.SortedSet<String> vmHosts) {}

  /**
   * Prepares a machine the caller has just locked, e.g. installs a fresh OS on a VM slot.
   *
   * @param machine the locked machine
   * @param request the request it was locked for (OS, architecture, owner)
   * @return the machine as provisioned: the pool records its {@link Machine#osType()}, {@link
   *     Machine#osVersion()} and {@link Machine#arch()} (e.g. the default OS the provisioner chose)
   * @throws ProvisioningException when the machine could not be prepared
   */
  Machine provision(Machine machine, LockRequest request);

  /**
   * Cleans up a machine the caller still holds, before it is unlocked, e.g. destroys a VM.
   *
   * @param machine the machine
   * @throws ProvisioningException when the clean-up failed; the pool then leaves the machine locked
   *     and marks it down
   */
  void release(Machine machine);

  /**
   * The provisioner of physical machines: does nothing.
   *
   * @return the no-op provisioner
   */
  static Provisioner none() {
    return NoopProvisioner.INSTANCE;
  }
}
