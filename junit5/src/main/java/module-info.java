/**
 * The JUnit 5 extension of machinepool: {@link
 * io.machinepool.junit5.MachinePoolTest @MachinePoolTest} and {@link
 * io.machinepool.junit5.LockedMachines @LockedMachines}.
 *
 * <p>Its API names types of core and of the Jupiter API, so a module that requires this one reads
 * both. The teuthology config module is optional: the default provider uses it only when present.
 * JUnit instantiates the extension and the default provider, both public with public constructors
 * in the exported package, so nothing needs to be opened.
 */
module io.machinepool.junit5 {
  requires transitive io.machinepool.core;
  requires transitive org.junit.jupiter.api;
  requires static io.machinepool.config;
  requires java.sql;
  requires org.slf4j;

  exports io.machinepool.junit5;
}
