package io.machinepool.examples.cli;

import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * The command line of {@code machinepool}, as picocli parses it: the flags of {@code
 * teuthology-lock} (same names, same values), and {@code --db}, {@code --import}, {@code --reap},
 * {@code --queue}, {@code --wait} and {@code --priority}. Only the syntax is checked here; {@link
 * Invocation} checks how the flags combine and the ranges of the numbers.
 */
@Command(
    name = "machinepool",
    sortOptions = false,
    customSynopsis = "machinepool OPERATION [OPTIONS] [MACHINE...]",
    description = {
      "",
      "Lock, unlock, or query the lock status of the machines of a test lab, in a lock database"
          + " that every harness host shares; flags and output as teuthology-lock's.",
    },
    parameterListHeading = "%nArguments:%n",
    footerHeading = "%nExamples:%n",
    footer = {
      "  machinepool --summary",
      "  machinepool --lock-many 1 --machine-type vps",
      "  machinepool --lock-many 2 -m smithi --wait 3600 --priority 100",
      "  machinepool --lock -t target.yaml",
      "  machinepool --lock --desc 'run-42/job-3' smithi001 smithi002",
      "  machinepool --list-targets smithi001",
      "  machinepool --brief",
      "  machinepool --brief --owner user@host",
      "  machinepool --list --all --machine-type smithi --status down",
      "  machinepool --brief -a --json-query '{\"vm_host\": {\"name\": \"mira001.front.sepia.ceph.com\"}}'",
      "  machinepool --update --status down --desc 'disk errors on sdb' smithi001",
      "  machinepool --unlock smithi001 smithi002",
      "  machinepool --unlock -t target.yaml",
      "  machinepool --update-keys smithi001",
      "  machinepool --queue",
      "  machinepool --import lab.yaml",
      "  machinepool --reap",
      "  machinepool --brief -a --db 'jdbc:postgresql://lockdb/lab?user=teuthology'",
      "",
      "Short machine names are completed with lab_domain of the config file ($TEUTHOLOGY_CONFIG,"
          + " else ~/.teuthology.yaml, else /etc/teuthology.yaml). The lock database is --db,"
          + " else machine_pool.database_url of the config file, else the H2 file"
          + " ~/.machinepool/locks. Locks are kept until --unlock frees them; VM slots are"
          + " re-imaged with downburst on lock and destroyed on unlock.",
      "",
      "A lock with --wait that cannot be served at once joins the queue of waiting requests,"
          + " which every host shares: requests are served by --priority (lower first), then in"
          + " the order they joined; --queue lists them.",
      "",
      "An --import file is a YAML list of machines, each a mapping with name and machine_type,"
          + " and optionally vpshost (which makes it a VM slot), mac_address, up, os_type,"
          + " os_version, arch and ssh_port.",
      "",
      "Exit status: 0 on success; 1 on any failure, usage errors included, with the reason on"
          + " standard error.",
    })
final class Options {

  /** Exactly one operation, as teuthology-lock's required mutually exclusive group. */
  @ArgGroup(exclusive = true, multiplicity = "1", heading = "%nOperations (exactly one):%n")
  Operation operation;

  @Option(
      names = {"-a", "--all"},
      description =
          "list all machines, not just those locked by you; with --update-keys, scan every"
              + " machine")
  boolean all;

  @Option(
      names = "--owner",
      paramLabel = "OWNER",
      description =
          "owner of the lock(s), which must match to unlock a machine (default: user@host of"
              + " this process)")
  String owner;

  @Option(
      names = "-f",
      description =
          "don't stop at the first error; go on locking or unlocking the other machines (each"
              + " on its own: without -f, --lock locks all of them or none)")
  boolean keepGoing;

  @Option(
      names = "--desc",
      paramLabel = "TEXT",
      description =
          "lock description; with --update the new description, or with --status down the"
              + " reason")
  String desc;

  @Option(
      names = "--desc-pattern",
      paramLabel = "TEXT",
      description = "list only machines whose description contains TEXT")
  String descPattern;

  @Option(
      names = "--json-query",
      paramLabel = "JSON|FILE",
      description =
          "list only machines whose --list object contains this JSON object (given as text or as"
              + " a file), e.g. '{\"vm_host\": {\"name\": \"mira001.front.sepia.ceph.com\"}}'")
  String jsonQuery;

  @Option(
      names = {"-m", "--machine-type"},
      paramLabel = "TYPE",
      description =
          "type of machine to lock, list or summarize, e.g. smithi or vps; several as"
              + " smithi,mira, 'smithi mira' or 'smithi|mira'")
  String machineType;

  @Option(
      names = "--status",
      paramLabel = "up|down",
      description = "whether a machine is usable for testing: list only those, or set it")
  String status;

  @Option(
      names = "--locked",
      paramLabel = "true|false",
      description = "list only locked (true) or only free (false) machines")
  String locked;

  @Option(
      names = {"-t", "--targets"},
      paramLabel = "FILE",
      description = "take the machines from the targets: of this YAML file (every document)")
  String targets;

  @Option(
      names = "--os-type",
      paramLabel = "OS",
      description = "OS type (distro): installed on VM slots, a filter for the rest")
  String osType;

  @Option(
      names = "--os-version",
      paramLabel = "VERSION",
      description = "OS (distro) version such as 22.04")
  String osVersion;

  @Option(
      names = "--arch",
      paramLabel = "ARCH",
      description = "architecture (x86_64, aarch64, ...) to lock")
  String arch;

  @Option(
      names = "--wait",
      paramLabel = "SECONDS",
      description =
          "with --lock and --lock-many: when the machines are not free, wait up to SECONDS for"
              + " them in the queue (at most 604800, 7 days); default 0: fail at once")
  Integer waitSeconds;

  @Option(
      names = "--priority",
      paramLabel = "N",
      description =
          "with --lock and --lock-many: the request's place among waiting requests, lower served"
              + " first; 0 to 1000000, default 1000 (as teuthology's)")
  Integer priority;

  @Option(
      names = "--db",
      paramLabel = "JDBC_URL",
      description =
          "the lock database; default: database_url under machine_pool in the config file,"
              + " else an H2 file under your home")
  String database;

  @Option(
      names = {"-v", "--verbose"},
      description =
          "be more verbose: progress, the library's log at INFO (-vv: DEBUG), stack traces")
  boolean[] verbose = new boolean[0];

  @Option(
      names = {"-h", "--help"},
      usageHelp = true,
      description = "show this help and exit")
  boolean help;

  @Parameters(
      paramLabel = "MACHINE",
      arity = "0..*",
      description = "machines to operate on; short names are completed with lab_domain")
  List<String> machines = new ArrayList<>();

  /** The operations; picocli sets exactly one. */
  static final class Operation {
    @Option(
        names = "--list",
        description =
            "show lock info (JSON) of the machines locked by you, or of the machines named;"
                + " --owner, --status, --locked and the other filters narrow it")
    boolean list;

    @Option(names = "--brief", description = "like --list, one line per machine")
    boolean brief;

    @Option(
        names = "--list-targets",
        description = "like --list, as the targets: YAML that teuthology reads")
    boolean listTargets;

    @Option(names = "--lock", description = "lock the machines named")
    boolean lock;

    @Option(names = "--unlock", description = "unlock the machines named")
    boolean unlock;

    @Option(
        names = "--lock-many",
        paramLabel = "N",
        description = "lock N free machines of --machine-type; prints their targets: YAML")
    Integer lockMany;

    @Option(
        names = "--update",
        description = "set the description (--desc) or status (--status) of the machines named")
    boolean update;

    @Option(
        names = "--update-keys",
        description =
            "scan the SSH host keys of the machines named (or of a targets file, -t FILE, or of"
                + " every machine, -a) and store those that changed, as teuthology-updatekeys")
    boolean updateKeys;

    @Option(
        names = "--summary",
        description = "count the machines by type and owner, and list the requests waiting")
    boolean summary;

    @Option(
        names = "--queue",
        description =
            "list the lock requests waiting for machines, in the order they will be served;"
                + " --machine-type narrows it")
    boolean queue;

    @Option(
        names = "--import",
        paramLabel = "FILE",
        description = "add the machines of an inventory YAML file, all or none")
    String importFile;

    @Option(
        names = "--reap",
        description = "release the leases whose holders stopped renewing them; prints what it did")
    boolean reap;
  }
}
