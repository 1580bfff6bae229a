package io.machinepool;

import java.util.Base64;
import java.util.regex.Pattern;

/**
 * One SSH host key of a machine, as OpenSSH writes it in {@code known_hosts} and teuthology in its
 * {@code targets:}: a key type such as {@code ssh-ed25519} and the base64 encoded public key.
 *
 * @param type the key type, e.g. {@code ssh-ed25519}, {@code ecdsa-sha2-nistp256}, {@code ssh-rsa}
 * @param base64 the public key blob in base64
 */
public record HostKey(String type, String base64) {
  private static final Pattern TYPE = Pattern.compile("[A-Za-z0-9@._+-]{1,64}");
  private static final int MAX_BASE64 = 16_384;

  /**
   * Validates both parts.
   *
   * @throws InvalidRequestException when the type is not a key type or the key is not base64
   */
  public HostKey {
    if (type == null || !TYPE.matcher(type).matches()) {
      throw new InvalidRequestException(
          "host key type '" + type + "' is not a key type such as ssh-ed25519 or ssh-rsa");
    }
    if (base64 == null || base64.isEmpty() || base64.length() > MAX_BASE64) {
      throw new InvalidRequestException(
          "the " + type + " host key is empty or longer than " + MAX_BASE64 + " characters");
    }
    try {
      Base64.getDecoder().decode(base64);
    } catch (IllegalArgumentException e) {
      throw new InvalidRequestException(
          "the " + type + " host key is not valid base64: " + e.getMessage(), e);
    }
  }

  /**
   * Parses {@code "type base64"}, optionally followed by a comment, as found in a {@code
   * known_hosts} line after the host field or in a {@code *.pub} file.
   *
   * @param text the key text
   * @return the key
   * @throws InvalidRequestException when the text is not of that form
   */
  public static HostKey parse(String text) {
    if (text == null) {
      throw new InvalidRequestException("host key text is null; expected 'type base64'");
    }
    String[] parts = text.strip().split("\\s+");
    if (parts.length < 2) {
      throw new InvalidRequestException(
          "cannot parse host key '"
              + text
              + "': expected 'type base64', e.g. 'ssh-ed25519 AAAA...'");
    }
    return new HostKey(parts[0], parts[1]);
  }

  /** Returns {@code "type base64"}, the form {@link #parse(String)} reads. */
  @Override
  public String toString() {
    return type + " " + base64;
  }
}
