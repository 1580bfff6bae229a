/**
 * Re-imaging VM slots with the external tool {@code downburst}: {@link
 * io.machinepool.downburst.DownburstProvisioner} creates a VM on lock and destroys it on unlock,
 * {@link io.machinepool.downburst.DownburstExecutable} finds the executable, and {@link
 * io.machinepool.downburst.LibvirtAliases} reads, checks and writes the libvirt URI aliases that
 * downburst's {@code -c <VM host>} relies on.
 */
package io.machinepool.downburst;
