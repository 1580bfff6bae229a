package io.machinepool;

/** The provisioner of physical machines: they are ready as they are and need no clean-up. */
enum NoopProvisioner implements Provisioner {
  INSTANCE;

  @Override
  public Machine provision(Machine machine, LockRequest request) {
    return machine; // a physical machine is ready as it is
  }

  @Override
  public void release(Machine machine) {
    // Nothing was created, so nothing is destroyed.
  }

  @Override
  public String toString() {
    return "no-op provisioner";
  }
}
