package io.machinepool;

/**
 * The caller's lease may no longer hold its machines: it was not renewed within its safe window
 * (the lock database could not be reached in time), or its machines were released or taken over.
 * Another holder may have them now, or soon; stop using them and lock again.
 */
public class LeaseLostException extends LockConflictException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message what happened to the lease, and what to do
   */
  public LeaseLostException(String message) {
    super(message);
  }
}
