package io.machinepool.examples.cli;

import io.machinepool.HostKey;
import io.machinepool.Lease;
import io.machinepool.LockRequest;
import io.machinepool.Machine;
import io.machinepool.PoolListener;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * The tool's progress lines on standard error, drawn from the pool's events: VM slots being created
 * and destroyed, and a lock joining the queue of waiting requests, always (they take minutes),
 * everything else with {@code -v}. Standard output keeps only the operation's result, so that it
 * can be parsed.
 */
final class Progress implements PoolListener {
  private final PrintStream err;
  private final boolean verbose;
  private volatile boolean destroysVms = true;

  Progress(PrintStream err, boolean verbose) {
    this.err = err;
    this.verbose = verbose;
  }

  /**
   * Says whether the pool destroys VMs on unlock (it has a VM provisioner); when it has none, a VM
   * slot released after a failed lock had no VM to destroy.
   */
  void destroysVms(boolean value) {
    this.destroysVms = value;
  }

  @Override
  public void waiting(LockRequest request) {
    err.println(
        "waiting in the queue for " + request.asks() + " (priority " + request.priority() + ")");
  }

  @Override
  public void locked(Lease lease) {
    if (verbose) {
      err.println("locked " + String.join(", ", lease.names()) + " for " + lease.owner());
    }
  }

  @Override
  public void provisioningStarted(Machine machine) {
    err.println("creating VM " + machine.name() + " on " + machine.vpsHost() + " ...");
  }

  @Override
  public void provisioningFinished(Machine machine, Duration took) {
    err.println(
        String.format(
            Locale.ROOT, "VM %s is ready (%.1f s)", machine.name(), took.toMillis() / 1000.0));
  }

  @Override
  public void provisioningFailed(Machine machine, Throwable failure) {
    if (verbose) {
      err.println("VM " + machine.name() + " failed: " + failure.getMessage());
    }
  }

  @Override
  public void hostKeysScanned(Machine machine, List<HostKey> keys) {
    if (verbose) {
      err.println("scanned " + keys.size() + " host keys of " + machine.name());
    }
  }

  @Override
  public void released(Machine machine) {
    if (machine.isVirtual() && destroysVms) {
      err.println("destroyed VM " + machine.name() + " and unlocked it");
    } else if (verbose) {
      err.println("unlocked " + machine.name());
    }
  }

  @Override
  public void leaseExpired(String token, List<String> machines) {
    if (verbose) {
      err.println("lease " + token + " expired: " + String.join(", ", machines));
    }
  }
}
