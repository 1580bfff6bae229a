package io.machinepool.ssh;

import static io.machinepool.ssh.KnownHostsTesting.hashedHost;
import static io.machinepool.ssh.KnownHostsTesting.isHashOf;
import static io.machinepool.ssh.KnownHostsTesting.line;
import static io.machinepool.ssh.KnownHostsTesting.machine;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.machinepool.ConfigurationException;
import io.machinepool.HostKey;
import io.machinepool.InvalidRequestException;
import io.machinepool.Machine;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KnownHostsFileTest {
  private static final String VM = "vpm011.front.sepia.ceph.com";
  private static final String OTHER = "vpm012.front.sepia.ceph.com";

  private static final HostKey OLD_ED25519 = TestKeys.hostKey(TestKeys.ed25519());
  private static final HostKey OLD_ECDSA = TestKeys.hostKey(TestKeys.ecdsa256());
  private static final HostKey NEW_ED25519 = TestKeys.hostKey(TestKeys.ed25519());
  private static final HostKey NEW_ECDSA = TestKeys.hostKey(TestKeys.ecdsa256());
  private static final HostKey OTHER_KEY = TestKeys.hostKey(TestKeys.ed25519());

  @TempDir Path dir;

  private Path file() {
    return dir.resolve("known_hosts");
  }

  private Path write(String text) throws IOException {
    return Files.write(file(), text.getBytes(StandardCharsets.UTF_8));
  }

  private String read() throws IOException {
    return Files.readString(file(), StandardCharsets.UTF_8);
  }

  private static String lines(String... lines) {
    return String.join("\n", lines) + "\n";
  }

  // --- what is removed and what is added ---

  @Test
  void reimagedHostLosesItsPlainAndHashedEntriesAndGetsItsNewKeys() throws IOException {
    write(
        lines(
            line(VM, OLD_ED25519),
            line(hashedHost(VM), OLD_ECDSA),
            line(OTHER, OTHER_KEY),
            line(hashedHost(OTHER), OTHER_KEY)));
    String otherHashed = read().lines().toList().get(3);

    // plain new lines asked for: by default they would be hashed, as the file has hashed entries
    KnownHostsFile.Result result =
        KnownHostsFile.at(file())
            .hashed(false)
            .update(List.of(machine(VM, null, NEW_ED25519, NEW_ECDSA)));

    assertThat(read())
        .isEqualTo(
            lines(line(OTHER, OTHER_KEY), otherHashed, line(VM, NEW_ED25519), line(VM, NEW_ECDSA)));
    assertThat(result.removed()).isEqualTo(2);
    assertThat(result.added()).isEqualTo(2);
    assertThat(result.hosts()).containsExactly(VM);
    assertThat(result.changed()).isTrue();
    assertThat(result.file()).isEqualTo(file());
  }

  @Test
  void machineWithoutKeysOnlyLosesItsLines() throws IOException {
    write(lines(line(VM, OLD_ED25519), line(OTHER, OTHER_KEY), line(hashedHost(VM), OLD_ECDSA)));

    KnownHostsFile.Result result = KnownHostsFile.at(file()).update(List.of(machine(VM, null)));

    assertThat(read()).isEqualTo(lines(line(OTHER, OTHER_KEY)));
    assertThat(result.removed()).isEqualTo(2);
    assertThat(result.added()).isZero();
  }

  @Test
  void forgetRemovesTheMachinesLinesAndAddsNothing() throws IOException {
    write(
        lines(line(VM, OLD_ED25519), line(OTHER, OTHER_KEY), line("[" + VM + "]:2222", OLD_ECDSA)));

    KnownHostsFile.Result result =
        KnownHostsFile.at(file())
            .forget(List.of(machine(VM, null, NEW_ED25519), machine(VM, 2222, NEW_ECDSA)));

    assertThat(read()).isEqualTo(lines(line(OTHER, OTHER_KEY)));
    assertThat(result.removed()).isEqualTo(2);
    assertThat(result.added()).isZero();
    assertThat(result.hosts()).containsExactly(VM, "[" + VM + "]:2222");
  }

  @Test
  void forgetOfAMissingFileCreatesNothing() {
    Path missing = dir.resolve("absent/.ssh/known_hosts");

    KnownHostsFile.Result result =
        KnownHostsFile.at(missing).forget(List.of(machine(VM, null, OLD_ED25519)));

    assertThat(result.changed()).isFalse();
    assertThat(missing.getParent().getParent()).doesNotExist();
  }

  @Test
  void portEntryIsUpdatedApartFromThePort22EntryOfTheSameName() throws IOException {
    String port = "[" + VM + "]:2222";
    write(
        lines(
            line(VM, OLD_ED25519),
            line(port, OLD_ED25519),
            line(hashedHost(port), OLD_ECDSA),
            line("[" + VM + "]:2223", OLD_ECDSA)));
    String untouched = read().lines().toList().get(3);

    KnownHostsFile plain = KnownHostsFile.at(file()).hashed(false);
    KnownHostsFile.Result result = plain.update(List.of(machine(VM, 2222, NEW_ED25519)));

    assertThat(read()).isEqualTo(lines(line(VM, OLD_ED25519), untouched, line(port, NEW_ED25519)));
    assertThat(result.hosts()).containsExactly(port);

    plain.update(List.of(machine(VM, null, NEW_ECDSA)));

    assertThat(read()).isEqualTo(lines(untouched, line(port, NEW_ED25519), line(VM, NEW_ECDSA)));
  }

  @Test
  void port22MachineAlsoLosesBracketedPort22Entries() throws IOException {
    write(
        lines(
            line("[" + VM + "]:22", NEW_ED25519), line(hashedHost("[" + VM + "]:22"), OLD_ECDSA)));

    KnownHostsFile.Result result =
        KnownHostsFile.at(file()).hashed(false).update(List.of(machine(VM, 22, NEW_ED25519)));

    assertThat(read()).isEqualTo(lines(line(VM, NEW_ED25519)));
    assertThat(result.removed()).isEqualTo(2);
    assertThat(result.added()).isEqualTo(1);
  }

  @Test
  void multiPatternLineIsRemovedWhole() throws IOException {
    write(lines("10.0.0.4," + line(VM + ",10.0.0.5", OLD_ED25519), line(OTHER, OTHER_KEY)));

    KnownHostsFile.Result result =
        KnownHostsFile.at(file()).update(List.of(machine(VM, null, NEW_ED25519)));

    assertThat(read()).isEqualTo(lines(line(OTHER, OTHER_KEY), line(VM, NEW_ED25519)));
    assertThat(result.removed()).isEqualTo(1);
  }

  @Test
  void lineOfTwoUpdatedMachinesIsRemovedOnceAndBothGetTheirKeys() throws IOException {
    write(lines(line(VM + "," + OTHER, OLD_ED25519)));

    KnownHostsFile.Result result =
        KnownHostsFile.at(file())
            .update(List.of(machine(VM, null, NEW_ED25519), machine(OTHER, null, OTHER_KEY)));

    assertThat(read()).isEqualTo(lines(line(VM, NEW_ED25519), line(OTHER, OTHER_KEY)));
    assertThat(result.removed()).isEqualTo(1);
    assertThat(result.added()).isEqualTo(2);
    assertThat(result.hosts()).containsExactly(VM, OTHER);
  }

  @Test
  void lineWithACurrentKeyIsKeptWhereItIs() throws IOException {
    write(
        lines(
            line(VM + ",10.0.0.5", NEW_ED25519) + " a comment",
            line(OTHER, OTHER_KEY),
            line(VM, OLD_ECDSA)));

    KnownHostsFile.Result result =
        KnownHostsFile.at(file()).update(List.of(machine(VM, null, NEW_ED25519, NEW_ECDSA)));

    assertThat(read())
        .isEqualTo(
            lines(
                line(VM + ",10.0.0.5", NEW_ED25519) + " a comment",
                line(OTHER, OTHER_KEY),
                line(VM, NEW_ECDSA)));
    assertThat(result.removed()).isEqualTo(1);
    assertThat(result.added()).isEqualTo(1);
  }

  @Test
  void wildcardAndNegatedLinesAreKept() throws IOException {
    String text =
        lines(
            line("*.front.sepia.ceph.com", OLD_ED25519),
            line("vpm01?.front.sepia.ceph.com", OLD_ED25519),
            line("vpm*", OLD_ECDSA),
            line(VM + ",!" + VM, OLD_ED25519),
            line(VM + ",!vpm01*", OLD_ECDSA),
            line("[vpm011.front.sepia.ceph.*]:2222", OLD_ECDSA));
    write(text);

    KnownHostsFile.Result result =
        KnownHostsFile.at(file()).update(List.of(machine(VM, null), machine(VM, 2222)));

    assertThat(read()).isEqualTo(text);
    assertThat(result.changed()).isFalse();
  }

  @Test
  void negatedPatternOfAnotherHostDoesNotKeepTheLine() throws IOException {
    write(lines(line(VM + ",!" + OTHER, OLD_ED25519)));

    KnownHostsFile.at(file()).update(List.of(machine(VM, null, NEW_ED25519)));

    assertThat(read()).isEqualTo(lines(line(VM, NEW_ED25519)));
  }

  @Test
  void revokedAndCertAuthorityLinesAreKept() throws IOException {
    write(
        lines(
            "@revoked " + line(VM, OLD_ED25519),
            "@cert-authority " + line("*.front.sepia.ceph.com", OTHER_KEY),
            "@cert-authority " + line(VM, OTHER_KEY),
            "@revoked " + line(hashedHost(VM), OLD_ECDSA),
            line(VM, OLD_ED25519)));
    List<String> markers = read().lines().limit(4).toList();

    KnownHostsFile.at(file()).update(List.of(machine(VM, null, NEW_ED25519)));

    List<String> expected = new ArrayList<>(markers);
    expected.add(line(VM, NEW_ED25519));
    assertThat(read()).isEqualTo(lines(expected.toArray(String[]::new)));
  }

  @Test
  void namesMatchIgnoringCaseAndNewEntriesAreLowercasedAsSshLooksThemUp() throws IOException {
    write(
        lines(
            line(VM.toUpperCase(), OLD_ED25519),
            line(hashedHost("VPM011.front.sepia.ceph.com"), OLD_ECDSA),
            line("[" + VM.toUpperCase() + "]:2222", OLD_ECDSA)));

    KnownHostsFile.Result result =
        KnownHostsFile.at(file())
            .hashed(false)
            .update(
                List.of(
                    machine("VPM011.front.sepia.ceph.com", null, NEW_ED25519),
                    machine("VPM011.front.sepia.ceph.com", 2222, NEW_ECDSA)));

    assertThat(read())
        .isEqualTo(lines(line(VM, NEW_ED25519), line("[" + VM + "]:2222", NEW_ECDSA)));
    assertThat(result.hosts()).containsExactly(VM, "[" + VM + "]:2222");
  }

  // --- hashed output ---

  @Test
  void aHashedFileUpdatedWithTheDefaultsStaysAllHashed() throws IOException {
    write(
        lines(
            "# HashKnownHosts yes",
            line(hashedHost(OTHER), OTHER_KEY),
            line(hashedHost(VM), OLD_ED25519)));

    KnownHostsFile.Result result =
        KnownHostsFile.at(file())
            .update(List.of(machine(VM, null, NEW_ED25519), machine(VM, 2222, NEW_ECDSA)));

    assertThat(result.removed()).isEqualTo(1);
    assertThat(result.added()).isEqualTo(2);
    List<String> entries = read().lines().filter(l -> !l.startsWith("#")).toList();
    assertThat(entries).hasSize(3).allSatisfy(l -> assertThat(l).startsWith("|1|"));
    assertThat(isHashOf(entries.get(1).split(" ")[0], VM)).isTrue();
    assertThat(isHashOf(entries.get(2).split(" ")[0], "[" + VM + "]:2222")).isTrue();
    assertThat(read()).doesNotContain("vpm011");
  }

  @Test
  void oneHashedEntryAmongPlainOnesMakesTheDefaultsHashNewLines() throws IOException {
    write(lines(line(OTHER, OTHER_KEY), line(hashedHost("vpm013"), OTHER_KEY)));

    KnownHostsFile.at(file()).update(List.of(machine(VM, null, NEW_ED25519)));

    List<String> written = read().lines().toList();
    assertThat(written).hasSize(3);
    assertThat(written.get(0)).isEqualTo(line(OTHER, OTHER_KEY));
    assertThat(isHashOf(written.get(2).split(" ")[0], VM)).isTrue();
  }

  @Test
  void aPlainOrNewFileUpdatedWithTheDefaultsGetsPlainNames() throws IOException {
    KnownHostsFile.at(file()).update(List.of(machine(VM, null, OLD_ED25519)));
    assertThat(read()).isEqualTo(lines(line(VM, OLD_ED25519)));

    KnownHostsFile.at(file()).update(List.of(machine(VM, null, NEW_ED25519)));
    assertThat(read()).isEqualTo(lines(line(VM, NEW_ED25519)));
  }

  @Test
  void theStaleHashedLinesThatAreRemovedStillMakeTheDefaultsHash() throws IOException {
    write(lines(line(hashedHost(VM), OLD_ED25519)));

    KnownHostsFile.at(file()).update(List.of(machine(VM, null, NEW_ED25519)));

    List<String> written = read().lines().toList();
    assertThat(written).hasSize(1);
    assertThat(isHashOf(written.get(0).split(" ")[0], VM)).isTrue();
  }

  @Test
  void hashedFalseWritesPlainNamesEvenIntoAHashedFile() throws IOException {
    write(lines(line(hashedHost(OTHER), OTHER_KEY)));

    KnownHostsFile.at(file()).hashed(false).update(List.of(machine(VM, null, NEW_ED25519)));

    assertThat(read().lines().toList()).last().isEqualTo(line(VM, NEW_ED25519));
  }

  @Test
  void hashedUpdateWritesHmacOfTheHostWithAFreshSaltPerLine() throws IOException {
    write(lines(line(VM, OLD_ED25519), line(OTHER, OTHER_KEY)));

    KnownHostsFile.at(file())
        .hashed(true)
        .update(List.of(machine(VM, null, NEW_ED25519, NEW_ECDSA), machine(VM, 2222, NEW_ECDSA)));

    List<String> written = read().lines().toList();
    assertThat(written).hasSize(4);
    assertThat(written.get(0)).isEqualTo(line(OTHER, OTHER_KEY));
    String[] first = written.get(1).split(" ");
    String[] second = written.get(2).split(" ");
    String[] third = written.get(3).split(" ");
    assertThat(isHashOf(first[0], VM)).isTrue();
    assertThat(first[1] + " " + first[2]).isEqualTo(NEW_ED25519.toString());
    assertThat(isHashOf(second[0], VM)).isTrue();
    assertThat(second[1] + " " + second[2]).isEqualTo(NEW_ECDSA.toString());
    assertThat(second[0]).isNotEqualTo(first[0]);
    assertThat(isHashOf(third[0], "[" + VM + "]:2222")).isTrue();
    assertThat(isHashOf(third[0], VM)).isFalse();
    assertThat(read()).doesNotContain("vpm011");
  }

  @Test
  void hashedEntriesMadeByOthersAreRecognisedAsCurrent() throws IOException {
    String current = line(hashedHost(VM), NEW_ED25519);
    write(lines(current, line(hashedHost(VM), OLD_ECDSA)));

    KnownHostsFile.Result result =
        KnownHostsFile.at(file()).update(List.of(machine(VM, null, NEW_ED25519)));

    assertThat(read()).isEqualTo(lines(current));
    assertThat(result.removed()).isEqualTo(1);
    assertThat(result.added()).isZero();
  }

  // --- what is kept byte for byte ---

  @Test
  void commentsBlankLinesOtherHostsAndMalformedLinesAreKeptByteForByte() throws IOException {
    byte[] head =
        bytes(
            "# kept by hand; caf\u00e9 \u2013 UTF-8 bytes\n",
            "\n",
            "   \t\n",
            line(OTHER, OTHER_KEY) + "   trailing comment  \n",
            "  # indented comment\t\n");
    byte[] middle =
        bytes(
            "not an entry\n",
            VM + " ssh-ed25519\n",
            VM + " ssh-ed25519 not*base64\n",
            "|1|notbase64!|x " + OLD_ED25519 + "\n",
            "|2|" + hashedHost(VM).substring(3) + " " + OLD_ED25519 + "\n",
            "\t" + line("10.0.0.9", OTHER_KEY) + "\n");
    byte[] tail = bytes("# the end\n");
    byte[] stale = bytes(line(VM, OLD_ED25519) + "\n", "  \t" + line(VM, OLD_ECDSA) + "\n");
    Files.write(file(), concat(head, stale, middle, tail));

    KnownHostsFile.at(file()).update(List.of(machine(VM, null, NEW_ED25519)));

    assertThat(Files.readAllBytes(file()))
        .isEqualTo(concat(head, middle, tail, bytes(line(VM, NEW_ED25519) + "\n")));
  }

  @Test
  void crlfLineEndingsAreKeptAndNewLinesGetThem() throws IOException {
    byte[] head = bytes("# windows\r\n", "\r\n", line(OTHER, OTHER_KEY) + "\r\n");
    byte[] tail = bytes("# mixed, a line with LF only\n", "# the end\r\n");
    Files.write(file(), concat(head, bytes(line(VM, OLD_ED25519) + "\r\n"), tail));

    KnownHostsFile.at(file()).update(List.of(machine(VM, null, NEW_ED25519)));

    assertThat(Files.readAllBytes(file()))
        .isEqualTo(concat(head, tail, bytes(line(VM, NEW_ED25519) + "\r\n")));
  }

  @Test
  void fileWithoutAFinalNewlineGetsNewLinesOnALineOfTheirOwn() throws IOException {
    byte[] text = bytes(line(OTHER, OTHER_KEY) + "\n", "# no newline after this");
    Files.write(file(), text);

    KnownHostsFile.at(file()).update(List.of(machine(VM, null, NEW_ED25519)));

    assertThat(Files.readAllBytes(file()))
        .isEqualTo(concat(text, bytes("\n", line(VM, NEW_ED25519) + "\n")));
  }

  @Test
  void crlfFileWithoutAFinalNewlineGetsACrlfBeforeTheNewLines() throws IOException {
    byte[] text = bytes(line(OTHER, OTHER_KEY) + "\r\n", "# no newline after this");
    Files.write(file(), text);

    KnownHostsFile.at(file()).update(List.of(machine(VM, null, NEW_ED25519)));

    assertThat(Files.readAllBytes(file()))
        .isEqualTo(concat(text, bytes("\r\n", line(VM, NEW_ED25519) + "\r\n")));
  }

  @Test
  void removingOnlyKeepsAMissingFinalNewline() throws IOException {
    byte[] kept = bytes(line(OTHER, OTHER_KEY) + "\n", "# no newline after this");
    Files.write(file(), concat(bytes(line(VM, OLD_ED25519) + "\n"), kept));

    KnownHostsFile.at(file()).forget(List.of(machine(VM, null)));

    assertThat(Files.readAllBytes(file())).isEqualTo(kept);
  }

  @Test
  void removingTheLastLineWithoutNewlineLeavesTheLineBeforeAsItWas() throws IOException {
    byte[] kept = bytes("# first\n", line(OTHER, OTHER_KEY) + "\n");
    Files.write(file(), concat(kept, bytes(line(VM, OLD_ED25519))));

    KnownHostsFile.at(file()).forget(List.of(machine(VM, null)));

    assertThat(Files.readAllBytes(file())).isEqualTo(kept);
  }

  // --- how the file is written ---

  @Test
  void missingFileIsCreatedWith0600InADirectoryCreatedWith0700() throws IOException {
    Path missing = dir.resolve("home/.ssh/known_hosts");

    KnownHostsFile.at(missing).update(List.of(machine(VM, null, NEW_ED25519)));

    assertThat(Files.readString(missing)).isEqualTo(lines(line(VM, NEW_ED25519)));
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(missing)))
        .isEqualTo("rw-------");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(missing.getParent())))
        .isEqualTo("rwx------");
    assertThat(
            PosixFilePermissions.toString(
                Files.getPosixFilePermissions(missing.resolveSibling("known_hosts.lock"))))
        .isEqualTo("rw-------");
  }

  @Test
  void permissionsOfAnExistingFileAreKept() throws IOException {
    for (String permissions : List.of("rw-r--r--", "rw-r-----", "rw-------")) {
      write(lines(line(VM, OLD_ED25519)));
      Files.setPosixFilePermissions(file(), PosixFilePermissions.fromString(permissions));

      KnownHostsFile.at(file()).update(List.of(machine(VM, null, NEW_ED25519)));

      assertThat(read()).isEqualTo(lines(line(VM, NEW_ED25519)));
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file())))
          .isEqualTo(permissions);
    }
  }

  @Test
  void noTemporaryFilesAreLeftBehind() throws IOException {
    KnownHostsFile knownHosts = KnownHostsFile.at(file());
    knownHosts.update(List.of(machine(VM, null, OLD_ED25519)));
    knownHosts.hashed(true).update(List.of(machine(VM, null, NEW_ED25519)));
    knownHosts.forget(List.of(machine(VM, null)));

    assertThat(names(dir)).containsExactlyInAnyOrder("known_hosts", "known_hosts.lock");
  }

  @Test
  void failedReplaceRemovesTheTemporaryFileLeavesTheFileAndNamesIt() throws IOException {
    byte[] before = bytes(lines(line(VM, OLD_ED25519), line(OTHER, OTHER_KEY)));
    Files.write(file(), before);
    KnownHostsFile failing =
        KnownHostsFile.at(file())
            .replacingWith(
                (temporary, target) -> {
                  assertThat(temporary).exists().hasParent(dir);
                  throw new IOException("disk full (simulated)");
                });

    assertThatThrownBy(() -> failing.update(List.of(machine(VM, null, NEW_ED25519))))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining(file().toString())
        .hasMessageContaining("disk full (simulated)");
    assertThat(Files.readAllBytes(file())).isEqualTo(before);
    assertThat(names(dir)).containsExactlyInAnyOrder("known_hosts", "known_hosts.lock");
  }

  @Test
  void nothingIsWrittenWhenTheFileIsAlreadyCurrent() throws IOException {
    Machine vm = machine(VM, null, NEW_ED25519, NEW_ECDSA);
    Machine port = machine(OTHER, 2222, OTHER_KEY);
    for (KnownHostsFile knownHosts :
        List.of(KnownHostsFile.at(file()), KnownHostsFile.at(file()).hashed(true))) {
      Files.deleteIfExists(file());
      knownHosts.update(List.of(vm, port));
      Files.writeString(file(), "# a comment\n", StandardOpenOption.APPEND);
      FileTime past = FileTime.from(Instant.parse("2020-01-01T00:00:00Z"));
      Files.setLastModifiedTime(file(), past);
      byte[] before = Files.readAllBytes(file());
      Object inode = Files.getAttribute(file(), "unix:ino");

      KnownHostsFile.Result again = knownHosts.update(List.of(vm, port));
      KnownHostsFile.Result forgetStranger = knownHosts.forget(List.of(machine("stranger", null)));

      assertThat(again.changed()).isFalse();
      assertThat(again.removed()).isZero();
      assertThat(again.added()).isZero();
      assertThat(again.hosts()).isEmpty();
      assertThat(forgetStranger.changed()).isFalse();
      assertThat(Files.readAllBytes(file())).isEqualTo(before);
      assertThat(Files.getLastModifiedTime(file())).isEqualTo(past);
      assertThat(Files.getAttribute(file(), "unix:ino")).isEqualTo(inode);
    }
  }

  @Test
  void symbolicLinkIsKeptAndTheFileItPointsToIsUpdated() throws IOException {
    Path real = Files.createDirectory(dir.resolve("dotfiles")).resolve("known_hosts");
    Files.writeString(real, lines(line(VM, OLD_ED25519)));
    Path link = Files.createSymbolicLink(file(), real);

    KnownHostsFile.at(link).update(List.of(machine(VM, null, NEW_ED25519)));

    assertThat(Files.isSymbolicLink(link)).isTrue();
    assertThat(Files.readString(real)).isEqualTo(lines(line(VM, NEW_ED25519)));
    assertThat(names(real.getParent()))
        .containsExactlyInAnyOrder("known_hosts", "known_hosts.lock");
  }

  @Test
  void lockHeldElsewhereFailsAfterTheTimeoutNamingTheFiles() throws IOException {
    byte[] before = bytes(lines(line(VM, OLD_ED25519)));
    Files.write(file(), before);
    Path lockFile = dir.resolve("known_hosts.lock");
    try (FileChannel channel =
            FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock held = channel.lock()) {
      assertThat(held.isValid()).isTrue();
      KnownHostsFile knownHosts = KnownHostsFile.at(file()).lockTimeout(Duration.ofMillis(300));
      long start = System.nanoTime();

      assertThatThrownBy(() -> knownHosts.update(List.of(machine(VM, null, NEW_ED25519))))
          .isInstanceOf(ConfigurationException.class)
          .hasMessageContaining(lockFile.toString())
          .hasMessageContaining(file().toString())
          .hasMessageContaining("within 300 ms");
      assertThat(Duration.ofNanos(System.nanoTime() - start))
          .isBetween(Duration.ofMillis(300), Duration.ofSeconds(5));
    }
    assertThat(Files.readAllBytes(file())).isEqualTo(before);
  }

  @Test
  void fileThatCannotBeReadFailsNamingIt() throws IOException {
    Files.createDirectories(file().resolve("not-a-file"));

    assertThatThrownBy(
            () -> KnownHostsFile.at(file()).update(List.of(machine(VM, null, NEW_ED25519))))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("cannot read " + file());
  }

  // --- bad input ---

  @Test
  void badInputIsRejectedBeforeTheFileIsTouched() throws IOException {
    byte[] before = bytes(lines(line(VM, OLD_ED25519)));
    Files.write(file(), before);
    KnownHostsFile knownHosts = KnownHostsFile.at(file());
    List<Machine> withNull = new ArrayList<>();
    withNull.add(machine(OTHER, null, NEW_ED25519));
    withNull.add(null);

    assertInvalid(() -> knownHosts.update(null), "must not be null");
    assertInvalid(() -> knownHosts.forget(null), "must not be null");
    assertInvalid(() -> knownHosts.update(withNull), "is null");
    for (String name : List.of("vpm 011", "vpm011;rm", "*.front", "vpm01?", "!vpm011", "|1|x|y")) {
      assertInvalid(
          () -> knownHosts.update(List.of(machine(name, null, NEW_ED25519))), "[A-Za-z0-9._@:-]");
    }
    assertInvalid(() -> knownHosts.update(List.of(machine("", null))), "[A-Za-z0-9._@:-]");
    assertInvalid(() -> knownHosts.update(List.of(machine(null, null))), "[A-Za-z0-9._@:-]");
    assertInvalid(
        () -> knownHosts.update(List.of(machine("a".repeat(256), null))), "1 to 255 characters");
    assertInvalid(() -> knownHosts.forget(List.of(machine("@revoked", null))), "as a marker");
    assertInvalid(() -> knownHosts.update(List.of(machine(VM, 0))), "outside 1..65535");
    assertInvalid(() -> knownHosts.update(List.of(machine(VM, 65_536))), "outside 1..65535");
    assertInvalid(
        () -> knownHosts.update(List.of(machine(VM, null, NEW_ED25519), machine(VM, 22))),
        "listed more than once");
    assertInvalid(() -> KnownHostsFile.at(null), "must not be null");
    assertInvalid(() -> knownHosts.lockTimeout(null), "must be positive");
    assertInvalid(() -> knownHosts.lockTimeout(Duration.ZERO), "must be positive");
    assertInvalid(() -> knownHosts.lockTimeout(Duration.ofSeconds(-1)), "must be positive");

    assertThat(Files.readAllBytes(file())).isEqualTo(before);
    assertThat(names(dir)).containsExactly("known_hosts");
  }

  @Test
  void emptyListChangesNothing() throws IOException {
    KnownHostsFile.Result result = KnownHostsFile.at(file()).update(Collections.emptyList());

    assertThat(result.changed()).isFalse();
    assertThat(names(dir)).isEmpty();
  }

  @Test
  void userFileIsInTheHomeDirectory() {
    assertThat(KnownHostsFile.ofUser().file())
        .isEqualTo(Path.of(System.getProperty("user.home"), ".ssh", "known_hosts"));
  }

  @Test
  void copiesLeaveTheOriginalAsItWas() throws IOException {
    KnownHostsFile plain = KnownHostsFile.at(file());
    plain.hashed(true).lockTimeout(Duration.ofSeconds(1));

    plain.update(List.of(machine(VM, null, NEW_ED25519)));

    assertThat(read()).isEqualTo(lines(line(VM, NEW_ED25519)));
  }

  // --- helpers ---

  private static void assertInvalid(
      org.assertj.core.api.ThrowableAssert.ThrowingCallable call, String message) {
    assertThatThrownBy(call)
        .isInstanceOf(InvalidRequestException.class)
        .hasMessageContaining(message);
  }

  private static List<String> names(Path directory) throws IOException {
    try (Stream<Path> files = Files.list(directory)) {
      return files.map(p -> p.getFileName().toString()).toList();
    }
  }

  private static byte[] bytes(String... parts) {
    return String.join("", parts).getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Arrays.stream(parts).forEach(out::writeBytes);
    return out.toByteArray();
  }
}
