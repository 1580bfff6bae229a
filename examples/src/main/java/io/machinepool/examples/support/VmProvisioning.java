package io.machinepool.examples.support;

import io.machinepool.MachinePool;
import io.machinepool.MachinePoolException;
import io.machinepool.Provisioner;
import io.machinepool.ProvisioningException;
import io.machinepool.config.TeuthologyConfig;
import io.machinepool.downburst.DownburstProvisioner;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How the tools provision VM slots: downburst as the teuthology config file describes it, or, where
 * downburst cannot be set up (not installed, say), no VM provisioner and the reason why. A lab of
 * physical machines then works without downburst; the pool refuses VM slots, and the tools add the
 * reason to that refusal.
 *
 * @param provisioner downburst, or {@code null} when it is unavailable
 * @param unavailable why downburst is unavailable, or {@code null}
 */
public record VmProvisioning(Provisioner provisioner, String unavailable) {
  private static final Logger LOG = LoggerFactory.getLogger(VmProvisioning.class);

  /**
   * Sets up downburst from the config file: its path, discover URL, sizes per machine type, and the
   * {@code machine_pool} settings {@code downburst_create_args} and {@code libvirt_config}.
   *
   * @param config the teuthology config
   * @return downburst, or the reason it is unavailable
   */
  public static VmProvisioning fromConfig(TeuthologyConfig config) {
    try {
      return new VmProvisioning(DownburstProvisioner.builder().config(config).build(), null);
    } catch (MachinePoolException e) {
      // a ProvisioningException names no machine here: its reason alone says what is missing
      String reason =
          e instanceof ProvisioningException p ? p.failures().get(0).reason() : e.getMessage();
      LOG.debug("VM slots cannot be provisioned: {}", reason);
      return new VmProvisioning(null, reason);
    }
  }

  /**
   * Configures a pool builder with the provisioner, if there is one.
   *
   * @param builder the builder
   * @return the builder
   */
  public MachinePool.Builder applyTo(MachinePool.Builder builder) {
    return provisioner == null ? builder : builder.provisioner(provisioner);
  }

  /**
   * Why VM slots cannot be provisioned.
   *
   * @return the reason, or empty when downburst is set up
   */
  public Optional<String> unavailableReason() {
    return Optional.ofNullable(unavailable);
  }
}
