package io.machinepool.examples.cli;

import io.machinepool.MachinePool;
import io.machinepool.PoolListener;
import io.machinepool.config.TeuthologyConfig;
import io.machinepool.examples.support.LockDatabase;
import io.machinepool.examples.support.VmProvisioning;
import io.machinepool.ssh.JschHostKeyScanner;
import java.time.Duration;

/**
 * How the tool opens its {@link MachinePool}. {@link #DEFAULT} is what {@code machinepool} itself
 * uses; tests open the pool their own way (on a database they prepared, with a stand-in downburst).
 */
@FunctionalInterface
interface PoolOpener {

  /**
   * How long the tool waits for a connection to a database server: a server that refuses or does
   * not answer is reported within seconds, with the driver's reason.
   */
  Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);

  /**
   * Opens the pool of a lock database.
   *
   * @param databaseUrl the JDBC URL of the lock database
   * @param config the teuthology config file
   * @param listener what hears the pool's events (the tool's progress lines)
   * @return the pool, and what to close with it
   */
  Opened open(String databaseUrl, TeuthologyConfig config, PoolListener listener);

  /**
   * An open pool.
   *
   * @param pool the pool
   * @param vmUnavailable why VM slots cannot be provisioned (downburst is not set up), or {@code
   *     null} when they can
   * @param afterClose run after the pool is closed, e.g. to close the database's connection pool;
   *     may be {@code null}
   * @param scans the pool's host key scanner, which keeps why scans failed; may be {@code null}
   */
  record Opened(MachinePool pool, String vmUnavailable, Runnable afterClose, ScanFailures scans)
      implements AutoCloseable {

    /** An open pool whose scan failures the tool does not see. */
    Opened(MachinePool pool, String vmUnavailable, Runnable afterClose) {
      this(pool, vmUnavailable, afterClose, null);
    }

    /** Closes the pool, then runs {@link #afterClose()}. */
    @Override
    public void close() {
      try {
        pool.close();
      } finally {
        if (afterClose != null) {
          afterClose.run();
        }
      }
    }
  }

  /**
   * The tool's own way: the database of the URL through {@link LockDatabase}, downburst from the
   * config file through {@link VmProvisioning} (or none, and the reason), the config's lease
   * duration and SSH timeout, and a {@link JschHostKeyScanner} that completes short names with the
   * config's {@code lab_domain}.
   *
   * <p>The pool registers no shutdown hook ({@code releaseOnShutdown(false)}): every lock the tool
   * makes is kept until unlocked, so the pool never holds a lease that a hook could release, and
   * the tool closes the pool itself before it exits. A {@code --lock} interrupted while its VMs are
   * being created leaves them locked by the owner; {@code --unlock} destroys and frees them.
   */
  PoolOpener DEFAULT =
      (databaseUrl, config, listener) -> {
        LockDatabase database = LockDatabase.open(databaseUrl, 2, CONNECT_TIMEOUT);
        try {
          VmProvisioning vms = VmProvisioning.fromConfig(config);
          MachinePool.Builder builder =
              MachinePool.builder()
                  .dataSource(database.dataSource())
                  .releaseOnShutdown(false)
                  .listener(listener);
          config.leaseDuration().ifPresent(builder::leaseDuration);
          config.sshTimeout().ifPresent(builder::sshTimeout);
          vms.applyTo(builder);
          ScanFailures scans =
              new ScanFailures(JschHostKeyScanner.builder().config(config).build());
          builder.hostKeyScanner(scans);
          return new Opened(
              builder.build(), vms.unavailableReason().orElse(null), database::close, scans);
        } catch (RuntimeException e) {
          database.close();
          throw e;
        }
      };
}
