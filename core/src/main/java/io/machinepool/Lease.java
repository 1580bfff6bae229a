package io.machinepool;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The machines one {@link MachinePool#lock(LockRequest)} locked, provisioned and with their current
 * host keys. A lease has a unique token and, unless the request asked to keep its machines until
 * unlocked, an expiry that the pool's heartbeat extends while the lease is open. {@link #close()}
 * destroys the VMs, forgets their host keys and unlocks every machine; it is idempotent.
 *
 * <p>A lease that was not renewed in time may be taken over: the reaper releases it, and its
 * machines may be locked by someone else. Such a lease is {@linkplain #isLost() lost}: it can no
 * longer renew, unlock or destroy anything, because every such operation matches on the token.
 */
public final class Lease implements AutoCloseable {
  enum State {
    OPEN,
    LOST,
    CLOSED
  }

  private final MachinePool pool;
  private final String token;
  private final LockRequest request;
  private final AtomicReference<State> state = new AtomicReference<>(State.OPEN);
  private volatile List<Machine> machines;
  private volatile Instant expiresAt;

  Lease(
      MachinePool pool,
      String token,
      LockRequest request,
      List<Machine> machines,
      Instant expiresAt) {
    this.pool = pool;
    this.token = token;
    this.request = request;
    this.machines = List.copyOf(machines);
    this.expiresAt = expiresAt;
  }

  /**
   * The locked machines, sorted by name, with their host keys as of provisioning.
   *
   * @return the machines
   */
  public List<Machine> machines() {
    return machines;
  }

  /**
   * The machines' names.
   *
   * @return the names, sorted
   */
  public List<String> names() {
    return machines.stream().map(Machine::name).toList();
  }

  /**
   * The teuthology {@code targets:} of the machines.
   *
   * @return the targets
   */
  public Targets targets() {
    return Targets.of(machines);
  }

  /**
   * The lease's unique token; every renew, unlock and destroy matches on it.
   *
   * @return the token
   */
  public String token() {
    return token;
  }

  /**
   * Who holds the lease.
   *
   * @return the owner
   */
  public String owner() {
    return request.owner();
  }

  /**
   * The lock's description.
   *
   * @return the description, possibly {@code null}
   */
  public String description() {
    return request.description();
  }

  /**
   * The request the lease was made for.
   *
   * @return the request
   */
  public LockRequest request() {
    return request;
  }

  /**
   * When the lease expires unless renewed, by the database clock.
   *
   * @return the expiry, or empty for a lock kept until unlocked
   */
  public Optional<Instant> expiresAt() {
    return Optional.ofNullable(expiresAt);
  }

  /**
   * Whether the lease still holds its machines as far as this process knows.
   *
   * @return {@code true} until it is closed or found lost
   */
  public boolean isOpen() {
    return state.get() == State.OPEN;
  }

  /**
   * Whether the lease was found taken over: it expired and was reaped, or its machines were
   * unlocked by their owner through another path.
   *
   * @return {@code true} once lost
   */
  public boolean isLost() {
    return state.get() == State.LOST;
  }

  /**
   * Extends the lease by the pool's lease duration now, instead of waiting for the heartbeat.
   *
   * @throws LockConflictException when the lease was lost
   * @throws PoolClosedException when the lease or its pool is closed
   */
  public void renew() {
    pool.renew(this);
  }

  /**
   * Destroys the VMs, forgets their host keys and unlocks every machine of the lease. Does nothing
   * when the lease is closed already.
   *
   * @throws ProvisioningException when a VM could not be destroyed; that machine stays locked and
   *     is marked down, every other machine is unlocked
   */
  @Override
  public void close() {
    if (state.getAndSet(State.CLOSED) != State.CLOSED) {
      pool.release(this);
    }
  }

  boolean markLost() {
    return state.compareAndSet(State.OPEN, State.LOST);
  }

  State state() {
    return state.get();
  }

  void machines(List<Machine> updated) {
    this.machines = List.copyOf(updated);
  }

  void expiresAt(Instant updated) {
    this.expiresAt = updated;
  }

  @Override
  public String toString() {
    return "Lease[" + token + " " + request.owner() + " " + names() + " " + state.get() + "]";
  }
}
