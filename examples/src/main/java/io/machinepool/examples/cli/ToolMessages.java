package io.machinepool.examples.cli;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The library's messages as a person at the command line reads them. The library advises its
 * callers in Java ({@code build the pool with .provisioner(...)}, {@code
 * checkLibvirtAliases(false)}, {@code os("ubuntu", "22.04")}); at the tool's boundary that advice
 * becomes the tool's flags and the config file's keys. The library keeps its own messages for its
 * own users. Each rewrite has a test that provokes the library's message through the tool, so that
 * a reworded message fails it instead of passing through untranslated.
 */
final class ToolMessages {
  private record Rewrite(Pattern pattern, String replacement) {
    String apply(String text) {
      return pattern.matcher(text).replaceAll(replacement);
    }
  }

  private static final List<Rewrite> REWRITES =
      List.of(
          rewrite(
              "; build the pool with \\.provisioner\\(\\.\\.\\.\\), e\\.g\\. a DownburstProvisioner",
              "; VM slots need downburst: set downburst: in the config file, or put downburst on"
                  + " PATH"),
          rewrite(
              "; unlock it with a pool built with \\.provisioner\\(\\.\\.\\.\\), e\\.g\\. a"
                  + " DownburstProvisioner",
              "; unlock it where downburst is set up (downburst: in the config file, or on PATH)"),
          rewrite(
              "; add it with inventory\\(\\)\\.add\\(\\.\\.\\.\\)",
              "; add it with machinepool --import FILE"),
          rewrite(
              ": build it with \\.hostKeyScanner\\(\\.\\.\\.\\), e\\.g\\. a JschHostKeyScanner, to"
                  + " scan host keys",
              ""),
          rewrite(
              "\\(LibvirtAliases\\.forCurrentUser\\(\\)\\.add\\(hosts\\) writes them\\), or build the"
                  + " DownburstProvisioner with checkLibvirtAliases\\(false\\) when downburst"
                  + " connects without aliases",
              "or set machine_pool.libvirt_config in the config file to the libvirt.conf that"
                  + " has them"),
          rewrite("([Aa]sk for) arch x86_64", "$1 --arch x86_64", false),
          rewrite(
              "fix the file, or build the DownburstProvisioner with checkLibvirtAliases\\(false\\)",
              "fix the file, or set machine_pool.libvirt_config in the config file to another"
                  + " libvirt.conf"));

  /** {@code os("ubuntu", "22.04")} in a suggestion. */
  private static final Pattern OS_CALL = Pattern.compile("os\\(\"([^\"]*)\", \"([^\"]*)\"\\)");

  private ToolMessages() {}

  private static Rewrite rewrite(String regex, String replacement) {
    return rewrite(regex, replacement, true);
  }

  /** A rewrite whose replacement is taken literally, or may refer to the pattern's groups. */
  private static Rewrite rewrite(String regex, String replacement, boolean literal) {
    return new Rewrite(
        Pattern.compile(regex), literal ? Matcher.quoteReplacement(replacement) : replacement);
  }

  /**
   * A library message in the tool's terms.
   *
   * @param message the library's message, may be {@code null}
   * @return the message with Java advice replaced by flags and config keys
   */
  static String of(String message) {
    if (message == null) {
      return null;
    }
    String text = message;
    for (Rewrite r : REWRITES) {
      text = r.apply(text);
    }
    return OS_CALL.matcher(text).replaceAll("--os-type $1 --os-version $2");
  }
}
