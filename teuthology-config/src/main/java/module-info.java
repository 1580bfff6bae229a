/**
 * The teuthology configuration file, as far as machinepool uses it: downburst's path and VM sizes,
 * the lab domain, the SSH key and machinepool's own keys. A module of its own so that core needs no
 * YAML parser.
 */
module io.machinepool.config {
  requires io.machinepool.core;
  requires org.yaml.snakeyaml;

  exports io.machinepool.config;
}
