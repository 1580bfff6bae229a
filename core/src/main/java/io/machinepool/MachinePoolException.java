package io.machinepool;

/**
 * Root of every exception machinepool throws. All of them are unchecked and carry a message that
 * says what went wrong and what to do about it.
 */
public class MachinePoolException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates an exception with a message a person can act on.
   *
   * @param message what went wrong, and what to do about it
   */
  public MachinePoolException(String message) {
    super(message);
  }

  /**
   * Creates an exception with a message a person can act on and its cause.
   *
   * @param message what went wrong, and what to do about it
   * @param cause the underlying failure
   */
  public MachinePoolException(String message, Throwable cause) {
    super(message, cause);
  }
}
