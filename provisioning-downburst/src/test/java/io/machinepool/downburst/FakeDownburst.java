package io.machinepool.downburst;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.stream.Stream;

/**
 * A fake {@code downburst}: a bash script that records every run (argv, the environment it was
 * started with, copies of the meta-data and user-data files and their modes, the VM host given with
 * {@code -c}, its pid, and the times it started and finished, by {@code date +%s%N}) under {@code
 * calls/}, and behaves as a plan file per sub-command says: line N is the behaviour of the N-th
 * run, the last line holds for later runs, no plan means success. A plan for one VM of a
 * sub-command ({@link #planFor}) wins over the sub-command's plan and counts that VM's runs only.
 * The run counters are kept under {@code flock}, so that runs started at once neither lose a count
 * nor share a number. It answers with the real tool's texts and exit codes (DEVELOPERS.md,
 * Downburst):
 *
 * <ul>
 *   <li>{@code ok}: exit 0, nothing on stdout;
 *   <li>{@code slow:S}: sleeps S seconds, then exit 0 (see {@link #slow});
 *   <li>{@code gate}: waits until the test {@linkplain #openGate opens the gate} of its
 *       sub-command, then exit 0;
 *   <li>{@code fail}: a Python traceback ending in a libvirt error, exit 1;
 *   <li>{@code exists-vm}: {@code downburst create: Virtual machine with this name exists already:
 *       NAME}, exit 1;
 *   <li>{@code exists-volume}: a traceback ending in {@code storage volume 'NAME.img' exists
 *       already}, exit 1;
 *   <li>{@code assert}: a traceback ending in a bare {@code AssertionError}, as for an architecture
 *       downburst has no emulator for, exit 1;
 *   <li>{@code no-image}: a traceback ending in {@code NameError: Image not found on server at
 *       URL}, exit 1;
 *   <li>{@code bad-meta}: a traceback ending in a {@code yaml.scanner.ScannerError}, exit 1;
 *   <li>{@code no-file}: a traceback whose source lines say {@code os.path.exists} and whose last
 *       line is a {@code FileNotFoundError}, exit 1;
 *   <li>{@code ssh}: runs {@code ssh -o BatchMode=yes HOST true} from {@code PATH}, as libvirt's
 *       ssh transport does for a {@code qemu+ssh://} URI, and exits with its code;
 *   <li>{@code no-domain}: a traceback ending in {@code no domain with matching name 'NAME'}, exit
 *       1;
 *   <li>{@code usage}: argparse's usage error, exit 2;
 *   <li>{@code hang}: starts a child that records its pid and sleeps 600 s, then sleeps 600 s
 *       itself;
 *   <li>{@code chatty}: 4 MB on stderr, then 4 MB on stdout, exit 0;
 *   <li>{@code chatty-fail}: 4 MB on stderr ending in a traceback, exit 1;
 *   <li>{@code json}: prints the file {@code list.json} (for {@code list-json});
 *   <li>{@code offline}: the traceback of list-json without network, exit 1.
 * </ul>
 */
final class FakeDownburst {
  private static final String SCRIPT =
      """
      #!/bin/bash
      D='@DIR@'
      args=("$@")
      sub=none
      host=
      i=0
      while [ $i -lt $# ]; do
        case "${args[$i]}" in
          -c|--connect) host="${args[$((i + 1))]}"; i=$((i + 2)) ;;
          -l|--logfile) i=$((i + 2)) ;;
          -*) i=$((i + 1)) ;;
          *) sub="${args[$i]}"; break ;;
        esac
      done
      name=
      [ $# -gt 0 ] && name="${args[$(( $# - 1 ))]}"
      key="${name//\\//_}"
      exec 9>>"$D/count.lock"
      flock 9
      n=$(( $(cat "$D/count.$sub" 2>/dev/null || echo 0) + 1 ))
      echo "$n" > "$D/count.$sub"
      m=$(( $(cat "$D/count.$sub.$key" 2>/dev/null || echo 0) + 1 ))
      echo "$m" > "$D/count.$sub.$key"
      started=$(date +%s%N)
      call="$D/calls/$started-$sub-$n"
      mkdir -p "$call"
      flock -u 9
      exec 9>&-
      trap 'date +%s%N > "$call/finished"' EXIT
      echo "$started" > "$call/started"
      echo $$ > "$call/pid"
      echo "$host" > "$call/host"
      printf '%s\\n' "$@" > "$call/argv"
      tr '\\0' '\\n' < /proc/$$/environ > "$call/env"
      for a in "$@"; do
        case "$a" in
          --meta-data=*) f="${a#--meta-data=}"; cp "$f" "$call/meta-data"; stat -c %a "$f" > "$call/meta-data.mode" ;;
          --user-data=*) f="${a#--user-data=}"; cp "$f" "$call/user-data"; stat -c %a "$f" > "$call/user-data.mode" ;;
        esac
      done
      b=ok
      if [ -f "$D/plan.$sub.$key" ]; then
        b=$(sed -n "${m}p" "$D/plan.$sub.$key")
        [ -n "$b" ] || b=$(tail -n 1 "$D/plan.$sub.$key")
      elif [ -f "$D/plan.$sub" ]; then
        b=$(sed -n "${n}p" "$D/plan.$sub")
        [ -n "$b" ] || b=$(tail -n 1 "$D/plan.$sub")
      fi
      echo "$b" > "$call/behaviour"
      traceback() {
        echo "DEBUG:downburst.cli:Connecting to libvirt..." >&2
        echo "Traceback (most recent call last):" >&2
        echo '  File "/home/ubuntu/src/downburst/virtualenv/bin/downburst", line 8, in <module>' >&2
        echo '    sys.exit(main())' >&2
        echo '  File "/home/ubuntu/src/downburst/downburst/cli.py", line 81, in main' >&2
        echo '    return args.func(args)' >&2
        [ -n "$2" ] && printf '%s\\n' "$2" >&2
        echo "$1" >&2
      }
      case "$b" in
        ok) ;;
        slow:*) sleep "${b#slow:}" ;;
        gate) while [ ! -e "$D/open.$sub" ]; do sleep 0.02; done ;;
        fail) traceback "libvirt.libvirtError: Cannot recv data: Connection reset by peer"; exit 1 ;;
        exists-vm) echo "ERROR:downburst.cli:downburst create: Virtual machine with this name exists already: $name" >&2; exit 1 ;;
        exists-volume) traceback "libvirt.libvirtError: storage volume '$name.img' exists already"; exit 1 ;;
        assert) traceback "AssertionError"; exit 1 ;;
        no-image) traceback "NameError: Image not found on server at https://cloud.centos.org/centos/8-stream/aarch64/images"; exit 1 ;;
        bad-meta) traceback "yaml.scanner.ScannerError: mapping values are not allowed here"; exit 1 ;;
        no-file)
          src='  File "/home/ubuntu/src/downburst/downburst/image.py", line 97, in ensure\\n    if not os.path.exists(path):'
          traceback "FileNotFoundError: [Errno 2] No such file or directory: '/srv/images/$name.img'" "$(printf "$src")"
          exit 1 ;;
        ssh) ssh -o BatchMode=yes "$host" true || exit $? ;;
        no-domain) traceback "libvirt.libvirtError: Domain not found: no domain with matching name '$name'"; exit 1 ;;
        usage)
          echo "usage: downburst [-h] [-v] [-l LOGFILE] [-c URI] COMMAND ..." >&2
          echo "downburst: error: unrecognized arguments: $name" >&2
          exit 2 ;;
        hang)
          bash -c 'echo $$ > "$0/grandchild.pid"; exec sleep 600' "$call" &
          sleep 600 ;;
        chatty)
          yes 'DEBUG:downburst.image:still copying the cloud image, nothing to worry about' | head -c 4000000 >&2
          yes 'progress: 42%' | head -c 4000000 ;;
        chatty-fail)
          yes 'DEBUG:downburst.image:still copying the cloud image, nothing to worry about' | head -c 4000000 >&2
          traceback "libvirt.libvirtError: internal error: disk full"; exit 1 ;;
        json) cat "$D/list.json" ;;
        offline)
          traceback "requests.exceptions.ConnectionError: HTTPConnectionPool(host='download.ceph.com', port=80): Max retries exceeded with url: /cloudinit/ (Caused by NameResolutionError: Temporary failure in name resolution)"
          exit 1 ;;
        *) echo "fake downburst: unknown behaviour '$b'" >&2; exit 99 ;;
      esac
      echo ok > "$call/end"
      exit 0
      """;

  private final Path dir;
  private final Path executable;

  /**
   * Writes the fake under a directory: the script at {@code bin/downburst}, its records under
   * {@code fake/}.
   */
  FakeDownburst(Path root) {
    try {
      this.dir = Files.createDirectories(root.resolve("fake"));
      Files.createDirectories(dir.resolve("calls"));
      this.executable = root.resolve("bin/downburst");
      Files.createDirectories(executable.getParent());
      Files.writeString(executable, SCRIPT.replace("@DIR@", dir.toString()));
      Files.setPosixFilePermissions(executable, PosixFilePermissions.fromString("rwxr-xr-x"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  Path executable() {
    return executable;
  }

  /** Sets the behaviour of the runs of a sub-command, in order; the last one repeats. */
  FakeDownburst plan(String subcommand, String... behaviours) {
    write(dir.resolve("plan." + subcommand), String.join("\n", behaviours) + "\n");
    return this;
  }

  /**
   * Sets the behaviour of the runs of a sub-command for one VM, in order; the last one repeats.
   * Wins over {@link #plan} for that VM.
   *
   * @param subcommand e.g. {@code create}
   * @param vm the VM's short name, the last argument of the run
   * @param behaviours its behaviours
   * @return this fake
   */
  FakeDownburst planFor(String subcommand, String vm, String... behaviours) {
    write(dir.resolve("plan." + subcommand + "." + vm), String.join("\n", behaviours) + "\n");
    return this;
  }

  /** The behaviour that sleeps for a duration, then succeeds. */
  static String slow(Duration duration) {
    return "slow:" + seconds(duration);
  }

  private static String seconds(Duration duration) {
    return java.math.BigDecimal.valueOf(duration.toMillis(), 3).toPlainString();
  }

  /** Lets the runs of a sub-command that wait at the {@code gate} (and later ones) go on. */
  FakeDownburst openGate(String subcommand) {
    write(dir.resolve("open." + subcommand), "");
    return this;
  }

  /**
   * Waits until a run of a sub-command for a VM has recorded what it was given.
   *
   * @param subcommand e.g. {@code destroy}
   * @param vm the VM's short name, or {@code null} for any
   * @param limit how long to wait at most
   * @return the first such run
   * @throws AssertionError when there was none in time
   */
  Call awaitCall(String subcommand, String vm, Duration limit) throws InterruptedException {
    long deadline = System.nanoTime() + limit.toNanos();
    while (true) {
      Optional<Call> call =
          calls(subcommand).stream()
              .filter(Call::recorded)
              .filter(c -> vm == null || c.vm().equals(vm))
              .findFirst();
      if (call.isPresent()) {
        return call.get();
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError(
            "no run of downburst "
                + subcommand
                + (vm == null ? "" : " for " + vm)
                + " within "
                + limit);
      }
      Thread.sleep(20);
    }
  }

  /** Sets what {@code list-json} prints with the {@code json} behaviour. */
  FakeDownburst listJson(String json) {
    write(dir.resolve("list.json"), json);
    return plan("list-json", "json");
  }

  /** Every recorded run, oldest first. */
  List<Call> calls() {
    try (Stream<Path> entries = Files.list(dir.resolve("calls"))) {
      return entries.sorted().map(Call::new).toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The recorded runs of one sub-command, oldest first. */
  List<Call> calls(String subcommand) {
    return calls().stream().filter(c -> c.subcommand().equals(subcommand)).toList();
  }

  /** The sub-commands of every run, in order. */
  List<String> subcommands() {
    return calls().stream().map(Call::subcommand).toList();
  }

  private static void write(Path file, String text) {
    try {
      Files.writeString(file, text);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** One recorded run. */
  static final class Call {
    private final Path dir;

    Call(Path dir) {
      this.dir = dir;
    }

    String subcommand() {
      String name = dir.getFileName().toString();
      return name.substring(name.indexOf('-') + 1, name.lastIndexOf('-'));
    }

    List<String> argv() {
      return Arrays.asList(read("argv").orElseThrow().split("\n"));
    }

    /** The environment the process was started with. */
    Map<String, String> environment() {
      Map<String, String> env = new LinkedHashMap<>();
      for (String line : read("env").orElseThrow().split("\n")) {
        if (!line.isEmpty()) {
          int eq = line.indexOf('=');
          env.put(line.substring(0, eq), line.substring(eq + 1));
        }
      }
      return env;
    }

    Optional<String> metaData() {
      return read("meta-data");
    }

    Optional<String> userData() {
      return read("user-data");
    }

    /** The octal mode of the meta-data and user-data files, as the tool saw them. */
    List<String> fileModes() {
      List<String> modes = new ArrayList<>();
      read("meta-data.mode").ifPresent(m -> modes.add(m.strip()));
      read("user-data.mode").ifPresent(m -> modes.add(m.strip()));
      return modes;
    }

    /** The run's number among the runs of its sub-command, from 1. */
    int number() {
      String name = dir.getFileName().toString();
      return Integer.parseInt(name.substring(name.lastIndexOf('-') + 1));
    }

    /** Whether the run has recorded everything it was given (and its behaviour). */
    boolean recorded() {
      return Files.exists(dir.resolve("behaviour"));
    }

    /** The behaviour the run followed, e.g. {@code ok} or {@code fail}. */
    String behaviour() {
      return read("behaviour").orElseThrow().strip();
    }

    /** The VM host of {@code -c}, empty when none was given. */
    String host() {
      return read("host").orElseThrow().strip();
    }

    /** The last argument: the VM's short name for create and destroy. */
    String vm() {
      List<String> argv = argv();
      return argv.get(argv.size() - 1);
    }

    /** When the run started, in nanoseconds since the epoch ({@code date +%s%N}). */
    long started() {
      return Long.parseLong(read("started").orElseThrow().strip());
    }

    /**
     * When the run finished, in nanoseconds since the epoch; empty while it runs or when killed.
     */
    OptionalLong finished() {
      return read("finished")
          .filter(s -> !s.isBlank())
          .map(s -> OptionalLong.of(Long.parseLong(s.strip())))
          .orElse(OptionalLong.empty());
    }

    boolean ended() {
      return Files.exists(dir.resolve("end"));
    }

    long pid() {
      return Long.parseLong(read("pid").orElseThrow().strip());
    }

    /** The pid of the child a hanging run started, once it has recorded it. */
    Optional<Long> grandchildPid() {
      return read("grandchild.pid").filter(s -> !s.isBlank()).map(s -> Long.parseLong(s.strip()));
    }

    private Optional<String> read(String name) {
      Path file = dir.resolve(name);
      if (!Files.exists(file)) {
        return Optional.empty();
      }
      try {
        return Optional.of(Files.readString(file, StandardCharsets.UTF_8));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    @Override
    public String toString() {
      return dir.getFileName().toString();
    }
  }

  /**
   * Whether a process is running: it exists and is not a zombie.
   *
   * @param pid the pid
   * @return {@code false} once it is gone or has exited
   */
  static boolean running(long pid) {
    Path stat = Path.of("/proc/" + pid + "/stat");
    try {
      String text = Files.readString(stat);
      char state = text.charAt(text.lastIndexOf(')') + 2);
      return state != 'Z' && state != 'X';
    } catch (IOException e) {
      return false;
    }
  }

  /** Waits up to a limit for a process to stop running. */
  static boolean gone(long pid, Duration limit) throws InterruptedException {
    long deadline = System.nanoTime() + limit.toNanos();
    while (running(pid)) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      Thread.sleep(20);
    }
    return true;
  }
}
