/**
 * The downburst provisioner: re-images a pool's VM slots with the external tool {@code downburst},
 * run as a child process.
 */
module io.machinepool.downburst {
  requires transitive io.machinepool.core;
  requires transitive io.machinepool.config;
  requires org.slf4j;
  requires org.yaml.snakeyaml;

  exports io.machinepool.downburst;
}
