package io.machinepool.ssh;

import com.jcraft.jsch.HostKey;
import com.jcraft.jsch.HostKeyRepository;
import com.jcraft.jsch.JSchException;
import com.jcraft.jsch.UserInfo;
import io.machinepool.HostKeyStore;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A JSch {@link HostKeyRepository} that checks the keys servers present against the pool's {@link
 * HostKeyStore}, the keys recorded when each machine was last provisioned or scanned:
 *
 * <pre>{@code
 * JSch jsch = new JSch();
 * jsch.setHostKeyRepository(new PoolHostKeyRepository(pool.hostKeys()));
 * Session session = jsch.getSession("ubuntu", machine.name());
 * session.setConfig("StrictHostKeyChecking", "yes");
 * }</pre>
 *
 * <p>{@link #check(String, byte[])} answers {@link #OK} when the store holds a key of the presented
 * key's type for that machine and it is the presented key, {@link #CHANGED} when it holds a key of
 * that type that differs, and {@link #NOT_INCLUDED} when it holds none of that type (or knows
 * nothing of the machine). With {@code StrictHostKeyChecking=yes}, JSch therefore accepts only the
 * stored key and rejects an unknown host with {@code JSchUnknownHostKeyException} and a changed key
 * with {@code JSchChangedHostKeyException}.
 *
 * <p>Host names: the store is keyed by machine name. JSch asks about {@code [host]:port} when it
 * connects to a port other than 22; the port is stripped and the host looked up. Connect by the
 * machine's inventory name, or set the session's host key alias to it.
 *
 * <p>The store is written only by the pool: keys enter it from a scan of the machine after it was
 * provisioned, never from a connection. {@link #add(HostKey, UserInfo)} therefore stores nothing
 * (see there), and {@link #remove(String, String, byte[])} only ever forgets keys, so nothing done
 * through this repository can make a key acceptable that the pool did not record.
 *
 * <p>Instances are thread-safe; every call reads the store anew. A failure of the store (such as an
 * unreachable database) propagates out of the call, and thus out of {@code Session.connect}, so
 * that a connection is never accepted unchecked.
 */
public final class PoolHostKeyRepository implements HostKeyRepository {
  private static final Logger LOG = LoggerFactory.getLogger(PoolHostKeyRepository.class);

  /** What {@link #getKnownHostsRepositoryID()} answers. */
  static final String ID = "the machinepool host key store";

  private static final String CERT_SUFFIX = "-cert-v01@openssh.com";

  /** JSch's numbering of the key types it knows. */
  private static final Map<String, Integer> JSCH_TYPES =
      Map.of(
          "ssh-dss", HostKey.SSHDSS,
          "ssh-rsa", HostKey.SSHRSA,
          "ecdsa-sha2-nistp256", HostKey.ECDSA256,
          "ecdsa-sha2-nistp384", HostKey.ECDSA384,
          "ecdsa-sha2-nistp521", HostKey.ECDSA521,
          "ssh-ed25519", HostKey.ED25519,
          "ssh-ed448", HostKey.ED448);

  private final HostKeyStore store;

  /**
   * Creates the repository over a store, normally {@code pool.hostKeys()}.
   *
   * @param store where the machines' current host keys are kept
   */
  public PoolHostKeyRepository(HostKeyStore store) {
    this.store = Objects.requireNonNull(store, "host key store");
  }

  /**
   * Checks a presented host key against the stored keys of the same type.
   *
   * @param host the machine's name, or {@code [name]:port}
   * @param key the public key blob the server presented, in SSH wire format
   * @return {@link #OK}, {@link #CHANGED} or {@link #NOT_INCLUDED}
   */
  @Override
  public int check(String host, byte[] key) {
    if (host == null || key == null) {
      return NOT_INCLUDED;
    }
    Optional<String> type = blobType(key);
    if (type.isEmpty()) {
      LOG.warn("{} presented a host key that is not an SSH public key blob", host);
      return NOT_INCLUDED;
    }
    String machine = machineName(host);
    boolean sameType = false;
    for (io.machinepool.HostKey stored : store.keys(machine)) {
      if (stored.type().equals(type.get())) {
        sameType = true;
        if (MessageDigest.isEqual(decode(stored), key)) {
          LOG.debug("the {} host key of {} matches the stored one", type.get(), machine);
          return OK;
        }
      }
    }
    if (sameType) {
      LOG.warn(
          "the {} host key presented by {} is not the one stored for {}: rejected as changed",
          type.get(),
          host,
          machine);
      return CHANGED;
    }
    LOG.debug("no {} host key is stored for {}: {} is unknown", type.get(), machine, host);
    return NOT_INCLUDED;
  }

  /**
   * Stores nothing. JSch calls this only when a session accepts a key the repository did not vouch
   * for: with {@code StrictHostKeyChecking=no} for an unknown host, or with {@code ask} after the
   * user said yes. Keys enter the pool's store only from a scan after provisioning ({@link
   * HostKeyStore#replace}); a key learnt from a connection would let the next strict check accept
   * it. The session that chose not to check strictly goes on; later strict checks still reject the
   * key. A warning is logged.
   *
   * @param hostkey the key JSch would have recorded
   * @param ui ignored
   */
  @Override
  public void add(HostKey hostkey, UserInfo ui) {
    if (hostkey == null) {
      return;
    }
    LOG.warn(
        "not recording the {} host key of {} in {}: keys are recorded only when machines are"
            + " provisioned or scanned; connect with StrictHostKeyChecking=yes",
        hostkey.getType(),
        hostkey.getHost(),
        ID);
  }

  /**
   * Forgets the stored keys of a machine, as {@link #remove(String, String, byte[])} with no key.
   *
   * @param host the machine's name, or {@code [name]:port}
   * @param type a key type or signature algorithm, or {@code null} for every type
   */
  @Override
  public void remove(String host, String type) {
    remove(host, type, null);
  }

  /**
   * Forgets the stored keys of a machine when one matches. With a {@code null} type every key of
   * the machine is forgotten. Otherwise, when a stored key has that type (and, if given, is that
   * key), <em>every</em> key of the machine is forgotten: the store replaces a machine's keys only
   * as a whole, and forgetting the whole set cannot resurrect a stale key should the machine be
   * re-scanned at the same moment. The next scan records the machine's keys again.
   *
   * @param host the machine's name, or {@code [name]:port}
   * @param type a key type such as {@code ssh-rsa} or a signature algorithm such as {@code
   *     rsa-sha2-512}, or {@code null} for every type
   * @param key the key blob to remove, or {@code null} for any key of that type
   * @throws UnsupportedOperationException when {@code host} is {@code null}: the pool's store is
   *     never cleared through JSch
   */
  @Override
  public void remove(String host, String type, byte[] key) {
    if (host == null) {
      throw new UnsupportedOperationException(
          "the host keys of every machine cannot be removed through JSch; forget them per machine"
              + " with HostKeyStore.forget(machine)");
    }
    String machine = machineName(host);
    if (type != null) {
      String wanted = keyType(type);
      boolean matches =
          store.keys(machine).stream()
              .anyMatch(
                  stored ->
                      stored.type().equals(wanted)
                          && (key == null || MessageDigest.isEqual(decode(stored), key)));
      if (!matches) {
        return;
      }
    }
    LOG.info("forgetting the host keys of {} (removed through JSch)", machine);
    store.forget(machine);
  }

  /**
   * Names this repository in JSch's messages, e.g. "Add correct host key in the machinepool host
   * key store".
   *
   * @return {@code "the machinepool host key store"}
   */
  @Override
  public String getKnownHostsRepositoryID() {
    return ID;
  }

  /**
   * Returns no keys: the store is read machine by machine and cannot list every machine's keys.
   * JSch calls this only to look for {@code @cert-authority} and {@code @revoked} entries, which
   * the store does not have.
   *
   * @return an empty array
   */
  @Override
  public HostKey[] getHostKey() {
    return new HostKey[0];
  }

  /**
   * Returns the stored keys of a machine as JSch host keys, with the machine's name as their host.
   * JSch uses them to prefer the key types it can check. Stored keys of types JSch does not know
   * are left out.
   *
   * @param host the machine's name, or {@code [name]:port}; {@code null} gives no keys (see {@link
   *     #getHostKey()})
   * @param type a key type such as {@code ssh-ed25519}, a signature algorithm such as {@code
   *     rsa-sha2-256}, or {@code null} for every type
   * @return the keys, possibly none
   */
  @Override
  public HostKey[] getHostKey(String host, String type) {
    if (host == null) {
      return getHostKey();
    }
    String machine = machineName(host);
    String wanted = type == null ? null : keyType(type);
    List<HostKey> keys = new ArrayList<>();
    for (io.machinepool.HostKey stored : store.keys(machine)) {
      Integer jschType = JSCH_TYPES.get(stored.type());
      if (jschType == null || (wanted != null && !wanted.equals(stored.type()))) {
        continue;
      }
      try {
        keys.add(new HostKey("", machine, jschType, decode(stored), null));
      } catch (JSchException e) {
        LOG.debug("cannot hand the {} key of {} to JSch", stored.type(), machine, e);
      }
    }
    return keys.toArray(new HostKey[0]);
  }

  /** The machine a host of JSch's names: {@code [name]:port} becomes {@code name}. */
  static String machineName(String host) {
    if (host.startsWith("[")) {
      int end = host.indexOf("]:");
      if (end > 1) {
        return host.substring(1, end);
      }
    }
    return host;
  }

  /**
   * The key type a key type or signature algorithm name stands for: RSA signature algorithms and
   * certificate types name their plain key type.
   */
  static String keyType(String algorithm) {
    String type =
        algorithm.endsWith(CERT_SUFFIX)
            ? algorithm.substring(0, algorithm.length() - CERT_SUFFIX.length())
            : algorithm;
    if (type.equals("rsa-sha2-256")
        || type.equals("rsa-sha2-512")
        || (type.startsWith("ssh-rsa-sha") && type.endsWith("@ssh.com"))) {
      return "ssh-rsa";
    }
    return type;
  }

  /** The key type a public key blob names first, if the blob is one. */
  static Optional<String> blobType(byte[] blob) {
    if (blob.length < 4) {
      return Optional.empty();
    }
    int length = ByteBuffer.wrap(blob, 0, 4).getInt();
    if (length < 1 || length > 64 || length > blob.length - 4) {
      return Optional.empty();
    }
    return Optional.of(new String(blob, 4, length, StandardCharsets.US_ASCII));
  }

  private static byte[] decode(io.machinepool.HostKey key) {
    return Base64.getDecoder().decode(key.base64());
  }
}
