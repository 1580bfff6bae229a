/**
 * A JUnit 5 extension that hands tests leases of lab machines. Annotate the test class {@link
 * io.machinepool.junit5.MachinePoolTest @MachinePoolTest}, and fields or parameters of type {@link
 * io.machinepool.Lease}, {@code List<Machine>}, {@link io.machinepool.Machine} or {@link
 * io.machinepool.Targets} {@link io.machinepool.junit5.LockedMachines @LockedMachines}: a static
 * field holds its machines for the test class, an instance field for each test method, a parameter
 * for its invocation. The pool comes from a {@link io.machinepool.junit5.PoolProvider}, by default
 * the {@link io.machinepool.junit5.DefaultPoolProvider}.
 */
package io.machinepool.junit5;
