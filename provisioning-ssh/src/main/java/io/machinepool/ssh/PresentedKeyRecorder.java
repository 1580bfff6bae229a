package io.machinepool.ssh;

import com.jcraft.jsch.HostKey;
import com.jcraft.jsch.HostKeyRepository;
import com.jcraft.jsch.UserInfo;
import java.util.Optional;

/**
 * The host key repository of one scan connection: it records the key the server presents and
 * answers {@link #NOT_INCLUDED}, so that a session with {@code StrictHostKeyChecking=yes} stops
 * with {@code JSchUnknownHostKeyException} right after the key exchange, before any authentication.
 * It knows no keys, so JSch does not reorder the offered host key algorithms.
 */
final class PresentedKeyRecorder implements HostKeyRepository {
  private volatile byte[] presented;

  /** Records the key and rejects it as unknown. */
  @Override
  public int check(String host, byte[] key) {
    if (key != null) {
      presented = key.clone();
    }
    return NOT_INCLUDED;
  }

  /** The public key blob the server presented, if the key exchange got that far. */
  Optional<byte[]> presented() {
    byte[] key = presented;
    return key == null ? Optional.empty() : Optional.of(key.clone());
  }

  @Override
  public void add(HostKey hostkey, UserInfo ui) {
    // A scan never accepts a key.
  }

  @Override
  public void remove(String host, String type) {
    // Nothing is stored.
  }

  @Override
  public void remove(String host, String type, byte[] key) {
    // Nothing is stored.
  }

  @Override
  public String getKnownHostsRepositoryID() {
    return "the host key scan";
  }

  @Override
  public HostKey[] getHostKey() {
    return new HostKey[0];
  }

  @Override
  public HostKey[] getHostKey(String host, String type) {
    return new HostKey[0];
  }
}
