package io.machinepool;

/**
 * The database kept reporting conflicts (serialization failures, deadlocks, rows held by concurrent
 * requesters) for longer than the bounded retry budget allows. Nothing was locked; the request may
 * be tried again.
 */
public class LockContentionException extends MachinePoolException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message what went wrong, and what to do about it
   */
  public LockContentionException(String message) {
    super(message);
  }

  /**
   * Creates the exception with its cause.
   *
   * @param message what went wrong, and what to do about it
   * @param cause the underlying failure
   */
  public LockContentionException(String message, Throwable cause) {
    super(message, cause);
  }
}
