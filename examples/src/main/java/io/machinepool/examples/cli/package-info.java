/**
 * {@code machinepool}, a {@code teuthology-lock} compatible command-line tool on the library:
 * {@link io.machinepool.examples.cli.Main}. It lists, locks, unlocks and updates the machines of
 * the lock database with teuthology-lock's flags and output formats, lists the queue of locks that
 * wait for machines, and imports an inventory file. {@code mvn package} builds it as the runnable
 * jar {@code examples/target/machinepool.jar}.
 */
package io.machinepool.examples.cli;
