package io.machinepool.examples.benchmark;

/**
 * A clean-up that runs when the JVM shuts down before the benchmark got to it (the run was
 * interrupted), and that closing removes once the benchmark has cleaned up itself.
 */
final class ShutdownHook implements AutoCloseable {
  private final Thread thread;

  private ShutdownHook(Thread thread) {
    this.thread = thread;
  }

  /**
   * Registers a clean-up.
   *
   * @param name the hook thread's name
   * @param cleanUp what to do at shutdown
   * @return the hook; close it when the clean-up is no longer needed
   */
  static ShutdownHook add(String name, Runnable cleanUp) {
    Thread thread = new Thread(cleanUp, name);
    Runtime.getRuntime().addShutdownHook(thread);
    return new ShutdownHook(thread);
  }

  /** Removes the hook; nothing happens when the JVM is shutting down already. */
  @Override
  public void close() {
    try {
      Runtime.getRuntime().removeShutdownHook(thread);
    } catch (IllegalStateException e) {
      // the JVM is shutting down: the hook runs or has run
    }
  }
}
