package io.machinepool;

import java.util.List;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.stream.Collectors;

/**
 * Preparing or releasing a machine failed. Carries the machine, the exit code of the tool that
 * failed (if a tool ran) and the tail of its standard error. When several machines of one request
 * fail, one exception names each of them: see {@link #failures()}.
 *
 * <p>When this exception comes out of {@link MachinePool#lock(LockRequest)}, every machine of the
 * request has been released again and every VM that was created has been destroyed.
 */
public class ProvisioningException extends MachinePoolException {
  private static final long serialVersionUID = 1L;

  /**
   * One machine's failure: a report, which anyone may make with {@link #of(String, String, Integer,
   * String)}. Two failures are equal when every field is.
   */
  public static final class Failure {
    private final String machine;
    private final String reason;
    private final Integer exitCode;
    private final String stderrTail;

    private Failure(String machine, String reason, Integer exitCode, String stderrTail) {
      if (machine == null || reason == null) {
        throw new IllegalArgumentException("machine and reason are required");
      }
      this.machine = machine;
      this.reason = reason;
      this.exitCode = exitCode;
      this.stderrTail = stderrTail == null ? "" : stderrTail;
    }

    /**
     * One machine's failure.
     *
     * @param machine the machine's name
     * @param reason what went wrong, in words
     * @param exitCode the exit code of the tool, or {@code null} when no tool ran or it was killed
     * @param stderrTail the last lines of the tool's standard error, or {@code null} when there was
     *     none
     * @return the failure
     * @throws IllegalArgumentException when the machine or the reason is {@code null}
     */
    public static Failure of(String machine, String reason, Integer exitCode, String stderrTail) {
      return new Failure(machine, reason, exitCode, stderrTail);
    }

    /**
     * The machine that failed.
     *
     * @return the machine's name
     */
    public String machine() {
      return machine;
    }

    /**
     * What went wrong.
     *
     * @return what went wrong, in words
     */
    public String reason() {
      return reason;
    }

    /**
     * The exit code of the tool that failed.
     *
     * @return the exit code, or {@code null} when no tool ran or it was killed
     */
    public Integer exitCode() {
      return exitCode;
    }

    /**
     * The tail of the tool's standard error.
     *
     * @return the last lines of the tool's standard error, empty when there was none
     */
    public String stderrTail() {
      return stderrTail;
    }

    /**
     * Whether the other object is a failure with equal fields.
     *
     * @param other the object to compare with
     * @return {@code true} when every field is equal
     */
    @Override
    public boolean equals(Object other) {
      return other instanceof Failure that
          && machine.equals(that.machine)
          && reason.equals(that.reason)
          && Objects.equals(exitCode, that.exitCode)
          && stderrTail.equals(that.stderrTail);
    }

    @Override
    public int hashCode() {
      return Objects.hash(machine, reason, exitCode, stderrTail);
    }

    /**
     * The failure in words: the machine, the reason and the exit code, without the standard error's
     * tail (see {@link #stderrTail()}), so that one failure is one line when its reason is.
     *
     * @return e.g. {@code vpm011: timed out after 600 s}
     */
    @Override
    public String toString() {
      StringBuilder text = new StringBuilder(machine).append(": ").append(reason);
      if (exitCode != null) {
        text.append(" (exit code ").append(exitCode).append(')');
      }
      return text.toString();
    }
  }

  private final transient List<Failure> failures;

  /**
   * Creates the exception for one machine.
   *
   * @param machine the machine that failed
   * @param reason what went wrong
   * @param exitCode the tool's exit code, or {@code null}
   * @param stderrTail the tail of the tool's standard error, or {@code null}
   * @param cause the underlying failure, or {@code null}
   */
  public ProvisioningException(
      String machine, String reason, Integer exitCode, String stderrTail, Throwable cause) {
    this(List.of(Failure.of(machine, reason, exitCode, stderrTail)), cause);
  }

  /**
   * Creates the exception for one or more machines.
   *
   * @param failures one entry per failed machine, at least one
   * @param cause the underlying failure of the first machine, or {@code null}
   */
  public ProvisioningException(List<Failure> failures, Throwable cause) {
    super(describe(failures), cause);
    this.failures = List.copyOf(failures);
  }

  private static String describe(List<Failure> failures) {
    if (failures.isEmpty()) {
      throw new IllegalArgumentException("at least one failure is required");
    }
    if (failures.size() == 1) {
      return "provisioning failed for " + failures.get(0);
    }
    return failures.size()
        + " machines failed to provision:\n"
        + failures.stream().map(f -> "  " + f).collect(Collectors.joining("\n"));
  }

  /**
   * Returns every machine that failed, with its reason.
   *
   * @return the failures, at least one
   */
  public List<Failure> failures() {
    return failures;
  }

  /**
   * Returns the first machine that failed.
   *
   * @return its name
   */
  public String machine() {
    return failures.get(0).machine();
  }

  /**
   * Returns the exit code of the tool that failed for the first machine, if a tool ran to
   * completion.
   *
   * @return the exit code, or empty
   */
  public OptionalInt exitCode() {
    Integer code = failures.get(0).exitCode();
    return code == null ? OptionalInt.empty() : OptionalInt.of(code);
  }

  /**
   * Returns the tail of the failing tool's standard error for the first machine.
   *
   * @return the last lines, possibly empty
   */
  public String stderrTail() {
    return failures.get(0).stderrTail();
  }
}
