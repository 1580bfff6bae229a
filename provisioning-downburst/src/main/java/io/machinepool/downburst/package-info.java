/**
 * Re-imaging VM slots with the external tool {@code downburst}: finding the executable ({@link
 * io.machinepool.downburst.DownburstExecutable}).
 */
package io.machinepool.downburst;
