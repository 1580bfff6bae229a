package io.machinepool;

import io.machinepool.internal.JdbcInventory;
import java.util.Arrays;
import java.util.List;

/**
 * The machines of the lab, as {@link MachinePool#inventory()} gives them: add, change and remove
 * machines, and mark them up or down. Locks are untouched by everything here except {@link
 * #remove(String)}, which refuses a locked machine.
 */
public final class Inventory {
  private final JdbcInventory rows;
  private final MachinePool pool;

  Inventory(JdbcInventory rows, MachinePool pool) {
    this.rows = rows;
    this.pool = pool;
  }

  /**
   * Adds a machine, up and free.
   *
   * @param spec the machine
   * @throws InvalidRequestException when a machine of that name exists already
   */
  public void add(MachineSpec spec) {
    addAll(List.of(Checks.notNull(spec, "machine spec")));
  }

  /**
   * Adds machines in one transaction: all of them or, when one fails, none.
   *
   * @param specs the machines
   * @throws InvalidRequestException when a machine of one of those names exists already
   */
  public void addAll(List<MachineSpec> specs) {
    pool.checkOpen();
    Checks.notNull(specs, "machine specs");
    specs.forEach(spec -> Checks.notNull(spec, "machine spec"));
    if (!specs.isEmpty()) {
      rows.add(specs);
    }
  }

  /**
   * Adds machines in one transaction.
   *
   * @param specs the machines
   */
  public void addAll(MachineSpec... specs) {
    addAll(Arrays.asList(Checks.notNull(specs, "machine specs")));
  }

  /**
   * Changes a machine's type, VM host, MAC address, OS, architecture, up state or SSH port.
   *
   * @param spec the machine as it should be, found by name
   * @throws NoSuchMachineException when it is not in the inventory
   */
  public void update(MachineSpec spec) {
    pool.checkOpen();
    rows.update(Checks.notNull(spec, "machine spec"));
  }

  /**
   * Removes a free machine and its host keys.
   *
   * @param name the machine
   * @throws NoSuchMachineException when it is not in the inventory
   * @throws LockConflictException when it is locked
   */
  public void remove(String name) {
    pool.checkOpen();
    rows.remove(Checks.machineName(name));
  }

  /**
   * Marks a machine down so that lock requests by type no longer hand it out; the reason becomes
   * its description.
   *
   * @param name the machine
   * @param reason why, e.g. {@code "disk errors on sdb"}
   * @throws NoSuchMachineException when it is not in the inventory
   */
  public void markDown(String name, String reason) {
    pool.checkOpen();
    Checks.machineName(name);
    if (reason == null || reason.isBlank()) {
      throw new InvalidRequestException("say why " + name + " is marked down");
    }
    rows.setUp(name, false, Checks.description(reason));
  }

  /**
   * Marks a machine down and leaves its description as it is, as {@code teuthology-lock --update
   * --status down} does without {@code --desc}: a locked machine keeps its holder's description, so
   * that the holder can still unlock it by that description. Prefer {@link #markDown(String,
   * String)}, which records why.
   *
   * @param name the machine
   * @throws NoSuchMachineException when it is not in the inventory
   */
  public void markDown(String name) {
    pool.checkOpen();
    rows.setUp(Checks.machineName(name), false, null);
  }

  /**
   * Marks a machine up again.
   *
   * @param name the machine
   * @throws NoSuchMachineException when it is not in the inventory
   */
  public void markUp(String name) {
    pool.checkOpen();
    rows.setUp(Checks.machineName(name), true, null);
  }

  /**
   * Sets a machine's description, as {@code teuthology-lock --update --desc} does.
   *
   * @param name the machine
   * @param description the new description, or {@code null} to clear it
   * @throws NoSuchMachineException when it is not in the inventory
   */
  public void describe(String name, String description) {
    pool.checkOpen();
    rows.setDescription(Checks.machineName(name), Checks.description(description));
  }
}
