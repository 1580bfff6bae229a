package io.machinepool;

/**
 * A lock or unlock was refused by the locking rules: the machine is locked by another owner, is not
 * locked at all, the description does not match, or the caller's lease was lost (it expired and the
 * machine was locked again since). Nothing was changed.
 */
public class LockConflictException extends MachinePoolException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message what went wrong, and what to do about it
   */
  public LockConflictException(String message) {
    super(message);
  }

  /**
   * Creates the exception with its cause.
   *
   * @param message what went wrong, and what to do about it
   * @param cause the underlying failure
   */
  public LockConflictException(String message, Throwable cause) {
    super(message, cause);
  }
}
