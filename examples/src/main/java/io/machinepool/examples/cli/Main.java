package io.machinepool.examples.cli;

import io.machinepool.MachinePoolException;
import io.machinepool.config.TeuthologyConfig;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

/**
 * {@code machinepool}, the command-line tool: {@code teuthology-lock} on a machinepool lock
 * database. It takes teuthology-lock's flags ({@code --list}, {@code --brief}, {@code
 * --list-targets}, {@code --summary}, {@code --lock}, {@code --unlock}, {@code --lock-many N},
 * {@code --update}, with {@code --owner}, {@code --desc}, {@code -m}, {@code -t FILE}, ...), prints
 * what it prints, and adds {@code --db JDBC_URL}, {@code --import FILE}, {@code --reap}, and locks
 * that wait in a queue ({@code --wait SECONDS}, {@code --priority N}, {@code --queue}). {@code
 * machinepool --help} lists them all, with examples.
 *
 * <p>Every lock it makes is kept until unlocked, as teuthology-lock's are. The exit status is 0 on
 * success and 1 on any failure, usage errors included, with the reason on standard error.
 */
public final class Main {
  /** What every line the tool writes to standard error about a failure starts with. */
  static final String PREFIX = "machinepool: ";

  /** The system property of slf4j-simple's level, which the tool sets unless it is set. */
  static final String LOG_LEVEL = "org.slf4j.simpleLogger.defaultLogLevel";

  private Main() {}

  /**
   * Runs the tool and exits with its status.
   *
   * @param args the command line
   */
  public static void main(String[] args) {
    System.exit(
        run(args, System.out, System.err, TeuthologyConfig::load, PoolOpener.DEFAULT, true));
  }

  /**
   * Runs the tool in this process, with the config file that {@link TeuthologyConfig#load()} finds.
   * It sets the library's log level as {@link #main} does, but leaves the format of the process's
   * log lines to the program it runs in.
   *
   * @param args the command line
   * @param out where the result goes
   * @param err where progress and failures go
   * @return the exit status: 0 on success, 1 on any failure
   */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    return run(args, out, err, TeuthologyConfig::load, PoolOpener.DEFAULT, false);
  }

  /**
   * Runs the tool with a given config and way to open the pool (what tests use).
   *
   * @param args the command line
   * @param out where the result goes
   * @param err where progress and failures go
   * @param config the teuthology config
   * @param opener how to open the pool
   * @return the exit status
   */
  static int run(
      String[] args, PrintStream out, PrintStream err, TeuthologyConfig config, PoolOpener opener) {
    return run(args, out, err, () -> config, opener, false);
  }

  /**
   * Runs the tool.
   *
   * @param ownProcess whether the tool owns the process ({@link #main}), so that it also sets how
   *     the library's log lines look
   */
  private static int run(
      String[] args,
      PrintStream out,
      PrintStream err,
      Supplier<TeuthologyConfig> config,
      PoolOpener opener,
      boolean ownProcess) {
    Options options = new Options();
    CommandLine commandLine = commandLine(options);
    try {
      commandLine.parseArgs(args);
    } catch (ParameterException e) {
      String message = e.getMessage().replaceFirst("^Error: ", "");
      err.println(PREFIX + message + " (see machinepool --help)");
      return 1;
    }
    if (commandLine.isUsageHelpRequested()) {
      commandLine.usage(out);
      return 0;
    }
    int verbosity = options.verbose.length;
    configureLogging(verbosity);
    if (ownProcess && verbosity == 0) {
      plainLogLines();
    }
    try {
      return Invocation.prepare(options, config.get(), out, err).execute(opener, verbosity > 0);
    } catch (UsageException | MachinePoolException e) {
      err.println(PREFIX + ToolMessages.of(e.getMessage()));
      printTrace(err, e, verbosity > 0);
      return 1;
    } catch (RuntimeException e) {
      err.println(
          PREFIX
              + "unexpected failure: "
              + e
              + (verbosity > 0 ? "" : " (run with -v for the stack trace)"));
      printTrace(err, e, verbosity > 0);
      return 1;
    }
  }

  /**
   * The parser and help of the tool; the help shows the operations first, then the other options,
   * then the arguments.
   */
  static CommandLine commandLine(Options options) {
    CommandLine commandLine = new CommandLine(options);
    commandLine
        .getHelpSectionMap()
        .put(
            CommandLine.Model.UsageMessageSpec.SECTION_KEY_OPTION_LIST,
            help ->
                help.optionListGroupSections()
                    + String.format("%nOptions:%n")
                    + help.optionListExcludingGroups(
                        help.commandSpec().options().stream()
                            .filter(option -> option.group() == null)
                            .toList()));
    List<String> sections = new ArrayList<>(commandLine.getHelpSectionKeys());
    sections.remove(CommandLine.Model.UsageMessageSpec.SECTION_KEY_PARAMETER_LIST_HEADING);
    sections.remove(CommandLine.Model.UsageMessageSpec.SECTION_KEY_PARAMETER_LIST);
    int after = sections.indexOf(CommandLine.Model.UsageMessageSpec.SECTION_KEY_OPTION_LIST) + 1;
    sections.add(after, CommandLine.Model.UsageMessageSpec.SECTION_KEY_PARAMETER_LIST);
    sections.add(after, CommandLine.Model.UsageMessageSpec.SECTION_KEY_PARAMETER_LIST_HEADING);
    commandLine.setHelpSectionKeys(sections);
    return commandLine;
  }

  /**
   * Sets slf4j-simple's level before the library creates its first logger: WARN, INFO with {@code
   * -v}, DEBUG with {@code -vv}. A level set on the command line ({@code -D}) is left alone.
   */
  private static void configureLogging(int verbosity) {
    setUnlessSet(LOG_LEVEL, verbosity == 0 ? "warn" : verbosity == 1 ? "info" : "debug");
    if (verbosity == 0) {
      // The tool says itself, one plain line per machine, what this logs at WARN when the host key
      // scan of a machine it locked fails.
      for (String logger : QUIETED) {
        setUnlessSet("org.slf4j.simpleLogger.log." + logger, "error");
      }
    }
  }

  /** The library's loggers whose warnings the tool reports in its own words. */
  private static final List<String> QUIETED = List.of("io.machinepool.Provisioning");

  /**
   * Makes every log line the tool shows without {@code -v} read like its own: {@code machinepool:
   * warning: MESSAGE} and {@code machinepool: error: MESSAGE} (through {@link ToolLogProvider}),
   * without slf4j-simple's thread and logger names. With {@code -v} and {@code -vv} the lines keep
   * them, as the INFO and DEBUG lines around them do, for whoever reads the log to debug. A setting
   * given on the command line ({@code -D}) is left alone, and so is everything when slf4j-simple is
   * not on the class path (another binding formats its own lines).
   */
  private static void plainLogLines() {
    if (!onClassPath("org.slf4j.simple.SimpleServiceProvider")) {
      return;
    }
    setUnlessSet("slf4j.provider", TOOL_LOG_PROVIDER);
    // slf4j says at INFO which provider it loads when one is named
    setUnlessSet("slf4j.internal.verbosity", "warn");
    for (String flag : List.of("showThreadName", "showLogName", "showShortLogName")) {
      setUnlessSet("org.slf4j.simpleLogger." + flag, "false");
    }
    setUnlessSet("org.slf4j.simpleLogger.levelInBrackets", "false");
  }

  /**
   * {@link ToolLogProvider} by name: naming its class would load it, and it fails to load without
   * slf4j-simple.
   */
  static final String TOOL_LOG_PROVIDER = "io.machinepool.examples.cli.ToolLogProvider";

  private static boolean onClassPath(String className) {
    try {
      Class.forName(className, false, Main.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException | LinkageError e) {
      return false;
    }
  }

  private static void setUnlessSet(String key, String value) {
    if (System.getProperty(key) == null) {
      System.setProperty(key, value);
    }
  }

  static void printTrace(PrintStream err, Throwable e, boolean verbose) {
    if (verbose) {
      e.printStackTrace(err);
    }
  }
}
