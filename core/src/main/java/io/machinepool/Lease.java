package io.machinepool;

import java.time.Duration;
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
 * <p><b>What a holder is told, and when.</b> A lease with an expiry has a <em>safe deadline</em> on
 * this JVM's monotonic clock: the moment the last successful renewal (or the lock) was sent, plus
 * the lease duration, less the pool's safety margin. The database cannot let anyone else take the
 * machines before the lease's expiry, which is later. When the safe deadline passes without a
 * renewal (the database could not be reached in time), or a renewal finds the machines released or
 * taken over, the lease is {@linkplain #isLost() lost}: {@link #isOpen()} turns {@code false}, the
 * pool's listeners get {@link PoolListener#leaseLost}, and {@link #machines()}, {@link #targets()},
 * {@link #renew()} and {@link #checkSafe()} throw {@link LeaseLostException}. {@link
 * #remainingSafeTime()} says how long the lease is certainly safe; check it before a long step. A
 * lost lease can no longer renew, unlock or destroy anything that someone else holds, because every
 * such operation matches on the token.
 */
public final class Lease implements AutoCloseable {
  /** Where a lease is in its life. */
  public enum State {
    /** It holds its machines and is within its safe deadline. */
    OPEN,
    /** It may no longer hold its machines: stop using them. */
    LOST,
    /**
     * {@link Lease#close()} could not reach the database; the pool keeps trying in the background
     * (a bounded time, after which the lease expires and any pool's reaper frees the machines).
     */
    RELEASING,
    /** It was closed: its machines were released. */
    CLOSED
  }

  private final MachinePool pool;
  private final String token;
  private final LockRequest request;
  private final AtomicReference<State> state = new AtomicReference<>(State.OPEN);
  private volatile List<Machine> machines;
  private final Instant expiresAt;
  private volatile Keeping keeping;
  private volatile String lostReason = "it was released or taken over";

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
   * @throws LeaseLostException when the lease is lost
   */
  public List<Machine> machines() {
    checkSafe();
    return machines;
  }

  /** The machines whatever the state, for the pool's own use. */
  List<Machine> held() {
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
   * @throws LeaseLostException when the lease is lost
   */
  public Targets targets() {
    checkSafe();
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
    Keeping k = keeping;
    return Optional.ofNullable(k != null && k.expiresAt() != null ? k.expiresAt() : expiresAt);
  }

  /**
   * Where the lease is in its life. An open lease whose safe deadline has passed is found lost by
   * this call, even before the pool's watchdog gets to it.
   *
   * @return the state
   */
  public State state() {
    Keeping k = keeping;
    if (k != null && state.get() == State.OPEN) {
      k.loseIfPastDeadline();
    }
    return state.get();
  }

  /**
   * Whether the lease still holds its machines, and is within its safe deadline.
   *
   * @return {@code true} until it is closed or lost
   */
  public boolean isOpen() {
    return state() == State.OPEN;
  }

  /**
   * Whether the lease may no longer hold its machines: its safe deadline passed without a renewal,
   * or its machines were found released or taken over.
   *
   * @return {@code true} once lost (until it is closed)
   */
  public boolean isLost() {
    return state() == State.LOST;
  }

  /**
   * How long the lease is certainly still safe to use: the time left before its safe deadline.
   *
   * @return the time left, {@link Duration#ZERO} once lost or closed; empty for a lock kept until
   *     unlocked, which has no expiry
   */
  public Optional<Duration> remainingSafeTime() {
    if (request.keepUntilUnlocked()) {
      return Optional.empty();
    }
    Keeping k = keeping;
    return Optional.of(state() != State.OPEN || k == null ? Duration.ZERO : k.remaining());
  }

  /**
   * Fails when the lease is lost; for a holder to call before each step it takes on the machines.
   *
   * @throws LeaseLostException when the lease is lost
   */
  public void checkSafe() {
    if (state() == State.LOST) {
      throw new LeaseLostException(
          "lease "
              + token
              + " on "
              + names()
              + " is lost: "
              + lostReason
              + "; stop using its machines and lock again");
    }
  }

  /**
   * Extends the lease by the pool's lease duration now, instead of waiting for the heartbeat. A
   * lease kept until unlocked has no expiry to extend: for it this does nothing.
   *
   * @throws LeaseLostException when the lease is lost, or is found lost now: its machines were
   *     released or taken over, or its safe time ran out before the database answered
   * @throws LockConflictException when the lease is closed or being released
   * @throws DatabaseException when the database could not be reached before the lease's safe time
   *     runs out; the lease stays open and the heartbeat goes on trying
   * @throws MachinePoolException when the thread is interrupted while waiting to retry; the
   *     interrupt flag stays set
   * @throws PoolClosedException when its pool is closed
   */
  public void renew() {
    pool.renew(this);
  }

  /**
   * Destroys the VMs, forgets their host keys and unlocks every machine of the lease. Does nothing
   * when the lease is closed already. When the database cannot be reached, the lease turns {@link
   * State#RELEASING} and the pool keeps trying in the background; calling {@code close()} again
   * tries again at once.
   *
   * @throws ProvisioningException when a VM could not be destroyed; that machine stays locked and
   *     is marked down, every other machine is unlocked
   * @throws DatabaseException when the database could not be reached; the release goes on in the
   *     background
   */
  @Override
  public void close() {
    State before = state.get();
    if (before == State.CLOSED) {
      return;
    }
    if (!state.compareAndSet(before, State.CLOSED)) {
      close();
      return;
    }
    pool.release(this);
  }

  boolean markLost(String reason) {
    lostReason = reason;
    return state.compareAndSet(State.OPEN, State.LOST);
  }

  /** After a failed release: the pool keeps trying in the background. */
  void releasing() {
    state.set(State.RELEASING);
  }

  /** The background release finished. */
  void released() {
    state.compareAndSet(State.RELEASING, State.CLOSED);
  }

  Keeping keeping() {
    return keeping;
  }

  void keeping(Keeping value) {
    this.keeping = value;
  }

  void machines(List<Machine> updated) {
    this.machines = List.copyOf(updated);
  }

  @Override
  public String toString() {
    return "Lease[" + token + " " + request.owner() + " " + names() + " " + state.get() + "]";
  }
}
