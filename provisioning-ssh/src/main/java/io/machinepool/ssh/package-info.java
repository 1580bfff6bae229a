/**
 * SSH host keys of the pool's machines: strict JSch host key checking against the pool's {@link
 * io.machinepool.HostKeyStore} ({@link io.machinepool.ssh.PoolHostKeyRepository}), and OpenSSH
 * {@code known_hosts} files kept in step with re-imaged machines ({@link
 * io.machinepool.ssh.KnownHostsFile}).
 */
package io.machinepool.ssh;
