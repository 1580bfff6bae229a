package io.machinepool.examples.quickstart;

import io.machinepool.HostKey;
import io.machinepool.Lease;
import io.machinepool.LockConflictException;
import io.machinepool.LockRequest;
import io.machinepool.Machine;
import io.machinepool.MachinePool;
import io.machinepool.MachineQuery;
import io.machinepool.MachineSpec;
import io.machinepool.NotEnoughMachinesException;
import io.machinepool.examples.support.SummaryTable;
import java.io.PrintStream;
import java.time.Duration;
import java.util.stream.Collectors;
import org.h2.jdbcx.JdbcDataSource;

/**
 * The README's first command: a small lab in embedded H2, locked and unlocked the way test
 * harnesses do it.
 *
 * <ol>
 *   <li>builds a {@link MachinePool} on an in-memory H2 database (the schema is created on build);
 *   <li>registers six physical machines of two types, {@code smithi} and {@code mira}, stores an
 *       ed25519 and an ECDSA host key for each, and marks one machine down;
 *   <li>locks two {@code smithi} by type (a lease the pool's heartbeat keeps alive) and one {@code
 *       mira} by name (kept until unlocked, like {@code teuthology-lock --lock});
 *   <li>shows two refusals: not enough free machines, and a machine locked by someone else;
 *   <li>prints the lease's {@code targets:} YAML and the summary as {@code teuthology-lock
 *       --summary} prints it;
 *   <li>unlocks everything: the lease by closing it, the other lock by name and owner.
 * </ol>
 *
 * <p>Run it with {@code mvn -q -pl examples -am verify -Pquickstart -DskipTests}.
 */
public final class Quickstart {
  static final String DOMAIN = ".front.sepia.ceph.com";
  static final String ALICE = "alice@build7";
  static final String BOB = "bob@build9";
  static final String CAROL = "carol@build3";
  static final Duration LEASE = Duration.ofMinutes(10);

  private Quickstart() {}

  /**
   * Runs the quickstart on a fresh in-memory H2 database and prints what it does.
   *
   * @param args ignored
   */
  public static void main(String[] args) {
    run("jdbc:h2:mem:quickstart;DB_CLOSE_DELAY=-1", System.out);
  }

  /**
   * The quickstart itself, on the H2 database at a URL.
   *
   * @param jdbcUrl an H2 URL; the database must stay open between connections ({@code
   *     DB_CLOSE_DELAY=-1} for an in-memory one)
   * @param out where the narration goes
   */
  static void run(String jdbcUrl, PrintStream out) {
    out.println("machinepool quickstart: lock machines of a small test lab kept in embedded H2");
    out.println();

    // 1. A pool over any JDBC DataSource; here embedded H2. build() creates the schema.
    JdbcDataSource dataSource = new JdbcDataSource();
    dataSource.setURL(jdbcUrl);
    try (MachinePool pool =
        MachinePool.builder().dataSource(dataSource).leaseDuration(LEASE).build()) {
      out.println("1. Built a pool on " + jdbcUrl + "; the lock tables were created.");
      out.println();

      // 2. The inventory: physical machines of two types, their host keys, one machine down.
      pool.inventory()
          .addAll(
              smithi("smithi001"),
              smithi("smithi002"),
              smithi("smithi003"),
              smithi("smithi004"),
              MachineSpec.physical("mira001" + DOMAIN, "mira").withArch("x86_64"),
              MachineSpec.physical("mira002" + DOMAIN, "mira").withArch("x86_64"));
      for (Machine machine : pool.machines(MachineQuery.all())) {
        pool.hostKeys().replace(machine.name(), DemoHostKeys.generate());
      }
      pool.inventory().markDown("smithi004" + DOMAIN, "BMC does not answer; waiting for the DC");
      out.println("2. Registered 6 physical machines with their SSH host keys:");
      for (Machine machine : pool.machines(MachineQuery.all())) {
        out.println(describe(machine));
      }
      out.println();

      // 3. Lock by type: any 2 up and free smithi, all or nothing. The lease expires unless
      //    renewed; the pool's heartbeat renews it while it is open.
      Lease lease =
          pool.lock(
              LockRequest.builder()
                  .owner(ALICE)
                  .description("run-42/job-3")
                  .machineType("smithi")
                  .count(2)
                  .os("ubuntu", "22.04")
                  .build());
      out.println("3. " + ALICE + " locked 2 smithi by type (lease " + lease.token() + "):");
      for (Machine machine : lease.machines()) {
        out.println("     " + machine.name() + "  generation " + machine.generation());
      }
      out.println(
          "   The lease expires at "
              + lease.expiresAt().orElseThrow()
              + " (database clock) unless renewed;");
      out.println(
          "   the pool's heartbeat renews it every "
              + LEASE.dividedBy(3).toSeconds()
              + " s until it is closed.");
      out.println();

      // 4. Lock by name, kept until unlocked: no expiry, survives this JVM (teuthology-lock
      // --lock).
      Lease kept =
          pool.lock(
              LockRequest.builder()
                  .owner(BOB)
                  .description("manual debugging")
                  .names("mira002" + DOMAIN)
                  .keepUntilUnlocked()
                  .build());
      out.println(
          "4. "
              + BOB
              + " locked "
              + String.join(", ", kept.names())
              + " by name, kept until unlocked (no expiry).");
      out.println();

      // 5. What a harness sees when it cannot have what it asks for: typed exceptions, nothing
      //    locked.
      out.println("5. " + CAROL + " asks for more than is free:");
      try {
        pool.lock(LockRequest.builder().owner(CAROL).machineType("smithi").count(2).build());
        throw new IllegalStateException("expected too few free smithi");
      } catch (NotEnoughMachinesException e) {
        out.println("     NotEnoughMachinesException: " + e.getMessage());
      }
      try {
        pool.lock(LockRequest.builder().owner(CAROL).names("mira002" + DOMAIN).build());
        throw new IllegalStateException("expected mira002 to be locked by bob");
      } catch (LockConflictException e) {
        out.println("     LockConflictException: " + e.getMessage());
      }
      out.println();

      // 6. The teuthology targets: document of the lease, machine name -> preferred host key.
      out.println(
          "6. Targets of " + ALICE + "'s lease (as teuthology-lock --list-targets prints):");
      out.println();
      out.print(lease.targets().toYaml());
      out.println();

      // 7. Counts per machine type and owner.
      out.println("7. Summary (as teuthology-lock --summary prints it):");
      out.println();
      out.print(SummaryTable.format(pool.summary()));
      out.println();

      // 8. Unlock: close the lease (what try-with-resources does), and unlock by name and owner
      //    (what teuthology-lock --unlock does).
      lease.close();
      pool.unlock("mira002" + DOMAIN, BOB);
      int locked = pool.machines(MachineQuery.builder().locked(true).build()).size();
      out.println(
          "8. Unlocked: "
              + ALICE
              + " closed her lease, "
              + BOB
              + " unlocked mira002 by name; "
              + locked
              + " machines locked now.");
    }
  }

  private static MachineSpec smithi(String shortName) {
    return MachineSpec.physical(shortName + DOMAIN, "smithi")
        .withOs("ubuntu", "22.04")
        .withArch("x86_64");
  }

  private static String describe(Machine machine) {
    String os = machine.osType() == null ? "" : machine.osType() + " " + machine.osVersion();
    String keys = machine.hostKeys().stream().map(HostKey::type).collect(Collectors.joining(", "));
    String state = machine.up() ? "up" : "down (" + machine.description() + ")";
    return String.format(
        "     %-31s %-6s %-12s %-6s %s; %s",
        machine.name(), machine.machineType(), os, machine.arch(), keys, state);
  }
}
