/**
 * The benchmarks of the {@code benchmark} profile. The lock benchmark: lock+unlock throughput of
 * {@link io.machinepool.MachinePool} against the floor of a bare JDBC loop doing the same
 * conditional writes on an identical table, on H2 and on the PostgreSQL and MariaDB servers given
 * by URL; run it with {@link io.machinepool.examples.benchmark.LockBenchmark}. The starvation
 * benchmark: how long a request for 5 of 6 machines waits while four requesters of one machine each
 * keep the lab busy; run it with {@link io.machinepool.examples.benchmark.StarvationBenchmark}. The
 * scale and churn benchmark: lock-many, close, listing and summary in a lab of 10,000 machines
 * against a bare-SQL floor, and whether lock-many slows down as the table churns; run it with
 * {@link io.machinepool.examples.benchmark.ScaleBenchmark}. {@code docs/BENCHMARKS.md} has the
 * commands and the figures.
 */
package io.machinepool.examples.benchmark;
