package io.machinepool.downburst;

import io.machinepool.ProvisioningException;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code downburst} executable that VM slots are re-imaged with, and where it was found.
 *
 * <p>{@link #locate(Optional)} looks in this order, and the first hit wins:
 *
 * <ol>
 *   <li>the path configured with the {@code downburst} key of the teuthology configuration file (a
 *       path string, or the {@code path} of a map). When one is configured it is the only
 *       candidate: a configured path that does not exist, is not a regular file or is not
 *       executable is an error that says so, never a reason to run another downburst;
 *   <li>the first executable regular file named {@code downburst} in a directory of {@code PATH},
 *       in the order of {@code PATH}. Empty and relative entries of {@code PATH} are not searched,
 *       so that the working directory never supplies the tool;
 *   <li>{@code src/downburst/virtualenv/bin/downburst} under the current user's home directory
 *       ({@code user.home}), then under {@code /home/ubuntu}, then under {@code /home/teuthology}
 *       (where teuthology's set-up scripts install it).
 * </ol>
 *
 * When nothing is found, a {@link ProvisioningException} lists every place that was tried, in
 * order, and why each did not qualify.
 *
 * <p>Instances are immutable.
 */
public final class DownburstExecutable {
  private static final Logger LOG = LoggerFactory.getLogger(DownburstExecutable.class);

  /** The executable's file name, as looked up on {@code PATH}. */
  static final String NAME = "downburst";

  /** Where teuthology's set-up puts downburst's virtualenv, relative to a home directory. */
  static final String VIRTUALENV_BINARY = "src/downburst/virtualenv/bin/downburst";

  /** The home directories searched after the current user's, in order. */
  static final List<Path> OTHER_HOMES =
      List.of(Path.of("/home/ubuntu"), Path.of("/home/teuthology"));

  /** The machine name a lookup failure is reported for when no VM is being provisioned. */
  static final String NO_MACHINE = "-";

  private final Path path;
  private final String origin;

  private DownburstExecutable(Path path, String origin) {
    this.path = path;
    this.origin = origin;
  }

  /**
   * Finds downburst in this process's environment: the configured path, else {@code PATH} (from the
   * environment), else the virtualenvs under {@code user.home}, {@code /home/ubuntu} and {@code
   * /home/teuthology}.
   *
   * @param configured the path configured with the {@code downburst} key of the configuration file,
   *     or empty when none is configured
   * @return the executable
   * @throws ProvisioningException when the configured path is not an executable file, or when
   *     nothing is configured and no candidate is; the message names every place tried
   */
  public static DownburstExecutable locate(Optional<Path> configured) {
    Objects.requireNonNull(configured, "configured");
    return new Lookup(configured, System.getenv("PATH"), defaultHomes()).locate(NO_MACHINE);
  }

  /**
   * Returns the executable's path, as found: absolute unless a relative path was configured.
   *
   * @return the path to run
   */
  public Path path() {
    return path;
  }

  /**
   * Describes the executable and where it was found, e.g. {@code /usr/local/bin/downburst (found on
   * PATH)}.
   */
  @Override
  public String toString() {
    return path + " (" + origin + ")";
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof DownburstExecutable that
        && path.equals(that.path)
        && origin.equals(that.origin);
  }

  @Override
  public int hashCode() {
    return Objects.hash(path, origin);
  }

  /** The current user's home, then {@code /home/ubuntu} and {@code /home/teuthology}. */
  static List<Path> defaultHomes() {
    List<Path> homes = new ArrayList<>();
    String userHome = System.getProperty("user.home");
    if (userHome != null && !userHome.isBlank()) {
      try {
        homes.add(Path.of(userHome));
      } catch (InvalidPathException e) {
        LOG.debug("user.home '{}' is not a path; not searched for downburst", userHome);
      }
    }
    homes.addAll(OTHER_HOMES);
    return homes;
  }

  /**
   * One lookup with its inputs spelled out, so that tests control {@code PATH} and the home
   * directories.
   *
   * @param configured the configured path, or empty
   * @param pathVariable the value of {@code PATH}, or {@code null} when it is unset
   * @param homes the home directories to search, in order
   */
  record Lookup(Optional<Path> configured, String pathVariable, List<Path> homes) {
    Lookup {
      Objects.requireNonNull(configured, "configured");
      homes = List.copyOf(homes);
    }

    /**
     * Runs the lookup.
     *
     * @param machine the machine to name in a failure: the VM being provisioned, or {@code "-"}
     * @return the executable
     * @throws ProvisioningException when nothing qualifies
     */
    DownburstExecutable locate(String machine) {
      if (configured.isPresent()) {
        return configured(configured.get(), machine);
      }
      List<String> tried = new ArrayList<>();
      DownburstExecutable onPath = searchPath(tried);
      if (onPath != null) {
        return onPath;
      }
      for (Path home : distinct(homes)) {
        Path candidate = home.resolve(VIRTUALENV_BINARY);
        String problem = problem(candidate);
        if (problem == null) {
          return found(candidate, "found under " + home);
        }
        tried.add(candidate + ": " + problem);
      }
      StringBuilder reason =
          new StringBuilder("no downburst executable found; looked in these places, in order:");
      for (int i = 0; i < tried.size(); i++) {
        reason.append("\n  ").append(i + 1).append(". ").append(tried.get(i));
      }
      reason
          .append("\nInstall downburst on PATH or under ~/")
          .append(VIRTUALENV_BINARY)
          .append(", or set the 'downburst' key of the teuthology configuration file to its path");
      throw new ProvisioningException(machine, reason.toString(), null, null, null);
    }

    private static DownburstExecutable configured(Path path, String machine) {
      String problem = problem(path);
      if (problem != null) {
        throw new ProvisioningException(
            machine,
            "the downburst executable configured in the teuthology configuration file ('downburst'"
                + " key), "
                + path
                + ", cannot be used: "
                + problem
                + ". Fix the path or remove the key to search PATH and the usual virtualenvs",
            null,
            null,
            null);
      }
      return found(path, "configured");
    }

    private static DownburstExecutable found(Path path, String origin) {
      DownburstExecutable executable = new DownburstExecutable(path, origin);
      LOG.debug("using downburst {}", executable);
      return executable;
    }

    /** The first executable on PATH, or {@code null}; notes every place looked at. */
    private DownburstExecutable searchPath(List<String> tried) {
      if (pathVariable == null || pathVariable.isBlank()) {
        tried.add("PATH: " + (pathVariable == null ? "not set" : "empty"));
        return null;
      }
      Set<Path> searched = new LinkedHashSet<>();
      for (String entry : pathVariable.split(File.pathSeparator, -1)) {
        if (entry.isEmpty()) {
          continue; // would mean the working directory: never searched
        }
        Path directory;
        try {
          directory = Path.of(entry);
        } catch (InvalidPathException e) {
          tried.add("PATH entry '" + entry + "': not a path");
          continue;
        }
        if (!directory.isAbsolute()) {
          tried.add("PATH entry '" + entry + "': relative, not searched");
          continue;
        }
        if (!searched.add(directory)) {
          continue;
        }
        Path candidate = directory.resolve(NAME);
        String problem = problem(candidate);
        if (problem == null) {
          return found(candidate, "found on PATH");
        }
        tried.add(candidate + " (on PATH): " + problem);
      }
      if (searched.isEmpty()) {
        tried.add("PATH '" + pathVariable + "': no absolute directory to search");
      }
      return null;
    }

    private static List<Path> distinct(List<Path> paths) {
      return List.copyOf(new LinkedHashSet<>(paths));
    }

    /** Why a candidate cannot be run, or {@code null} when it can. */
    private static String problem(Path candidate) {
      if (!Files.exists(candidate)) {
        return "does not exist";
      }
      if (Files.isDirectory(candidate)) {
        return "is a directory, not an executable file";
      }
      if (!Files.isRegularFile(candidate)) {
        return "is not a regular file";
      }
      if (!Files.isExecutable(candidate)) {
        return "is not executable (chmod +x it)";
      }
      return null;
    }
  }
}
