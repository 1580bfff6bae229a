package io.machinepool;

/**
 * A configuration file could not be used: it is malformed YAML, or a key has a value of the wrong
 * kind. The message names the file and, where known, the line.
 */
public class ConfigurationException extends MachinePoolException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message what is wrong, naming the file and line
   */
  public ConfigurationException(String message) {
    super(message);
  }

  /**
   * Creates the exception with its cause.
   *
   * @param message what is wrong, naming the file and line
   * @param cause the parser's failure
   */
  public ConfigurationException(String message, Throwable cause) {
    super(message, cause);
  }
}
