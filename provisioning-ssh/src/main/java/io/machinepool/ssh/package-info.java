/**
 * SSH host keys of the pool's machines, on JSch: scanning the keys a machine presents, without
 * authenticating ({@link io.machinepool.ssh.JschHostKeyScanner}, which fails with {@link
 * io.machinepool.ssh.HostKeyScanException}); strict host key checking against the pool's {@link
 * io.machinepool.HostKeyStore} ({@link io.machinepool.ssh.PoolHostKeyRepository}, and {@link
 * io.machinepool.ssh.MachineSessions} to open sessions checked that way); and OpenSSH {@code
 * known_hosts} files kept in step with re-imaged machines ({@link
 * io.machinepool.ssh.KnownHostsFile}).
 */
package io.machinepool.ssh;
