package io.machinepool;

import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Fans events out to the pool's listeners, so that one failing listener harms nobody. */
final class Listeners implements PoolListener {
  private static final Logger log = LoggerFactory.getLogger(Listeners.class);
  private final List<PoolListener> listeners;

  Listeners(List<PoolListener> listeners) {
    this.listeners = List.copyOf(listeners);
  }

  private void each(String event, Consumer<PoolListener> call) {
    for (PoolListener listener : listeners) {
      try {
        call.accept(listener);
      } catch (RuntimeException e) {
        log.warn("pool listener {} failed on {}: {}", listener, event, e.toString());
      }
    }
  }

  @Override
  public void locked(Lease lease) {
    each("locked", l -> l.locked(lease));
  }

  @Override
  public void provisioningStarted(Machine machine) {
    each("provisioningStarted", l -> l.provisioningStarted(machine));
  }

  @Override
  public void provisioningFinished(Machine machine, Duration took) {
    each("provisioningFinished", l -> l.provisioningFinished(machine, took));
  }

  @Override
  public void provisioningFailed(Machine machine, Throwable failure) {
    each("provisioningFailed", l -> l.provisioningFailed(machine, failure));
  }

  @Override
  public void hostKeysScanned(Machine machine, List<HostKey> keys) {
    each("hostKeysScanned", l -> l.hostKeysScanned(machine, keys));
  }

  @Override
  public void waiting(LockRequest request) {
    each("waiting", l -> l.waiting(request));
  }

  @Override
  public void released(Machine machine) {
    each("released", l -> l.released(machine));
  }

  @Override
  public void leaseExpired(String token, List<String> machines) {
    each("leaseExpired", l -> l.leaseExpired(token, machines));
  }

  @Override
  public void leaseLost(Lease lease, String reason) {
    each("leaseLost", l -> l.leaseLost(lease, reason));
  }
}
