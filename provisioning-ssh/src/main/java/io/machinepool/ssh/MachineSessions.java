package io.machinepool.ssh;

import com.jcraft.jsch.JSch;
import com.jcraft.jsch.JSchException;
import com.jcraft.jsch.Session;
import io.machinepool.HostKeyStore;
import io.machinepool.InvalidRequestException;
import io.machinepool.Machine;
import io.machinepool.config.TeuthologyConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Function;

/**
 * Opens JSch sessions to machines of the pool with strict host key checking against the pool's
 * {@link HostKeyStore}: the server must present the key recorded when the machine was last
 * provisioned or scanned, or the connection fails with JSch's own {@code
 * JSchUnknownHostKeyException} or {@code JSchChangedHostKeyException}.
 *
 * <pre>{@code
 * MachineSessions sessions = MachineSessions.builder(pool.hostKeys())
 *     .config(TeuthologyConfig.load())      // lab_domain, and ssh_key as the identity
 *     .user("ubuntu")
 *     .build();
 * Session session = sessions.open(lease.machines().get(0));
 * }</pre>
 *
 * <p>Each session gets a {@link PoolHostKeyRepository}, {@code StrictHostKeyChecking=yes} and the
 * machine's inventory name as its host key alias, so that the check is made against the machine
 * whatever address it is reached at (see {@link Builder#hostAddress}). Immutable and thread-safe.
 */
public final class MachineSessions {
  private final HostKeyStore store;
  private final String user;
  private final Path identity;
  private final String password;
  private final Duration connectTimeout;
  private final TeuthologyConfig config;
  private final Function<String, String> hostAddress;

  private MachineSessions(Builder b, Path identity, Function<String, String> hostAddress) {
    this.store = b.store;
    this.user = b.user;
    this.identity = identity;
    this.password = b.password;
    this.connectTimeout = b.connectTimeout;
    this.config = b.config;
    this.hostAddress = hostAddress;
  }

  /**
   * Starts configuring sessions checked against a store.
   *
   * @param store the host key store, normally {@code pool.hostKeys()}
   * @return a new builder
   */
  public static Builder builder(HostKeyStore store) {
    return new Builder(store);
  }

  /**
   * Opens and connects a session to a machine, checking its host key strictly against the store.
   * The caller disconnects it.
   *
   * @param machine the machine, e.g. from {@code lease.machines()}; its SSH port is used when set
   * @return the connected session
   * @throws JSchException when the connection, the host key check or the authentication fails; an
   *     unknown or changed host key fails with {@code JSchUnknownHostKeyException} or {@code
   *     JSchChangedHostKeyException}
   * @throws InvalidRequestException when the machine is {@code null}
   */
  public Session open(Machine machine) throws JSchException {
    if (machine == null) {
      throw new InvalidRequestException("the machine to open an SSH session to is null");
    }
    JSch jsch = new JSch();
    jsch.setHostKeyRepository(new PoolHostKeyRepository(store));
    if (identity != null) {
      jsch.addIdentity(identity.toString());
    }
    String address = hostAddress.apply(config.canonicalize(machine.name()));
    int port = machine.sshPort() == null ? 22 : machine.sshPort();
    Session session = jsch.getSession(user, address, port);
    session.setHostKeyAlias(machine.name());
    session.setConfig("StrictHostKeyChecking", "yes");
    if (password != null) {
      session.setPassword(password);
      session.setConfig("PreferredAuthentications", "password");
    } else {
      session.setConfig("PreferredAuthentications", "publickey");
    }
    session.connect(Math.toIntExact(connectTimeout.toMillis()));
    return session;
  }

  @Override
  public String toString() {
    return "MachineSessions[" + user + (identity == null ? "" : ", " + identity) + "]";
  }

  /** Configures {@link MachineSessions}; {@link #build()} validates everything once. */
  public static final class Builder {
    private final HostKeyStore store;
    private String user = "ubuntu";
    private Path identity;
    private String password;
    private Duration connectTimeout = Duration.ofSeconds(30);
    private TeuthologyConfig config = TeuthologyConfig.empty();
    private Function<String, String> hostAddress;
    private boolean identityFromConfig = true;

    private Builder(HostKeyStore store) {
      this.store = store;
    }

    /**
     * The user to log in as (default {@code ubuntu}, as teuthology does).
     *
     * @param value the user name
     * @return this builder
     */
    public Builder user(String value) {
      this.user = value;
      return this;
    }

    /**
     * The private key to authenticate with (default: the config file's {@code ssh_key}, if any).
     *
     * @param value a private key file readable by this process
     * @return this builder
     */
    public Builder identity(Path value) {
      this.identity = value;
      this.identityFromConfig = false;
      return this;
    }

    /**
     * Authenticates with a password instead of a key (test servers).
     *
     * @param value the password
     * @return this builder
     */
    public Builder password(String value) {
      this.password = value;
      return this;
    }

    /**
     * How long connecting may take, key exchange and authentication included (default 30 s).
     *
     * @param value positive, at most {@link Integer#MAX_VALUE} milliseconds
     * @return this builder
     */
    public Builder connectTimeout(Duration value) {
      this.connectTimeout = value;
      return this;
    }

    /**
     * The teuthology config: short names are completed with its {@code lab_domain}, and its {@code
     * ssh_key} is the identity unless {@link #identity} names one.
     *
     * @param value the config
     * @return this builder
     */
    public Builder config(TeuthologyConfig value) {
      this.config = value;
      return this;
    }

    /**
     * Maps a machine's (completed) name to the host name or address to connect to (default: the
     * config's {@code machine_pool.ssh_addresses} entry of the name, else the name itself). The
     * host key is checked against the machine's name in any case.
     *
     * @param value the mapping
     * @return this builder
     */
    public Builder hostAddress(Function<String, String> value) {
      this.hostAddress = value;
      return this;
    }

    /**
     * Validates the configuration.
     *
     * @return the session opener
     * @throws InvalidRequestException when an option is missing or invalid
     */
    public MachineSessions build() {
      if (store == null) {
        throw new InvalidRequestException(
            "a HostKeyStore is required to check host keys, e.g. pool.hostKeys()");
      }
      if (user == null || user.isBlank() || !user.matches("[A-Za-z0-9._-]+")) {
        throw new InvalidRequestException(
            "SSH user '" + user + "' is not a user name (letters, digits, '.', '_', '-')");
      }
      if (config == null) {
        throw new InvalidRequestException(
            "config must not be null; pass TeuthologyConfig.load() or TeuthologyConfig.empty()");
      }
      if (connectTimeout == null
          || connectTimeout.isNegative()
          || connectTimeout.isZero()
          || connectTimeout.toMillis() > Integer.MAX_VALUE) {
        throw new InvalidRequestException(
            "connectTimeout must be positive and at most "
                + Integer.MAX_VALUE
                + " ms, was "
                + connectTimeout);
      }
      Path key = identity;
      if (identityFromConfig && password == null) {
        key = config.sshKey().orElse(null);
      }
      if (key != null && !Files.isReadable(key)) {
        throw new InvalidRequestException(
            "SSH identity " + key + " is not a readable file; set ssh_key or identity(...)");
      }
      TeuthologyConfig configured = config;
      Function<String, String> address =
          hostAddress != null ? hostAddress : name -> configured.sshAddress(name).orElse(name);
      return new MachineSessions(this, key, address);
    }
  }
}
