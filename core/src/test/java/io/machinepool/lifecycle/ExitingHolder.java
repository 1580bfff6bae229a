package io.machinepool.lifecycle;

import io.machinepool.LockRequest;
import io.machinepool.MachinePool;
import java.time.Duration;
import org.h2.jdbcx.JdbcDataSource;

/**
 * A harness that locks machines and then exits without closing anything, as a test run whose JVM
 * ends does. Arguments: JDBC URL, table prefix, then {@code lease:NAME} or {@code keep:NAME} per
 * machine.
 */
public final class ExitingHolder {
  private ExitingHolder() {}

  /**
   * Locks the machines, says so on standard output, and returns from main (the JVM then exits).
   *
   * @param args URL, prefix, machines
   */
  public static void main(String[] args) {
    JdbcDataSource dataSource = new JdbcDataSource();
    dataSource.setURL(args[0]);
    MachinePool pool =
        MachinePool.builder()
            .dataSource(dataSource)
            .tablePrefix(args[1])
            .leaseDuration(Duration.ofMinutes(10))
            .build();
    for (int i = 2; i < args.length; i++) {
      String[] kindAndName = args[i].split(":", 2);
      LockRequest.Builder request =
          LockRequest.builder().owner("exiting@child").names(kindAndName[1]);
      if (kindAndName[0].equals("keep")) {
        request.keepUntilUnlocked();
      }
      pool.lock(request.build());
    }
    System.out.println("LOCKED");
  }
}
