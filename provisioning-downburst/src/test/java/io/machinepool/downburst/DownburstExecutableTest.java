package io.machinepool.downburst;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.machinepool.ProvisioningException;
import io.machinepool.downburst.DownburstExecutable.Lookup;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DownburstExecutableTest {
  @TempDir Path tmp;

  private Path userHome;
  private Path ubuntuHome;
  private Path teuthologyHome;
  private List<Path> homes;

  @BeforeEach
  void homes() throws IOException {
    userHome = Files.createDirectories(tmp.resolve("home/alice"));
    ubuntuHome = Files.createDirectories(tmp.resolve("home/ubuntu"));
    teuthologyHome = Files.createDirectories(tmp.resolve("home/teuthology"));
    homes = List.of(userHome, ubuntuHome, teuthologyHome);
  }

  // --- the configured path ---

  @Test
  void configuredPathWinsOverPathAndHomes() throws IOException {
    Path configured = executable(tmp.resolve("opt/bin/my-downburst"));
    Path bin = dir("bin");
    executable(bin.resolve("downburst"));
    executable(userHome.resolve(DownburstExecutable.VIRTUALENV_BINARY));

    DownburstExecutable found = lookup(Optional.of(configured), path(bin)).locate("-");

    assertThat(found.path()).isEqualTo(configured);
    assertThat(found).hasToString(configured + " (configured)");
  }

  @Test
  void configuredPathThatDoesNotExistIsAnErrorSayingSoEvenWhenPathHasOne() throws IOException {
    Path missing = tmp.resolve("opt/bin/downburst");
    Path bin = dir("bin");
    executable(bin.resolve("downburst"));

    assertThatThrownBy(() -> lookup(Optional.of(missing), path(bin)).locate("-"))
        .isInstanceOf(ProvisioningException.class)
        .hasMessageContaining("configured")
        .hasMessageContaining("'downburst' key")
        .hasMessageContaining(missing + ", cannot be used: does not exist");
  }

  @Test
  void configuredPathThatIsNotExecutableIsAnErrorSayingSo() throws IOException {
    Path configured = plainFile(tmp.resolve("opt/bin/downburst"));

    assertThatThrownBy(() -> lookup(Optional.of(configured), null).locate("-"))
        .isInstanceOf(ProvisioningException.class)
        .hasMessageContaining(configured + ", cannot be used: is not executable");
  }

  @Test
  void configuredDirectoryIsAnErrorSayingSo() throws IOException {
    Path configured = dir("opt/downburst");

    assertThatThrownBy(() -> lookup(Optional.of(configured), null).locate("-"))
        .isInstanceOf(ProvisioningException.class)
        .hasMessageContaining(configured + ", cannot be used: is a directory");
  }

  @Test
  void configuredPathFailureNamesTheMachineBeingProvisioned() {
    ProvisioningException failure =
        catchThrowableOfType(
            ProvisioningException.class,
            () -> lookup(Optional.of(tmp.resolve("nope")), null).locate("vpm011.front"));

    assertThat(failure.machine()).isEqualTo("vpm011.front");
    assertThat(failure.exitCode()).isEmpty();
    assertThat(failure.stderrTail()).isEmpty();
  }

  // --- PATH ---

  @Test
  void firstExecutableOnPathWinsInPathOrder() throws IOException {
    Path empty = dir("empty");
    Path notExecutable = dir("plain");
    plainFile(notExecutable.resolve("downburst"));
    Path directoryNamedDownburst = dir("dirs");
    Files.createDirectories(directoryNamedDownburst.resolve("downburst"));
    Path first = dir("first");
    executable(first.resolve("downburst"));
    Path second = dir("second");
    executable(second.resolve("downburst"));

    DownburstExecutable found =
        lookup(Optional.empty(), path(empty, notExecutable, directoryNamedDownburst, first, second))
            .locate("-");

    assertThat(found.path()).isEqualTo(first.resolve("downburst"));
    assertThat(found.toString()).endsWith("(found on PATH)");
  }

  @Test
  void executableOnPathWinsOverEveryHome() throws IOException {
    Path bin = dir("bin");
    executable(bin.resolve("downburst"));
    for (Path home : homes) {
      executable(home.resolve(DownburstExecutable.VIRTUALENV_BINARY));
    }

    assertThat(lookup(Optional.empty(), path(bin)).locate("-").path())
        .isEqualTo(bin.resolve("downburst"));
  }

  @Test
  void symlinkOnPathToAnExecutableCounts() throws IOException {
    Path target = executable(tmp.resolve("venv/bin/downburst"));
    Path bin = dir("bin");
    Files.createSymbolicLink(bin.resolve("downburst"), target);

    assertThat(lookup(Optional.empty(), path(bin)).locate("-").path())
        .isEqualTo(bin.resolve("downburst"));
  }

  @Test
  void relativeAndEmptyPathEntriesAreNotSearched() throws IOException {
    Path bin = dir("bin");
    String pathVariable =
        String.join(File.pathSeparator, "", "relative/bin", ".", bin.toString(), "");

    ProvisioningException failure =
        catchThrowableOfType(
            ProvisioningException.class, () -> lookup(Optional.empty(), pathVariable).locate("-"));

    assertThat(failure.getMessage())
        .contains("PATH entry 'relative/bin': relative, not searched")
        .contains("PATH entry '.': relative, not searched")
        .contains(bin.resolve("downburst") + " (on PATH): does not exist");
  }

  // --- the virtualenvs under home directories ---

  @Test
  void userHomeVirtualenvIsUsedWhenPathHasNone() throws IOException {
    Path bin = dir("bin");
    for (Path home : homes) {
      executable(home.resolve(DownburstExecutable.VIRTUALENV_BINARY));
    }

    DownburstExecutable found = lookup(Optional.empty(), path(bin)).locate("-");

    assertThat(found.path()).isEqualTo(userHome.resolve(DownburstExecutable.VIRTUALENV_BINARY));
    assertThat(found.toString()).endsWith("(found under " + userHome + ")");
  }

  @Test
  void ubuntuHomeIsUsedWhenTheUsersHomeHasNone() throws IOException {
    executable(ubuntuHome.resolve(DownburstExecutable.VIRTUALENV_BINARY));
    executable(teuthologyHome.resolve(DownburstExecutable.VIRTUALENV_BINARY));

    assertThat(lookup(Optional.empty(), null).locate("-").path())
        .isEqualTo(ubuntuHome.resolve(DownburstExecutable.VIRTUALENV_BINARY));
  }

  @Test
  void teuthologyHomeIsTheLastResort() throws IOException {
    plainFile(userHome.resolve(DownburstExecutable.VIRTUALENV_BINARY));
    Files.createDirectories(ubuntuHome.resolve(DownburstExecutable.VIRTUALENV_BINARY));
    executable(teuthologyHome.resolve(DownburstExecutable.VIRTUALENV_BINARY));

    assertThat(lookup(Optional.empty(), "").locate("-").path())
        .isEqualTo(teuthologyHome.resolve(DownburstExecutable.VIRTUALENV_BINARY));
  }

  @Test
  void defaultHomesAreTheUsersThenUbuntuThenTeuthology() {
    assertThat(DownburstExecutable.defaultHomes())
        .containsExactly(
            Path.of(System.getProperty("user.home")),
            Path.of("/home/ubuntu"),
            Path.of("/home/teuthology"));
  }

  // --- nothing found ---

  @Test
  void nothingFoundListsEveryPlaceTriedInOrderWithWhyEachDidNotQualify() throws IOException {
    Path empty = dir("empty");
    Path notExecutable = dir("plain");
    plainFile(notExecutable.resolve("downburst"));
    Path directoryNamedDownburst = dir("dirs");
    Files.createDirectories(directoryNamedDownburst.resolve("downburst"));
    plainFile(ubuntuHome.resolve(DownburstExecutable.VIRTUALENV_BINARY));

    ProvisioningException failure =
        catchThrowableOfType(
            ProvisioningException.class,
            () ->
                lookup(Optional.empty(), path(empty, notExecutable, directoryNamedDownburst))
                    .locate("-"));

    List<String> lines = Arrays.asList(failure.getMessage().split("\n"));
    assertThat(lines)
        .containsSubsequence(
            "provisioning failed for -: no downburst executable found; looked in these places, in"
                + " order:",
            "  1. " + empty.resolve("downburst") + " (on PATH): does not exist",
            "  2. "
                + notExecutable.resolve("downburst")
                + " (on PATH): is not executable (chmod +x"
                + " it)",
            "  3. "
                + directoryNamedDownburst.resolve("downburst")
                + " (on PATH): is a directory, not an executable file",
            "  4. " + userHome.resolve(DownburstExecutable.VIRTUALENV_BINARY) + ": does not exist",
            "  5. "
                + ubuntuHome.resolve(DownburstExecutable.VIRTUALENV_BINARY)
                + ": is not executable (chmod +x it)",
            "  6. "
                + teuthologyHome.resolve(DownburstExecutable.VIRTUALENV_BINARY)
                + ": does not exist");
    assertThat(lines).noneMatch(line -> line.startsWith("  7. "));
    assertThat(failure.getMessage()).contains("'downburst' key of the teuthology configuration");
    assertThat(failure.machine()).isEqualTo("-");
  }

  @Test
  void nothingFoundSaysWhenPathIsUnset() {
    ProvisioningException failure =
        catchThrowableOfType(
            ProvisioningException.class, () -> lookup(Optional.empty(), null).locate("-"));

    assertThat(failure.getMessage())
        .contains("  1. PATH: not set")
        .contains("  2. " + userHome.resolve(DownburstExecutable.VIRTUALENV_BINARY));
  }

  @Test
  void aHomeListedTwiceIsTriedOnce() {
    Lookup twice = new Lookup(Optional.empty(), null, List.of(userHome, userHome, ubuntuHome));

    ProvisioningException failure =
        catchThrowableOfType(ProvisioningException.class, () -> twice.locate("-"));

    assertThat(failure.getMessage())
        .contains("  3. " + ubuntuHome.resolve(DownburstExecutable.VIRTUALENV_BINARY))
        .doesNotContain("  4. ");
  }

  // --- the public entry point ---

  @Test
  void publicLocateUsesTheConfiguredPath() throws IOException {
    Path configured = executable(tmp.resolve("downburst"));

    assertThat(DownburstExecutable.locate(Optional.of(configured)).path()).isEqualTo(configured);
  }

  @Test
  void publicLocateRejectsAMissingConfiguredPath() {
    assertThatThrownBy(() -> DownburstExecutable.locate(Optional.of(tmp.resolve("missing"))))
        .isInstanceOf(ProvisioningException.class)
        .hasMessageContaining("does not exist");
  }

  @Test
  void executablesFoundAtTheSamePlaceTheSameWayAreEqual() throws IOException {
    Path configured = executable(tmp.resolve("downburst"));

    assertThat(DownburstExecutable.locate(Optional.of(configured)))
        .isEqualTo(DownburstExecutable.locate(Optional.of(configured)))
        .hasSameHashCodeAs(DownburstExecutable.locate(Optional.of(configured)));
  }

  // --- helpers ---

  private Lookup lookup(Optional<Path> configured, String pathVariable) {
    return new Lookup(configured, pathVariable, homes);
  }

  private Path dir(String name) throws IOException {
    return Files.createDirectories(tmp.resolve(name));
  }

  private static String path(Path... directories) {
    return Arrays.stream(directories).map(Path::toString).collect(Collectors.joining(":"));
  }

  private static Path executable(Path file) throws IOException {
    Files.createDirectories(file.getParent());
    Files.writeString(file, "#!/bin/sh\nexit 0\n");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    return file;
  }

  private static Path plainFile(Path file) throws IOException {
    Files.createDirectories(file.getParent());
    Files.writeString(file, "#!/bin/sh\nexit 0\n");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
    return file;
  }
}
