/**
 * SSH host keys of the pool's machines, on JSch: scanning the keys a machine presents, without
 * authenticating ({@link io.machinepool.ssh.JschHostKeyScanner}, which fails with {@link
 * io.machinepool.ssh.HostKeyScanException}), and strict host key checking against the pool's {@link
 * io.machinepool.HostKeyStore} ({@link io.machinepool.ssh.PoolHostKeyRepository}).
 */
package io.machinepool.ssh;
