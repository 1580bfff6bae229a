package io.machinepool;

/**
 * The lock database could not be reached or failed a statement for a reason other than the locking
 * rules: the connection was refused, the schema is missing a privilege, the server went away. The
 * message names the SQL state; the operation changed nothing that was not rolled back.
 */
public class DatabaseException extends MachinePoolException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message what went wrong, and what to do about it
   */
  public DatabaseException(String message) {
    super(message);
  }

  /**
   * Creates the exception with its cause.
   *
   * @param message what went wrong, and what to do about it
   * @param cause the underlying failure
   */
  public DatabaseException(String message, Throwable cause) {
    super(message, cause);
  }
}
