package io.machinepool.ssh;

import io.machinepool.ProvisioningException;

/**
 * Scanning a machine's SSH host keys failed. {@link #reason()} says what kind of failure it was, so
 * that a caller can tell a machine that is still booting or busy ({@link Reason#REFUSED}, {@link
 * Reason#UNREACHABLE}, {@link Reason#TIMEOUT}, {@link Reason#THROTTLED}) from one that will not get
 * better by waiting ({@link Reason#UNKNOWN_HOST}, {@link Reason#NOT_SSH}, {@link
 * Reason#NO_SUPPORTED_KEY}, {@link Reason#KEY_EXCHANGE_FAILED}); {@link #getMessage()} says it in
 * words and names the host and port, e.g. "could not scan the host keys of
 * vpm011.front.sepia.ceph.com:22: connection refused (is sshd running and listening on that
 * port?)".
 *
 * <p>A scan that fails returns no keys at all, even when some connections of it had collected keys
 * before.
 */
public class HostKeyScanException extends ProvisioningException {
  private static final long serialVersionUID = 1L;

  /** The kinds of failure. */
  public enum Reason {
    /** The host name does not resolve to an address. */
    UNKNOWN_HOST,
    /** The network has no route to the host, or the host did not answer with its address. */
    UNREACHABLE,
    /** The host refused the TCP connection: nothing listens on the port. */
    REFUSED,
    /**
     * Something accepted the connection but does not speak SSH: it sent something else than an SSH
     * version banner, or closed the connection without one.
     */
    NOT_SSH,
    /** A connection, the server's version banner or the key exchange did not come in time. */
    TIMEOUT,
    /**
     * The server speaks SSH but turned the connection away for now, and kept doing so after the
     * scanner's retries: OpenSSH's {@code sshd} answers "Exceeded MaxStartups" and closes when it
     * has as many unauthenticated connections open as its {@code MaxStartups} allows. Temporary.
     */
    THROTTLED,
    /** The server speaks SSH but offers none of the host key types that can be scanned. */
    NO_SUPPORTED_KEY,
    /**
     * The server speaks SSH but the key exchange failed for another reason than the host key types:
     * no common key exchange algorithm or cipher, a bad signature, or the connection dropped in the
     * middle.
     */
    KEY_EXCHANGE_FAILED
  }

  private final Reason reason;
  private final String message;
  private final String detail;

  /**
   * Creates the exception.
   *
   * @param machine the machine's name, as scanned
   * @param reason the kind of failure
   * @param message the whole message, naming the host and port
   * @param cause the underlying failure, or {@code null}
   */
  HostKeyScanException(String machine, Reason reason, String message, Throwable cause) {
    this(machine, reason, message, message, cause);
  }

  HostKeyScanException(
      String machine, Reason reason, String message, String detail, Throwable cause) {
    super(machine, message, null, null, cause);
    this.reason = reason;
    this.message = message;
    this.detail = detail;
  }

  /** What went wrong, without the host and port in front. */
  String detail() {
    return detail;
  }

  /**
   * Returns the kind of failure.
   *
   * @return the reason
   */
  public Reason reason() {
    return reason;
  }

  /**
   * Returns what went wrong, naming the host and port, and what to check.
   *
   * @return the message, e.g. "could not scan the host keys of vpm011.front.sepia.ceph.com:22:
   *     connection refused (is sshd running and listening on that port?)"
   */
  @Override
  public String getMessage() {
    return message;
  }
}
