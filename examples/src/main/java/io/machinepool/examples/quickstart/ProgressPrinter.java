package io.machinepool.examples.quickstart;

import io.machinepool.HostKey;
import io.machinepool.Lease;
import io.machinepool.Machine;
import io.machinepool.PoolListener;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Prints the pool's events as they happen, one line each with the seconds since the quickstart
 * started: what a progress display of a harness draws from a {@link PoolListener}. Events of the
 * machines of one request come from several threads at once; lines are printed whole.
 */
final class ProgressPrinter implements PoolListener {
  private final PrintStream out;
  private final long started = System.nanoTime();

  ProgressPrinter(PrintStream out) {
    this.out = out;
  }

  @Override
  public void locked(Lease lease) {
    print("locked " + String.join(", ", shortNames(lease.names())) + " in the database");
  }

  @Override
  public void provisioningStarted(Machine machine) {
    print(shortName(machine.name()) + ": downburst create on " + shortName(machine.vpsHost()));
  }

  @Override
  public void provisioningFinished(Machine machine, Duration took) {
    print(
        String.format(
            Locale.ROOT,
            "%s: created with %s %s in %.1f s",
            shortName(machine.name()),
            machine.osType(),
            machine.osVersion(),
            took.toMillis() / 1000.0));
  }

  @Override
  public void provisioningFailed(Machine machine, Throwable failure) {
    print(shortName(machine.name()) + ": failed: " + failure.getMessage());
  }

  @Override
  public void hostKeysScanned(Machine machine, List<HostKey> keys) {
    print(
        shortName(machine.name())
            + ": SSH answers; host keys "
            + keys.stream().map(HostKey::type).collect(Collectors.joining(", ")));
  }

  @Override
  public void released(Machine machine) {
    print(
        shortName(machine.name())
            + (machine.isVirtual() ? ": destroyed, keys forgotten, unlocked" : ": unlocked"));
  }

  private void print(String event) {
    double seconds = (System.nanoTime() - started) / 1e9;
    synchronized (out) {
      out.printf(Locale.ROOT, "   [%5.1f s] %s%n", seconds, event);
    }
  }

  private static List<String> shortNames(List<String> names) {
    return names.stream().map(ProgressPrinter::shortName).toList();
  }

  private static String shortName(String name) {
    int dot = name.indexOf('.');
    return dot < 0 ? name : name.substring(0, dot);
  }
}
