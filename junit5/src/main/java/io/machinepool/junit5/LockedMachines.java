package io.machinepool.junit5;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Locks machines of the lab for a field or parameter of a {@link MachinePoolTest @MachinePoolTest}
 * class, and unlocks them when their scope ends, also when a test fails or throws:
 *
 * <ul>
 *   <li>a {@code static} field gets one lease for the test class, locked before all its tests (and
 *       its {@code @BeforeAll} methods) and unlocked after all of them. A static field of a
 *       superclass is one field, so the test classes that inherit it and run at the same time share
 *       its lease: the first of them to start locks it, the others get the same lease, and the last
 *       of them to finish unlocks it; a class that starts after that locks it anew. Its default
 *       description names the class that declares the field;
 *   <li>an instance field gets a lease per test instance. With JUnit's default lifecycle, a new
 *       instance per test method, that is a lease per test method, locked before the
 *       {@code @BeforeEach} methods and unlocked after the {@code @AfterEach} methods. Under
 *       {@code @TestInstance(Lifecycle.PER_CLASS)} the class has one instance, and so one lease per
 *       instance field for all its test methods, locked before the {@code @BeforeAll} methods and
 *       unlocked after the {@code @AfterAll} methods; test methods that run concurrently
 *       ({@code @Execution(CONCURRENT)}) then use the same machines at once. A test that needs
 *       machines of its own there declares a parameter;
 *   <li>a parameter of a test or lifecycle method gets a lease per invocation, unlocked when the
 *       test method (for {@code @BeforeAll}/{@code @AfterAll} methods: the class) is done.
 * </ul>
 *
 * <p>The field or parameter is a {@link io.machinepool.Lease}, a {@code List<}{@link
 * io.machinepool.Machine}{@code >}, a {@link io.machinepool.Machine} (for one machine) or the
 * {@link io.machinepool.Targets} of the machines. Ask for machines by type:
 *
 * <pre>{@code
 * @LockedMachines(machineType = "smithi", count = 2, os = "ubuntu", osVersion = "22.04")
 * static List<Machine> cluster;
 * }</pre>
 *
 * <p>or by name:
 *
 * <pre>{@code
 * @LockedMachines(names = {"smithi001.front.sepia.ceph.com", "smithi002.front.sepia.ceph.com"})
 * Lease pair;
 * }</pre>
 *
 * <p>Tests running in parallel never share a machine: each lease is an atomic lock of the pool.
 * When too few machines are free, the lock waits up to {@link #waitUpTo()} seconds for others to be
 * unlocked, so that parallel tests queue for machines instead of failing.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.FIELD, ElementType.PARAMETER})
public @interface LockedMachines {
  /**
   * How many machines of {@link #machineType()} to lock; at least 1, and 1 for a {@link
   * io.machinepool.Machine}. Leave it out when {@link #names() naming} machines.
   *
   * @return the number of machines
   */
  int count() default 1;

  /**
   * The machine type to take machines from, e.g. {@code smithi}; several types allow any of them.
   * Give either this or {@link #names()}.
   *
   * @return the machine types
   */
  String[] machineType() default {};

  /**
   * The machines to lock by name, all or none, whether up or down (as {@code teuthology-lock
   * --lock} does). Give either this or {@link #machineType()}.
   *
   * @return the machine names
   */
  String[] names() default {};

  /**
   * The OS type, e.g. {@code ubuntu}: installed on VM slots, a filter for physical machines. Empty
   * for any.
   *
   * @return the OS type
   */
  String os() default "";

  /**
   * The OS version, e.g. {@code 22.04}; needs {@link #os()}. Empty for any (for VM slots: the
   * provisioner's default).
   *
   * @return the OS version
   */
  String osVersion() default "";

  /**
   * The architecture, e.g. {@code x86_64}: installed on VM slots, a filter for physical machines.
   * Empty for any.
   *
   * @return the architecture
   */
  String arch() default "";

  /**
   * The description of the lock, as {@code teuthology-lock --list} shows it. Empty (the default)
   * names the test: the name without its package of the class that declares a static field, of the
   * test class for a parameter of a {@code @BeforeAll}/{@code @AfterAll} method or an instance
   * field under {@code PER_CLASS}, {@code Class#method} otherwise.
   *
   * @return the description
   */
  String description() default "";

  /**
   * Who holds the lock. Empty (the default) is {@link io.machinepool.LockRequest#defaultOwner()},
   * {@code user@hostname} of this process.
   *
   * @return the owner
   */
  String owner() default "";

  /**
   * How many seconds to wait for enough free machines before the lock fails with a {@link
   * io.machinepool.NotEnoughMachinesException}; 0 fails at once.
   *
   * @return the wait in seconds
   */
  long waitUpTo() default 300;
}
