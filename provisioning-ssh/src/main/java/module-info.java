/**
 * SSH host keys of the pool's machines, on JSch: scanning, strict checking against the pool's
 * store, and OpenSSH {@code known_hosts} files kept in step.
 */
module io.machinepool.ssh {
  requires transitive io.machinepool.core;
  requires transitive io.machinepool.config;
  requires com.jcraft.jsch;
  requires org.slf4j;

  exports io.machinepool.ssh;
}
