package io.machinepool.examples.quickstart;

import com.jcraft.jsch.ChannelExec;
import com.jcraft.jsch.JSchException;
import com.jcraft.jsch.Session;
import io.machinepool.HostKey;
import io.machinepool.Lease;
import io.machinepool.LockRequest;
import io.machinepool.Machine;
import io.machinepool.MachinePool;
import io.machinepool.MachineQuery;
import io.machinepool.MachineSpec;
import io.machinepool.NotEnoughMachinesException;
import io.machinepool.examples.simulator.LocalLab;
import io.machinepool.examples.support.SummaryTable;
import io.machinepool.ssh.JschHostKeyScanner;
import io.machinepool.ssh.MachineSessions;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;
import org.h2.jdbcx.JdbcDataSource;

/**
 * The README's first command: a small test lab with VM slots, locked, re-imaged, used over SSH and
 * unlocked the way test harnesses do it, on embedded H2 and the local lab simulator.
 *
 * <ol>
 *   <li>starts a {@link LocalLab}: two VM hosts with VM slots, and a downburst stand-in whose
 *       {@code create} starts a real SSH server for the VM with fresh host keys;
 *   <li>builds a {@link MachinePool} on in-memory H2 with the lab's {@code DownburstProvisioner}
 *       and a {@link JschHostKeyScanner}, and registers physical machines, the VM hosts and the VM
 *       slots;
 *   <li>locks 3 VM slots with an OS, printing the progress the pool reports while it re-images them
 *       in parallel and scans their new host keys;
 *   <li>prints the lease's {@code targets:} YAML with those keys;
 *   <li>opens an SSH session to one VM with strict host key checking against the pool's store
 *       ({@link MachineSessions}) and runs a command, and shows a connection refused for a key the
 *       store does not hold;
 *   <li>shows a refusal (not enough machines) and prints the summary;
 *   <li>unlocks everything: the VMs are destroyed, their keys forgotten.
 * </ol>
 *
 * <p>Run it with {@code mvn -q -pl examples -am verify -Pquickstart -DskipTests}.
 */
public final class Quickstart {
  static final String DOMAIN = ".front.sepia.ceph.com";
  static final String ALICE = "alice@build7";
  static final String CAROL = "carol@build3";
  static final String OS = "ubuntu";
  static final String OS_VERSION = "24.04";
  static final int VMS = 3;

  private Quickstart() {}

  /**
   * Runs the quickstart on a fresh in-memory H2 database and prints what it does.
   *
   * @param args ignored
   * @throws Exception when a step fails
   */
  public static void main(String[] args) throws Exception {
    run("jdbc:h2:mem:quickstart;DB_CLOSE_DELAY=-1", System.out);
  }

  /**
   * The quickstart itself, on the H2 database at a URL.
   *
   * @param jdbcUrl an H2 URL; the database must stay open between connections ({@code
   *     DB_CLOSE_DELAY=-1} for an in-memory one)
   * @param out where the narration goes
   * @throws Exception when a step fails
   */
  static void run(String jdbcUrl, PrintStream out) throws Exception {
    out.println("machinepool quickstart: lock, re-image and use VMs of a simulated test lab");
    out.println();

    // 1. A lab on this machine: VM hosts whose "downburst" starts an SSH server per VM.
    try (LocalLab lab =
        LocalLab.builder()
            .vmHost("mira001", "vpm011", "vpm012", "vpm013")
            .vmHost("mira002", "vpm021", "vpm022")
            .build()) {
      out.println(
          "1. Started a simulated lab: VM hosts "
              + String.join(", ", lab.vmHosts())
              + " with "
              + lab.vmSlots().size()
              + " VM slots;");
      out.println("   its downburst starts a real SSH server for each VM it creates.");
      out.println();

      // 2. A pool over any JDBC DataSource, here embedded H2 (build() creates the schema), with the
      //    downburst provisioner for VM slots and a host key scanner. Then the inventory.
      JdbcDataSource dataSource = new JdbcDataSource();
      dataSource.setURL(jdbcUrl);
      ProgressPrinter progress = new ProgressPrinter(out);
      try (MachinePool pool =
          MachinePool.builder()
              .dataSource(dataSource)
              .provisioner(lab.provisioner())
              .hostKeyScanner(JschHostKeyScanner.builder().hostAddress(lab::address).build())
              .sshTimeout(Duration.ofMinutes(1))
              .listener(progress)
              .build()) {
        pool.inventory().addAll(lab.inventory());
        pool.inventory()
            .addAll(
                MachineSpec.physical("smithi001" + DOMAIN, "smithi").withOs(OS, "22.04"),
                MachineSpec.physical("smithi002" + DOMAIN, "smithi").withOs(OS, "22.04"));
        out.println("2. Built a pool on " + jdbcUrl + " and registered the lab:");
        List<Machine> machines = pool.machines(MachineQuery.all());
        Set<String> vmHosts =
            machines.stream()
                .map(Machine::vpsHost)
                .filter(Objects::nonNull)
                .collect(Collectors.toSet());
        for (Machine machine : machines) {
          out.println(describe(machine, vmHosts.contains(machine.name())));
        }
        out.println();

        // 3. Lock VMs by type with an OS: downburst re-images them in parallel, then the pool waits
        //    for SSH and stores each VM's new host keys. The lease expires unless renewed; the
        //    pool's heartbeat renews it while it is open.
        out.println("3. " + ALICE + " locks " + VMS + " vps with " + OS + " " + OS_VERSION + ":");
        long started = System.nanoTime();
        Lease lease =
            pool.lock(
                LockRequest.builder()
                    .owner(ALICE)
                    .description("run-42/job-3")
                    .machineType("vps")
                    .count(VMS)
                    .os(OS, OS_VERSION)
                    .build());
        out.printf(
            "   Locked and re-imaged %d VMs in %.1f s (lease %s).%n%n",
            lease.machines().size(), (System.nanoTime() - started) / 1e9, lease.token());

        // 4. The teuthology targets: document, machine name -> its fresh preferred host key.
        out.println("4. Targets of the lease (as teuthology-lock --list-targets prints them):");
        out.println();
        out.print(lease.targets().toYaml());
        out.println();

        // 5. SSH with strict host key checking against the pool's store.
        MachineSessions sessions =
            MachineSessions.builder(pool.hostKeys())
                .config(lab.teuthologyConfig())
                .hostAddress(lab::address)
                .build();
        Machine first = lease.machines().get(0);
        out.println(
            "5. SSH to "
                + first.name()
                + " as "
                + LocalLab.USER
                + ", its host key checked against the pool's store:");
        Session session = sessions.open(first);
        try {
          out.println("     $ hostname");
          out.print(indent(exec(session, "hostname")));
          out.println("     $ cat /etc/os-release");
          out.print(indent(exec(session, "cat /etc/os-release")));
        } finally {
          session.disconnect();
        }
        Machine second = lease.machines().get(1);
        out.println(
            "   Reaching "
                + second.name()
                + "'s SSH port while expecting "
                + first.name()
                + "'s key:");
        try {
          sessions.open(impersonating(first, second)).disconnect();
          throw new IllegalStateException("a foreign host key was accepted");
        } catch (JSchException refused) {
          out.println("     refused: " + refused.getClass().getSimpleName());
        }
        out.println();

        // 6. What a harness sees when it cannot have what it asks for.
        out.println("6. " + CAROL + " asks for more than is free:");
        try {
          pool.lock(LockRequest.builder().owner(CAROL).machineType("vps").count(VMS).build());
          throw new IllegalStateException("expected too few free vps");
        } catch (NotEnoughMachinesException e) {
          out.println("     NotEnoughMachinesException: " + e.getMessage());
        }
        out.println();

        out.println("7. Summary (as teuthology-lock --summary prints it):");
        out.println();
        out.print(SummaryTable.format(pool.summary()));
        out.println();

        // 8. Unlock: closing the lease destroys the VMs, forgets their keys and unlocks them.
        out.println("8. " + ALICE + " closes the lease:");
        lease.close();
        int locked = pool.machines(MachineQuery.builder().locked(true).build()).size();
        out.println(
            "   "
                + locked
                + " machines locked now; VMs still running in the lab: "
                + (lab.runningVms().isEmpty() ? "none" : String.join(", ", lab.runningVms()))
                + ".");
      }
    }
  }

  /** The first machine's name, reached at the second machine's SSH port. */
  private static Machine impersonating(Machine expected, Machine reached) {
    return expected.withSshPort(reached.sshPort());
  }

  private static String exec(Session session, String command) throws JSchException, IOException {
    ChannelExec channel = (ChannelExec) session.openChannel("exec");
    channel.setCommand(command);
    InputStream in = channel.getInputStream();
    channel.connect(10_000);
    try {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } finally {
      channel.disconnect();
    }
  }

  private static String indent(String text) {
    return text.lines().map(line -> "       " + line + "\n").collect(Collectors.joining());
  }

  private static String describe(Machine machine, boolean vmHost) {
    String kind =
        machine.isVirtual()
            ? "VM slot on " + machine.vpsHost().substring(0, machine.vpsHost().indexOf('.'))
            : vmHost ? "VM host" : "physical";
    String state = machine.up() ? "up" : "down";
    String os = machine.osType() == null ? "" : machine.osType() + " " + machine.osVersion();
    String keys = machine.hostKeys().stream().map(HostKey::type).collect(Collectors.joining(", "));
    return String.format(
            "     %-30s %-7s %-18s %-5s %s%s",
            machine.name(),
            machine.machineType(),
            kind,
            state,
            os,
            keys.isEmpty() ? "" : "; " + keys)
        .stripTrailing();
  }
}
