package io.machinepool;

/**
 * Fewer machines of the requested type(s) are up and free, in committed state, than were requested.
 * Nothing was locked. Concurrent requesters colliding never produce this exception: such collisions
 * are retried.
 */
public class NotEnoughMachinesException extends MachinePoolException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message what went wrong, and what to do about it
   */
  public NotEnoughMachinesException(String message) {
    super(message);
  }

  /**
   * Creates the exception with its cause.
   *
   * @param message what went wrong, and what to do about it
   * @param cause the underlying failure
   */
  public NotEnoughMachinesException(String message, Throwable cause) {
    super(message, cause);
  }
}
