package io.machinepool.examples.simulator;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A child JVM for {@link LocalLabTest}: builds a lab in the given directory, creates one VM, prints
 * the VM's pid and then sleeps until it is killed.
 */
public final class LabOwner {
  private LabOwner() {}

  /**
   * Runs the owner.
   *
   * @param args the lab directory
   * @throws Exception on any failure
   */
  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    LocalLab lab = LocalLab.builder().directory(dir).vmHost("mira001", "vpm011").build();
    Path meta = dir.resolve("meta.yaml");
    Files.writeString(meta, "downburst: {distro: ubuntu, distroversion: '24.04'}\n");
    int status =
        DownburstSimulator.run(
            List.of(
                "-c", "mira001", "create", "--wait", "--nokey", "--meta-data=" + meta, "vpm011"),
            new LabDirectory(dir),
            System.out,
            System.err);
    PrintStream out = System.out;
    out.println("status " + status);
    out.println("vm " + new LabDirectory(dir).pid("vpm011").orElse(-1L));
    out.flush();
    Thread.sleep(600_000);
    lab.close();
  }
}
