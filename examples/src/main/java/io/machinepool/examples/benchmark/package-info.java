/**
 * The lock benchmark: lock+unlock throughput of {@link io.machinepool.MachinePool} against the
 * floor of a bare JDBC loop doing the same conditional writes on an identical table, on H2 and on
 * the PostgreSQL and MariaDB servers given by URL. Run it with {@link
 * io.machinepool.examples.benchmark.LockBenchmark}; {@code docs/BENCHMARKS.md} has the command and
 * the figures.
 */
package io.machinepool.examples.benchmark;
