package io.machinepool.examples.cli;

import io.machinepool.HostKey;
import io.machinepool.Lease;
import io.machinepool.LockRequest;
import io.machinepool.Machine;
import io.machinepool.MachinePool;
import io.machinepool.MachineQuery;
import io.machinepool.MachineSpec;
import io.machinepool.PoolListener;
import io.machinepool.Provisioner;
import io.machinepool.config.TeuthologyConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import org.h2.jdbcx.JdbcDataSource;

/**
 * A small lab in its own in-memory H2 database, and the tool run in this process against it:
 *
 * <ul>
 *   <li>smithi001 (ubuntu 22.04, an ed25519 key), smithi002 (ubuntu 22.04), smithi003 (ubuntu
 *       20.04): physical, up, free;
 *   <li>mira001: the VM host of vpm011 and vpm012 (vps, each with a MAC address), locked by {@link
 *       #ADMIN} so that it is never handed out;
 *   <li>mira002: down, "disk errors on sdb".
 * </ul>
 *
 * The config is parsed from YAML text: {@code lab_domain} completes short names, and {@code
 * downburst} names an executable that does not exist, so that the tool's default pool has no VM
 * provisioner on any machine.
 */
final class Lab implements AutoCloseable {
  static final String DOMAIN = "front.sepia.ceph.com";
  static final String ME = LockRequest.defaultOwner();
  static final String BOB = "bob@build9";
  static final String ADMIN = "lab-admin@infra";
  static final String KEY =
      "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJzB5HD6gfzJ1JN5XnbAz2mlcmpPxa7iGZi7kdoMiuvE";
  static final String NO_DOWNBURST = "/nonexistent/machinepool-test/downburst";

  static {
    // The tool sets the library's level before the first logger unless it is set; in this JVM a
    // test with -v must not turn every later test's log up to INFO.
    if (System.getProperty(Main.LOG_LEVEL) == null) {
      System.setProperty(Main.LOG_LEVEL, "warn");
    }
  }

  final String url = "jdbc:h2:mem:cli-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
  final TeuthologyConfig config;
  final MachinePool pool;

  /** What one run of the tool printed, and its exit status. */
  record Result(int status, String out, String err) {
    List<String> errLines() {
      return err.lines().toList();
    }

    @Override
    public String toString() {
      return "exit " + status + "\n--- stdout\n" + out + "--- stderr\n" + err;
    }
  }

  Lab() {
    this(
        "lab_domain: " + DOMAIN + "\ndownburst: " + NO_DOWNBURST + "\n",
        Path.of("teuthology.yaml"));
  }

  Lab(String configYaml, Path configFile) {
    config = TeuthologyConfig.parse(configYaml, configFile);
    JdbcDataSource h2 = new JdbcDataSource();
    h2.setURL(url);
    pool = MachinePool.builder().dataSource(h2).releaseOnShutdown(false).build();
    pool.inventory()
        .addAll(
            MachineSpec.physical(name("smithi001"), "smithi").withOs("ubuntu", "22.04"),
            MachineSpec.physical(name("smithi002"), "smithi").withOs("ubuntu", "22.04"),
            MachineSpec.physical(name("smithi003"), "smithi").withOs("ubuntu", "20.04"),
            MachineSpec.physical(name("mira001"), "mira").withArch("x86_64"),
            MachineSpec.physical(name("mira002"), "mira"),
            MachineSpec.vm(name("vpm011"), "vps", name("mira001"))
                .withMacAddress("52:54:00:00:00:11"),
            MachineSpec.vm(name("vpm012"), "vps", name("mira001"))
                .withMacAddress("52:54:00:00:00:12"));
    pool.inventory().markDown(name("mira002"), "disk errors on sdb");
    pool.hostKeys().replace(name("smithi001"), List.of(HostKey.parse(KEY)));
    lockAs(ADMIN, "VM host", "mira001");
  }

  /**
   * Opens a pool on the lab's database with nothing but the database: no provisioner (it cannot
   * create or destroy VMs) and no host key scanner.
   */
  static PoolOpener.Opened bare(String url, TeuthologyConfig config, PoolListener listener) {
    JdbcDataSource h2 = new JdbcDataSource();
    h2.setURL(url);
    return new PoolOpener.Opened(
        MachinePool.builder().dataSource(h2).releaseOnShutdown(false).build(), null, null);
  }

  static String name(String shortName) {
    return shortName + "." + DOMAIN;
  }

  /** Locks machines by short name for an owner, kept until unlocked. */
  void lockAs(String owner, String description, String... shortNames) {
    pool.lock(
        LockRequest.builder()
            .owner(owner)
            .description(description)
            .names(Arrays.stream(shortNames).map(Lab::name).toList())
            .keepUntilUnlocked()
            .build());
  }

  /**
   * Locks VM slots for an owner on a pool whose provisioner creates nothing, so that the tool finds
   * VMs locked.
   */
  void lockVmAs(String owner, String... shortNames) {
    Provisioner nothing =
        new Provisioner() {
          @Override
          public Machine provision(Machine machine, LockRequest request) {
            return machine;
          }

          @Override
          public void release(Machine machine) {}
        };
    JdbcDataSource h2 = new JdbcDataSource();
    h2.setURL(url);
    try (MachinePool vms =
        MachinePool.builder()
            .dataSource(h2)
            .provisioner(nothing)
            .releaseOnShutdown(false)
            .build()) {
      Lease lease =
          vms.lock(
              LockRequest.builder()
                  .owner(owner)
                  .names(Arrays.stream(shortNames).map(Lab::name).toList())
                  .keepUntilUnlocked()
                  .build());
      lease.names(); // kept until unlocked: closing the pool leaves it
    }
  }

  Machine machine(String shortName) {
    return pool.machine(name(shortName)).orElseThrow();
  }

  /** Every machine as the database holds it now, for "nothing changed" checks. */
  List<Machine> snapshot() {
    return pool.machines(MachineQuery.all());
  }

  /** Runs the tool with the default opener on this lab's database ({@code --db} added). */
  Result run(String... args) {
    return run(PoolOpener.DEFAULT, args);
  }

  /**
   * Runs the tool with an opener of the test's own. No name of this lab resolves, so the tool warns
   * about every machine it locks without host keys or VM it lists whose keys it cannot scan again;
   * those lines are left out of the result ({@link #runShowingScanWarnings} keeps them).
   */
  Result run(PoolOpener opener, String... args) {
    Result result = runShowingScanWarnings(opener, args);
    String err =
        result
            .err()
            .lines()
            .filter(l -> !UNRESOLVED_SCAN.matcher(l).matches())
            .map(l -> l + "\n")
            .collect(java.util.stream.Collectors.joining());
    return new Result(result.status(), result.out(), err);
  }

  /** The tool's warning about a scan of a machine of this lab, whose names do not resolve. */
  static final java.util.regex.Pattern UNRESOLVED_SCAN =
      java.util.regex.Pattern.compile(
          "machinepool: warning: (\\S+) is (locked without host keys|listed with its stored host"
              + " keys): could not scan the host keys of \\1:22: the name does not resolve .*");

  /** Runs the tool, its scan warnings included. */
  Result runShowingScanWarnings(PoolOpener opener, String... args) {
    List<String> all = new ArrayList<>(Arrays.asList(args));
    if (!all.contains("--db")) {
      all.add("--db");
      all.add(url);
    }
    return runTool(config, opener, all.toArray(String[]::new));
  }

  static Result runTool(TeuthologyConfig config, PoolOpener opener, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status;
    try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
      status = Main.run(args, o, e, config, opener);
    }
    return new Result(
        status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  @Override
  public void close() {
    pool.close();
  }
}
