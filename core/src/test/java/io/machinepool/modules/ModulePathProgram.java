package io.machinepool.modules;

import io.machinepool.Lease;
import io.machinepool.LockRequest;
import io.machinepool.Machine;
import io.machinepool.MachinePool;
import io.machinepool.MachineSpec;
import java.util.UUID;
import org.h2.jdbcx.JdbcDataSource;

/**
 * Run by {@link ModulePathTest} in a JVM of its own, with core on the module path: prints what it
 * finds about the module and what a lock does.
 */
final class ModulePathProgram {
  private ModulePathProgram() {}

  public static void main(String[] args) throws Exception {
    Module core = MachinePool.class.getModule();
    System.out.println("module " + core.getName());
    System.out.println("internal exported: " + core.isExported("io.machinepool.internal"));
    boolean reachable;
    try {
      Class.forName("io.machinepool.internal.Database")
          .getMethod("connect", javax.sql.DataSource.class, String.class, int.class)
          .invoke(null, null, "x_", 1);
      reachable = true;
    } catch (IllegalAccessException e) {
      reachable = false;
    }
    System.out.println("internal reachable: " + reachable);

    JdbcDataSource h2 = new JdbcDataSource();
    h2.setURL("jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
    try (MachinePool pool = MachinePool.builder().dataSource(h2).build()) {
      pool.inventory().add(MachineSpec.physical("smithi001", "smithi"));
      try (Lease lease =
          pool.lock(
              LockRequest.builder().owner("alice@build7").machineType("smithi").count(1).build())) {
        System.out.println("locked " + lease.machines().stream().map(Machine::name).toList());
      }
      System.out.println("unlocked: " + !pool.machine("smithi001").orElseThrow().locked());
    }
  }
}
