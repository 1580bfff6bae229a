/**
 * SSH host keys of the pool's machines, on JSch: scanning, strict checking against the pool's
 * store, and OpenSSH {@code known_hosts} files kept in step.
 */
module io.machinepool.ssh {
  requires transitive io.machinepool.core;
  requires transitive io.machinepool.config;
  // PoolHostKeyRepository is a JSch HostKeyRepository and MachineSessions hands out JSch sessions,
  // so a module that uses them reads JSch too.
  requires transitive com.jcraft.jsch;
  requires org.slf4j;

  exports io.machinepool.ssh;
}
