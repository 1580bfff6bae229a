package io.machinepool.examples.cli;

/**
 * The command line, or a file it names, cannot be used as given, or the lock database cannot be
 * opened: the tool prints the message and exits with status 1 before anything in the lock database
 * changes.
 */
final class UsageException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  UsageException(String message) {
    super(message);
  }
}
