package io.machinepool;

import io.machinepool.internal.ApiValues;
import java.time.Instant;
import java.util.List;

/**
 * Creates this package's values for the internal code that reads the database; {@link Machine}'s
 * static initializer installs it in {@link ApiValues}.
 */
final class ApiValuesFactory implements ApiValues.Factory {

  @Override
  public Machine machine(
      String name,
      String machineType,
      String vpsHost,
      boolean up,
      boolean locked,
      String lockedBy,
      Instant lockedSince,
      String description,
      String osType,
      String osVersion,
      String arch,
      String macAddress,
      List<HostKey> hostKeys,
      Integer sshPort,
      long generation) {
    return new Machine(
        name,
        machineType,
        vpsHost,
        up,
        locked,
        lockedBy,
        lockedSince,
        description,
        osType,
        osVersion,
        arch,
        macAddress,
        hostKeys,
        sshPort,
        generation);
  }

  @Override
  public Waiter waiter(
      int position,
      String owner,
      String description,
      List<String> names,
      List<String> machineTypes,
      int count,
      String osType,
      String osVersion,
      String arch,
      int priority,
      Instant since) {
    return new Waiter(
        position,
        owner,
        description,
        names,
        machineTypes,
        count,
        osType,
        osVersion,
        arch,
        priority,
        since);
  }

  @Override
  public Summary.Entry summaryEntry(String machineType, String owner, int count, int up) {
    return new Summary.Entry(machineType, owner, count, up);
  }

  @Override
  public Summary summary(List<Summary.Entry> entries, List<Waiter> waiters) {
    return new Summary(entries, waiters);
  }
}
