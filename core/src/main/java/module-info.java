/**
 * machinepool's core: the pool, its lock store on any JDBC database, leases, the fair waiting
 * queue, and the interfaces a provisioner and a host key scanner implement. Only {@code
 * io.machinepool} is exported; {@code io.machinepool.internal} holds the implementation and is not
 * API, on the module path by construction and on the class path by convention.
 */
module io.machinepool.core {
  requires transitive java.sql;
  requires org.slf4j;

  exports io.machinepool;
}
