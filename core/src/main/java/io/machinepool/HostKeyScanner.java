package io.machinepool;

import java.time.Duration;
import java.util.List;

/**
 * Asks a host which SSH host keys it presents now, without authenticating. {@code
 * machinepool-provisioning-ssh} provides one on JSch.
 */
public interface HostKeyScanner {

  /**
   * Collects every host key type the server at {@code host:port} offers.
   *
   * @param host the host name or address
   * @param port the SSH port
   * @param timeout how long to wait for the server
   * @return its keys, at least one
   * @throws ProvisioningException when the host is unreachable, refuses, does not speak SSH or
   *     times out
   */
  List<HostKey> scan(String host, int port, Duration timeout);
}
