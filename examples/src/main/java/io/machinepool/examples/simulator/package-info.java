/**
 * A local lab simulator: a stand-in for {@code downburst} whose {@code create} starts a real SSH
 * server (Apache MINA SSHD, in a background JVM of its own) for the VM on a loopback port, with
 * fresh host keys every time, and whose {@code destroy} stops it. {@link
 * io.machinepool.examples.simulator.LocalLab} sets up such a lab and hands out what a pool needs to
 * use it: the inventory, a {@code DownburstProvisioner} pointing at the simulator, the addresses of
 * the VMs and the key to log in with.
 */
package io.machinepool.examples.simulator;
