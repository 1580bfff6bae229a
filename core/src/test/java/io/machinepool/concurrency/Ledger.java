package io.machinepool.concurrency;

import java.util.List;

/**
 * An account of who holds which machine, kept apart from machinepool's own tables: a worker claims
 * a machine right after a lock returned it and releases the claim right before it unlocks it. When
 * a claim finds the machine claimed by someone else, two owners held one machine at the same
 * moment, and the ledger records a violation.
 */
interface Ledger {
  /**
   * Claims a machine that a lock just returned.
   *
   * @param machine the machine
   * @param holder who holds it now
   */
  void claim(String machine, String holder);

  /**
   * Gives up a claim, right before the machine is unlocked.
   *
   * @param machine the machine
   * @param holder who held it
   */
  void release(String machine, String holder);

  /**
   * Every moment found where two holders claimed one machine (and any other inconsistency).
   *
   * @return the violations, empty when all went well
   */
  List<String> violations();
}
