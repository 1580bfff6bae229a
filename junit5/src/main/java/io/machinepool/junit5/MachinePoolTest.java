package io.machinepool.junit5;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Marks a test class whose {@link LockedMachines @LockedMachines} fields and parameters get leases
 * of lab machines, through the {@link MachinePoolExtension}.
 *
 * <pre>{@code
 * @MachinePoolTest                                   // the pool of DefaultPoolProvider
 * class UpgradeSuiteTest {
 *   @LockedMachines(machineType = "smithi", count = 3)
 *   static Lease cluster;                           // one lease for the class: locked before all
 *                                                   // tests, unlocked after all of them
 *   @LockedMachines(machineType = "mira")
 *   Machine client;                                 // a lease per test method
 *
 *   @Test
 *   void upgradesTheCluster(@LockedMachines(names = "smithi042.front.sepia.ceph.com") Targets spare) {
 *     // cluster.machines(), client.name(), spare.toYaml() ...
 *   }
 * }
 * }</pre>
 *
 * <p>Every test class annotated with the same {@link #pool() provider} shares one {@link
 * io.machinepool.MachinePool} for the whole test run; it is closed when the run ends.
 */
@Documented
@Inherited
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.ANNOTATION_TYPE})
@ExtendWith(MachinePoolExtension.class)
public @interface MachinePoolTest {
  /**
   * Where the pool comes from: a class with a no-argument constructor. The default reads the lock
   * database from the {@value DefaultPoolProvider#URL_PROPERTY} configuration parameter or system
   * property, else from the teuthology config file, else uses an in-memory H2 database.
   *
   * @return the provider of the pool
   */
  Class<? extends PoolProvider> pool() default DefaultPoolProvider.class;
}
