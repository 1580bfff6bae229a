package io.machinepool.examples.cli;

import org.slf4j.ILoggerFactory;
import org.slf4j.Logger;
import org.slf4j.simple.SimpleLogger;
import org.slf4j.simple.SimpleLoggerFactory;
import org.slf4j.simple.SimpleServiceProvider;

/**
 * slf4j-simple with the tool's words for the levels: a warning is written {@code machinepool:
 * warning: MESSAGE} and an error {@code machinepool: error: MESSAGE}, like the tool's own lines.
 * Everything else is slf4j-simple's: the levels, where the lines go, and what else a line shows
 * ({@code org.slf4j.simpleLogger.*}). Without {@code -v}, {@code machinepool} selects this provider
 * through the system property {@code slf4j.provider} and turns off the thread and logger names (see
 * {@link Main}).
 *
 * <p>slf4j-simple 2.0.17 has no setting for this: it reads {@code
 * org.slf4j.simpleLogger.warnLevelString} but writes {@code WARN} regardless, and has no string for
 * ERROR. The class is public only because slf4j creates the provider it is told to by reflection;
 * it is no API.
 */
public final class ToolLogProvider extends SimpleServiceProvider {
  private ILoggerFactory loggers;

  /** A provider; slf4j calls {@link #initialize()} before it asks for loggers. */
  public ToolLogProvider() {}

  @Override
  public void initialize() {
    super.initialize();
    loggers =
        new SimpleLoggerFactory() {
          @Override
          protected Logger createLogger(String name) {
            return new ToolLogger(name);
          }
        };
  }

  @Override
  public ILoggerFactory getLoggerFactory() {
    return loggers;
  }

  /** slf4j-simple's logger, with the tool's prefix instead of {@code WARN} and {@code ERROR}. */
  private static final class ToolLogger extends SimpleLogger {
    ToolLogger(String name) {
      super(name);
    }

    @Override
    protected String renderLevel(int level) {
      return switch (level) {
        case LOG_LEVEL_WARN -> Main.PREFIX + "warning:";
        case LOG_LEVEL_ERROR -> Main.PREFIX + "error:";
        default -> super.renderLevel(level);
      };
    }
  }
}
