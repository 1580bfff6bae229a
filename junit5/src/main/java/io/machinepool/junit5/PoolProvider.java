package io.machinepool.junit5;

import io.machinepool.MachinePool;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Supplies the {@link MachinePool} of the {@link MachinePoolTest @MachinePoolTest} classes that
 * name it. The extension creates one instance of each provider class per test run (through its
 * no-argument constructor, which may be private), calls {@link #open(ExtensionContext)} once, even
 * when test classes run in parallel, and at the end of the run closes the pool, which releases any
 * lease still open, and then calls {@link #close()}.
 *
 * <p>A suite supplies its own pool, with a VM provisioner say, like this:
 *
 * <pre>{@code
 * public final class LabPool implements PoolProvider {
 *   private HikariDataSource database;                 // any DataSource; pooled here
 *
 *   @Override
 *   public MachinePool open(ExtensionContext run) {
 *     database = new HikariDataSource();
 *     database.setJdbcUrl(run.getConfigurationParameter("lab.url").orElseThrow());
 *     return MachinePool.builder()
 *         .dataSource(database)
 *         .provisioner(DownburstProvisioner.builder().config(TeuthologyConfig.load()).build())
 *         .build();
 *   }
 *
 *   @Override
 *   public void close() {
 *     database.close();
 *   }
 * }
 *
 * @MachinePoolTest(pool = LabPool.class)
 * class VmSuiteTest { ... }
 * }</pre>
 */
public interface PoolProvider {
  /**
   * Opens the pool; called once per test run.
   *
   * @param run the extension context of the test run (the root context), e.g. for {@link
   *     ExtensionContext#getConfigurationParameter(String) configuration parameters}
   * @return the pool; the extension closes it at the end of the run
   * @throws Exception when the pool cannot be opened; every test that needs it then fails with it
   */
  MachinePool open(ExtensionContext run) throws Exception;

  /**
   * Releases what the pool was built on (its data source, a lab simulator), after the pool was
   * closed. The default does nothing.
   *
   * @throws Exception when that fails; it is reported as a failure of the test run
   */
  default void close() throws Exception {}
}
