package io.machinepool;

/**
 * A call was made on a {@link MachinePool} (or one of its leases) after {@link
 * MachinePool#close()}.
 */
public class PoolClosedException extends MachinePoolException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message what went wrong, and what to do about it
   */
  public PoolClosedException(String message) {
    super(message);
  }

  /**
   * Creates the exception with its cause.
   *
   * @param message what went wrong, and what to do about it
   * @param cause the underlying failure
   */
  public PoolClosedException(String message, Throwable cause) {
    super(message, cause);
  }
}
