package io.machinepool.ssh;

import com.jcraft.jsch.Logger;
import org.slf4j.LoggerFactory;

/**
 * JSch's log of one session, at SLF4J's DEBUG whatever JSch's level, under the logger {@code
 * io.machinepool.ssh.JschHostKeyScanner.jsch}, each line prefixed with the host and port. Set on
 * each session, so JSch's global logger stays as it is.
 */
final class JschDebugLogger implements Logger {
  private static final org.slf4j.Logger LOG =
      LoggerFactory.getLogger(JschHostKeyScanner.class.getName() + ".jsch");

  private final String where;

  JschDebugLogger(String where) {
    this.where = where;
  }

  @Override
  public boolean isEnabled(int level) {
    return LOG.isDebugEnabled();
  }

  @Override
  public void log(int level, String message) {
    LOG.debug("{}: {}", where, message);
  }

  @Override
  public void log(int level, String message, Throwable cause) {
    LOG.debug("{}: {}", where, message, cause);
  }
}
