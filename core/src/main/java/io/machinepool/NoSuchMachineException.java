package io.machinepool;

/** A machine named in a request is not in the inventory. Nothing was changed. */
public class NoSuchMachineException extends MachinePoolException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message what went wrong, and what to do about it
   */
  public NoSuchMachineException(String message) {
    super(message);
  }

  /**
   * Creates the exception with its cause.
   *
   * @param message what went wrong, and what to do about it
   * @param cause the underlying failure
   */
  public NoSuchMachineException(String message, Throwable cause) {
    super(message, cause);
  }
}
