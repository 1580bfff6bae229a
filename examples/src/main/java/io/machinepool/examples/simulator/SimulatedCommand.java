package io.machinepool.examples.simulator;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.sshd.server.Environment;
import org.apache.sshd.server.ExitCallback;
import org.apache.sshd.server.channel.ChannelSession;
import org.apache.sshd.server.command.Command;
import org.apache.sshd.server.command.CommandFactory;

/**
 * A command run over SSH on a simulated VM. Nothing runs on the machine the simulator runs on: a
 * handful of commands answer as the VM's OS would, everything else is "command not found" (exit
 * 127).
 *
 * <ul>
 *   <li>{@code hostname}, {@code uname -n}: the VM's {@code local-hostname};
 *   <li>{@code cat /etc/os-release}: the distribution and version it was created with;
 *   <li>{@code uname}, {@code uname -s}, {@code uname -m}, {@code uname -a};
 *   <li>{@code echo ...}, {@code true}, {@code false}.
 * </ul>
 */
final class SimulatedCommand implements Command {
  /** What the VM was created with, from its meta-data. */
  record Os(String hostname, String distro, String version, String arch) {
    static Os of(Map<String, Object> meta) {
      Object downburst = meta.get("downburst");
      Map<?, ?> d = downburst instanceof Map<?, ?> m ? m : Map.of();
      return new Os(
          text(meta.get("local-hostname"), "localhost"),
          text(d.get("distro"), "ubuntu"),
          text(d.get("distroversion"), "24.04"),
          text(d.get("arch"), "amd64"));
    }

    private static String text(Object value, String fallback) {
      return value == null ? fallback : value.toString();
    }

    String pretty() {
      return capitalized() + " " + version;
    }

    private String capitalized() {
      return distro.isEmpty()
          ? distro
          : distro.substring(0, 1).toUpperCase(Locale.ROOT) + distro.substring(1);
    }

    String machine() {
      return arch.equals("amd64") ? "x86_64" : arch.equals("arm64") ? "aarch64" : arch;
    }
  }

  private final String command;
  private final Os os;
  private OutputStream out;
  private OutputStream err;
  private ExitCallback exit;

  SimulatedCommand(String command, Os os) {
    this.command = command;
    this.os = os;
  }

  @Override
  public void setInputStream(InputStream in) {
    // no command reads its input
  }

  @Override
  public void setOutputStream(OutputStream value) {
    this.out = value;
  }

  @Override
  public void setErrorStream(OutputStream value) {
    this.err = value;
  }

  @Override
  public void setExitCallback(ExitCallback value) {
    this.exit = value;
  }

  @Override
  public void start(ChannelSession channel, Environment env) throws IOException {
    List<String> words = CommandFactory.split(command.strip());
    String name = words.isEmpty() ? "" : words.get(0);
    String args = String.join(" ", words.subList(Math.min(1, words.size()), words.size()));
    int status = 0;
    switch (name + (args.isEmpty() ? "" : " " + args)) {
      case "hostname", "uname -n" -> print(out, os.hostname());
      case "cat /etc/os-release" ->
          print(
              out,
              "NAME=\""
                  + os.capitalized()
                  + "\"\nVERSION_ID=\""
                  + os.version()
                  + "\"\nID="
                  + os.distro()
                  + "\nPRETTY_NAME=\""
                  + os.pretty()
                  + " (machinepool lab simulator)\"");
      case "uname", "uname -s" -> print(out, "Linux");
      case "uname -m" -> print(out, os.machine());
      case "uname -a" ->
          print(out, "Linux " + os.hostname() + " 6.8.0-simulated #1 SMP " + os.machine());
      case "true" -> status = 0;
      case "false" -> status = 1;
      default -> {
        if (name.equals("echo")) {
          print(out, args);
        } else {
          print(err, "bash: line 1: " + name + ": command not found");
          status = 127;
        }
      }
    }
    out.flush();
    err.flush();
    exit.onExit(status);
  }

  private static void print(OutputStream stream, String text) throws IOException {
    stream.write((text + "\n").getBytes(StandardCharsets.UTF_8));
  }

  @Override
  public void destroy(ChannelSession channel) {
    // nothing runs in the background
  }
}
