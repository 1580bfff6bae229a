/**
 * SSH host keys of the pool's machines, on JSch: strict host key checking against the pool's {@link
 * io.machinepool.HostKeyStore} ({@link io.machinepool.ssh.PoolHostKeyRepository}).
 */
package io.machinepool.ssh;
