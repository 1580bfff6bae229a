package io.machinepool.examples.cli;

import io.machinepool.HostKey;
import io.machinepool.HostKeyScanner;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The tool's host key scanner: another scanner's answers, and the reason of each scan that failed,
 * by machine, so that the tool can say in one plain line per machine what the library logs (a
 * machine locked without host keys, a VM listed with its stored keys).
 */
final class ScanFailures implements HostKeyScanner {
  private final HostKeyScanner scanner;
  private final Map<String, String> reasons = new ConcurrentHashMap<>();

  ScanFailures(HostKeyScanner scanner) {
    this.scanner = scanner;
  }

  @Override
  public List<HostKey> scan(String host, int port, Duration timeout) {
    try {
      List<HostKey> keys = scanner.scan(host, port, timeout);
      if (keys == null || keys.isEmpty()) {
        reasons.put(host, "it presented no host keys");
      } else {
        reasons.remove(host);
      }
      return keys;
    } catch (RuntimeException e) {
      reasons.put(host, String.valueOf(e.getMessage()));
      throw e;
    }
  }

  /**
   * Why the last scan of a machine failed.
   *
   * @param machine the machine's name
   * @return the reason, or empty when it was not scanned or answered
   */
  Optional<String> reason(String machine) {
    return Optional.ofNullable(reasons.get(machine));
  }

  @Override
  public String toString() {
    return scanner.toString();
  }
}
