package io.machinepool;

import java.util.List;

/**
 * The pool's {@link HostKeyStore} as callers reach it through {@link MachinePool#hostKeys()}:
 * machine names are checked by the input rules of {@link Checks} before the store behind it sees
 * them, so that bad input is refused alike whatever store and database are behind it.
 */
final class CheckedHostKeyStore implements HostKeyStore {
  private final HostKeyStore store;

  CheckedHostKeyStore(HostKeyStore store) {
    this.store = store;
  }

  @Override
  public List<HostKey> keys(String machine) {
    return store.keys(Checks.machineName(machine));
  }

  @Override
  public void replace(String machine, List<HostKey> keys) {
    store.replace(Checks.machineName(machine), keys);
  }

  @Override
  public void forget(String machine) {
    store.forget(Checks.machineName(machine));
  }
}
