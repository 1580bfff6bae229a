/**
 * The teuthology configuration file ({@link io.machinepool.config.TeuthologyConfig}), read with
 * SnakeYAML's safe loader, and the VM sizes it gives downburst ({@link
 * io.machinepool.config.DownburstMachine}).
 */
package io.machinepool.config;
