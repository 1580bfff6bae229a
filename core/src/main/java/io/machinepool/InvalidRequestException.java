package io.machinepool;

/**
 * A request was malformed: a blank owner, a count below one, an unknown machine type, a name with
 * characters outside {@code [A-Za-z0-9._@:-]}, a null argument. Nothing was changed.
 */
public class InvalidRequestException extends MachinePoolException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message what went wrong, and what to do about it
   */
  public InvalidRequestException(String message) {
    super(message);
  }

  /**
   * Creates the exception with its cause.
   *
   * @param message what went wrong, and what to do about it
   * @param cause the underlying failure
   */
  public InvalidRequestException(String message, Throwable cause) {
    super(message, cause);
  }
}
