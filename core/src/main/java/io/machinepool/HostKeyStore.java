package io.machinepool;

import java.util.List;

/**
 * Where each machine's current SSH host keys live. The pool's own store keeps them in the lock
 * database ({@link MachinePool#hostKeys()}); every key type a machine offers is kept, one key per
 * type.
 */
public interface HostKeyStore {

  /**
   * The keys of a machine.
   *
   * @param machine the machine's name
   * @return its keys, possibly empty
   */
  List<HostKey> keys(String machine);

  /**
   * Replaces every stored key of a machine in one step.
   *
   * @param machine the machine's name
   * @param keys its keys now, at most one per type
   * @throws NoSuchMachineException when the machine is not in the inventory
   */
  void replace(String machine, List<HostKey> keys);

  /**
   * Forgets every key of a machine, e.g. when its VM is destroyed.
   *
   * @param machine the machine's name
   */
  void forget(String machine);
}
