package io.machinepool.examples.simulator;

import java.util.ArrayList;
import java.util.List;

/**
 * The command line of the simulated {@code downburst}, parsed the way the real tool's argparse
 * parser does: global options ({@code -v}, {@code -l LOGFILE}, {@code -c URI}) before the command,
 * the command's own options after it, {@code --option value} or {@code --option=value}. What the
 * real parser rejects is rejected with its message and exit code 2.
 *
 * @param verbose {@code -v}
 * @param connect the libvirt URI of {@code -c}, or the real tool's default {@code qemu:///system}
 * @param command {@code create}, {@code destroy}, {@code list-json}, another command of the real
 *     tool, or {@code help} for {@code -h}
 * @param name the VM name of create and destroy, else {@code null}
 * @param metaData the {@code --meta-data} files, in order
 * @param userData the {@code --user-data} files, in order
 * @param await {@code --wait}
 * @param noKey {@code --nokey}
 * @param distro {@code --distro}, or {@code null}
 * @param distroVersion {@code --distroversion}, or {@code null}
 * @param arch {@code --arch}, or {@code null}
 */
record SimulatorArguments(
    boolean verbose,
    String connect,
    String command,
    String name,
    List<String> metaData,
    List<String> userData,
    boolean await,
    boolean noKey,
    String distro,
    String distroVersion,
    String arch) {

  static final String DEFAULT_URI = "qemu:///system";

  static final String USAGE = "usage: downburst [-h] [-v] [-l LOGFILE] [-c URI] COMMAND ...";

  private static final String CREATE_USAGE =
      "usage: downburst create [-h] [--user-data FILE] [--meta-data FILE] [--wait]\n"
          + "                        [--distro DISTRO] [--distroversion DISTROVERSION]\n"
          + "                        [--nokey] [--arch arch]\n"
          + "                        NAME";

  private static final String DESTROY_USAGE = "usage: downburst destroy [-h] NAME";

  private static final List<String> COMMANDS =
      List.of("create", "destroy", "list", "list-json", "gen-ssh-key");

  /** What argparse prints and exits with for a bad command line. */
  static final class UsageError extends Exception {
    private static final long serialVersionUID = 1L;

    UsageError(String usage, String prog, String message) {
      super(usage + "\n" + prog + ": error: " + message);
    }
  }

  /**
   * Parses a command line.
   *
   * @throws UsageError for what the real parser rejects
   */
  static SimulatorArguments parse(List<String> argv) throws UsageError {
    boolean verbose = false;
    String connect = DEFAULT_URI;
    int i = 0;
    while (i < argv.size() && argv.get(i).startsWith("-")) {
      String arg = argv.get(i);
      switch (option(arg)) {
        case "-h", "--help" -> {
          return new SimulatorArguments(
              verbose, connect, "help", null, List.of(), List.of(), false, false, null, null, null);
        }
        case "-v", "--verbose" -> {
          verbose = true;
          i++;
        }
        case "-l", "--logfile" -> {
          valueOf(argv, i, USAGE, "downburst", "-l/--logfile");
          i += arg.contains("=") ? 1 : 2;
        }
        case "-c", "--connect" -> {
          connect = valueOf(argv, i, USAGE, "downburst", "-c/--connect");
          i += arg.contains("=") ? 1 : 2;
        }
        default -> throw new UsageError(USAGE, "downburst", "unrecognized arguments: " + arg);
      }
    }
    if (i >= argv.size()) {
      throw new UsageError(USAGE, "downburst", "the following arguments are required: COMMAND");
    }
    String command = argv.get(i++);
    if (!COMMANDS.contains(command)) {
      throw new UsageError(
          USAGE,
          "downburst",
          "argument COMMAND: invalid choice: '"
              + command
              + "' (choose from 'create', 'destroy', 'list', 'list-json', 'gen-ssh-key')");
    }
    List<String> rest = argv.subList(i, argv.size());
    return switch (command) {
      case "create" -> create(verbose, connect, rest);
      case "destroy" -> destroy(verbose, connect, rest);
      default -> {
        if (!rest.isEmpty()) {
          throw new UsageError(
              USAGE, "downburst", "unrecognized arguments: " + String.join(" ", rest));
        }
        yield new SimulatorArguments(
            verbose, connect, command, null, List.of(), List.of(), false, false, null, null, null);
      }
    };
  }

  private static SimulatorArguments create(boolean verbose, String connect, List<String> args)
      throws UsageError {
    List<String> metaData = new ArrayList<>();
    List<String> userData = new ArrayList<>();
    List<String> positional = new ArrayList<>();
    boolean await = false;
    boolean noKey = false;
    String distro = null;
    String distroVersion = null;
    String arch = null;
    for (int i = 0; i < args.size(); i++) {
      String arg = args.get(i);
      if (!arg.startsWith("-") || arg.equals("-")) {
        positional.add(arg);
        continue;
      }
      String value = null;
      switch (option(arg)) {
        case "--wait" -> await = true;
        case "--nokey" -> noKey = true;
        case "--meta-data", "--user-data", "--distro", "--distroversion", "--arch" -> {
          value = valueOf(args, i, CREATE_USAGE, "downburst create", option(arg));
          if (!arg.contains("=")) {
            i++;
          }
        }
        default -> throw new UsageError(USAGE, "downburst", "unrecognized arguments: " + arg);
      }
      switch (option(arg)) {
        case "--meta-data" -> metaData.add(value);
        case "--user-data" -> userData.add(value);
        case "--distro" -> distro = value;
        case "--distroversion" -> distroVersion = value;
        case "--arch" -> arch = value;
        default -> {
          // a flag, handled above
        }
      }
    }
    String name = onePositional(positional, CREATE_USAGE, "downburst create");
    return new SimulatorArguments(
        verbose,
        connect,
        "create",
        name,
        List.copyOf(metaData),
        List.copyOf(userData),
        await,
        noKey,
        distro,
        distroVersion,
        arch);
  }

  private static SimulatorArguments destroy(boolean verbose, String connect, List<String> args)
      throws UsageError {
    for (String arg : args) {
      if (arg.startsWith("-")) {
        throw new UsageError(USAGE, "downburst", "unrecognized arguments: " + arg);
      }
    }
    String name = onePositional(args, DESTROY_USAGE, "downburst destroy");
    return new SimulatorArguments(
        verbose, connect, "destroy", name, List.of(), List.of(), false, false, null, null, null);
  }

  private static String onePositional(List<String> positional, String usage, String prog)
      throws UsageError {
    if (positional.isEmpty()) {
      throw new UsageError(usage, prog, "the following arguments are required: NAME");
    }
    if (positional.size() > 1) {
      throw new UsageError(
          USAGE,
          "downburst",
          "unrecognized arguments: " + String.join(" ", positional.subList(1, positional.size())));
    }
    return positional.get(0);
  }

  /** The option name of {@code --name=value} or {@code --name}. */
  private static String option(String arg) {
    int equals = arg.indexOf('=');
    return arg.startsWith("--") && equals > 0 ? arg.substring(0, equals) : arg;
  }

  /** The value of the option at {@code i}: after its {@code =}, or the next argument. */
  private static String valueOf(List<String> args, int i, String usage, String prog, String name)
      throws UsageError {
    String arg = args.get(i);
    int equals = arg.indexOf('=');
    if (arg.startsWith("--") && equals > 0) {
      return arg.substring(equals + 1);
    }
    if (i + 1 >= args.size() || args.get(i + 1).startsWith("-")) {
      throw new UsageError(usage, prog, "argument " + name + ": expected one argument");
    }
    return args.get(i + 1);
  }
}
