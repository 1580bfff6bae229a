package io.machinepool.downburst;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.machinepool.ConfigurationException;
import io.machinepool.InvalidRequestException;
import io.machinepool.LockRequest;
import io.machinepool.config.TeuthologyConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/** Reading, checking, rendering and writing libvirt URI aliases. */
class LibvirtAliasesTest {
  static final String MIRA1 = "mira001.front.sepia.ceph.com";
  static final String MIRA2 = "mira002.front.sepia.ceph.com";
  static final String MIRA3 = "mira003.front.sepia.ceph.com";

  static final String CONF =
      """
      # libvirt client configuration
      uri_default = "qemu:///system"

      #uri_aliases = [
      #  "commented=qemu:///system",
      #]
      uri_aliases = [
        "mira001=qemu+ssh://ubuntu@mira001.front.sepia.ceph.com/system?no_tty=1",  # the first
        # a comment between entries
        'hail=qemu+ssh://root@hail.example.com/system',
      ]

      remote_mode = "legacy"   # keep me
      """;

  @TempDir Path tmp;

  Path file(String text) throws IOException {
    Path file = tmp.resolve("libvirt/libvirt.conf");
    Files.createDirectories(file.getParent());
    Files.writeString(file, text);
    return file;
  }

  // --- where the file is ---

  @Test
  void rootReadsOnlyTheSystemFile() throws IOException {
    Path home = Files.createDirectories(tmp.resolve("root"));
    Files.createDirectories(home.resolve(".config/libvirt"));
    Files.writeString(home.resolve(".config/libvirt/libvirt.conf"), "");

    assertThat(LibvirtAliases.defaultFile(true, tmp.toString(), home))
        .isEqualTo(Path.of("/etc/libvirt/libvirt.conf"));
  }

  @Test
  void otherUsersReadXdgConfigHomeElseDotConfigElseTheLegacyFile() throws IOException {
    Path home = Files.createDirectories(tmp.resolve("home/alice"));
    Path xdg = tmp.resolve("xdg");

    assertThat(LibvirtAliases.defaultFile(false, xdg.toString(), home))
        .isEqualTo(xdg.resolve("libvirt/libvirt.conf"));
    assertThat(LibvirtAliases.defaultFile(false, null, home))
        .isEqualTo(home.resolve(".config/libvirt/libvirt.conf"));
    assertThat(LibvirtAliases.defaultFile(false, "relative/dir", home))
        .isEqualTo(home.resolve(".config/libvirt/libvirt.conf"));

    Path legacy = home.resolve(".libvirt/libvirt.conf");
    Files.createDirectories(legacy.getParent());
    Files.writeString(legacy, "");
    assertThat(LibvirtAliases.defaultFile(false, "", home)).isEqualTo(legacy);

    Path current = home.resolve(".config/libvirt/libvirt.conf");
    Files.createDirectories(current.getParent());
    Files.writeString(current, "");
    assertThat(LibvirtAliases.defaultFile(false, null, home)).isEqualTo(current);
  }

  @Test
  void forCurrentUserFollowsTheRules() {
    Path expected =
        LibvirtAliases.defaultFile(
            LibvirtAliases.isRoot(),
            System.getenv("XDG_CONFIG_HOME"),
            Path.of(System.getProperty("user.home")));

    assertThat(LibvirtAliases.forCurrentUser().file()).isEqualTo(expected);
  }

  // --- reading ---

  @Test
  void readsAListSpanningLinesWithCommentsAndBothQuotes() throws IOException {
    Map<String, String> aliases = LibvirtAliases.of(file(CONF)).read();

    assertThat(aliases)
        .containsExactly(
            Map.entry("mira001", "qemu+ssh://ubuntu@mira001.front.sepia.ceph.com/system?no_tty=1"),
            Map.entry("hail", "qemu+ssh://root@hail.example.com/system"));
  }

  @Test
  void aMissingFileOrSettingHasNoAliases() throws IOException {
    assertThat(LibvirtAliases.of(tmp.resolve("nope.conf")).read()).isEmpty();
    assertThat(LibvirtAliases.of(file("uri_default = \"qemu:///system\"\n")).read()).isEmpty();
    assertThat(LibvirtAliases.of(file("uri_aliases = [ ]\n")).read()).isEmpty();
  }

  @Test
  void aMalformedSettingIsAConfigurationErrorNamingTheFile() throws IOException {
    Path noBracket = file("uri_aliases = [\n  \"a=qemu:///system\",\n");
    assertThatThrownBy(() -> LibvirtAliases.of(noBracket).read())
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining(noBracket.toString())
        .hasMessageContaining("no closing ']'");

    Path noEquals = file("uri_aliases = [ \"mira001\" ]\n");
    assertThatThrownBy(() -> LibvirtAliases.of(noEquals).read())
        .hasMessageContaining("\"mira001\" is not of the form name=URI");

    Path noComma = file("uri_aliases = [ \"a=b\" \"c=d\" ]\n");
    assertThatThrownBy(() -> LibvirtAliases.of(noComma).read()).hasMessageContaining("unexpected");
  }

  @Test
  void missingListsTheHostsWithoutAnAlias() throws IOException {
    LibvirtAliases aliases = LibvirtAliases.of(file(CONF));

    assertThat(aliases.missing(List.of(MIRA1, MIRA2, "hail.example.com", MIRA2)))
        .containsExactly(MIRA2);
  }

  // --- rendering and writing ---

  @Test
  void rendersEntriesForVmHosts() {
    assertThat(LibvirtAliases.entry(MIRA1))
        .isEqualTo("mira001=qemu+ssh://ubuntu@mira001.front.sepia.ceph.com/system?no_tty=1");
    assertThat(LibvirtAliases.render(List.of(MIRA1, MIRA2)))
        .isEqualTo(
            """
            uri_aliases = [
              "mira001=qemu+ssh://ubuntu@mira001.front.sepia.ceph.com/system?no_tty=1",
              "mira002=qemu+ssh://ubuntu@mira002.front.sepia.ceph.com/system?no_tty=1",
            ]
            """);
  }

  @Test
  void addingKeepsEverythingElseAndExistingAliases() throws IOException {
    Path file = file(CONF);
    LibvirtAliases aliases = LibvirtAliases.of(file);

    List<String> added = aliases.add(List.of(MIRA1, MIRA2, MIRA3));

    assertThat(added).containsExactly(LibvirtAliases.entry(MIRA2), LibvirtAliases.entry(MIRA3));
    String text = Files.readString(file);
    int insertion = CONF.indexOf("'hail=qemu+ssh://root@hail.example.com/system',") + 47;
    assertThat(text)
        .startsWith(CONF.substring(0, insertion))
        .endsWith(CONF.substring(insertion))
        .contains("remote_mode = \"legacy\"   # keep me")
        .contains("# a comment between entries");
    assertThat(aliases.read())
        .containsOnlyKeys("mira001", "hail", "mira002", "mira003")
        .containsEntry("hail", "qemu+ssh://root@hail.example.com/system");
    assertThat(aliases.add(List.of(MIRA2))).isEmpty();
  }

  @Test
  void anExistingAliasWithAnotherUriIsLeftAlone() throws IOException {
    Path file = file("uri_aliases = [ \"mira002=qemu+ssh://root@10.0.0.2/system\" ]\n");

    assertThat(LibvirtAliases.of(file).add(List.of(MIRA2, MIRA3)))
        .containsExactly(LibvirtAliases.entry(MIRA3));
    assertThat(LibvirtAliases.of(file).read())
        .containsEntry("mira002", "qemu+ssh://root@10.0.0.2/system")
        .containsKey("mira003");
    assertThat(Files.readString(file))
        .startsWith("uri_aliases = [ \"mira002=qemu+ssh://root@10.0.0.2/system\",\n");
  }

  @Test
  void addingToAnEmptyListOrAFileWithoutTheSettingOrNoFileAtAll() throws IOException {
    Path empty = file("uri_aliases = []\n");
    LibvirtAliases.of(empty).add(List.of(MIRA1));
    assertThat(LibvirtAliases.of(empty).read()).containsOnlyKeys("mira001");

    Path other = tmp.resolve("other.conf");
    Files.writeString(other, "uri_default = \"qemu:///system\"");
    LibvirtAliases.of(other).add(List.of(MIRA1, MIRA2));
    assertThat(Files.readString(other))
        .isEqualTo(
            "uri_default = \"qemu:///system\"\n" + LibvirtAliases.render(List.of(MIRA1, MIRA2)));

    Path none = tmp.resolve("new/dir/libvirt.conf");
    LibvirtAliases.of(none).add(List.of(MIRA1));
    assertThat(Files.readString(none)).isEqualTo(LibvirtAliases.render(List.of(MIRA1)));
  }

  @Test
  @EnabledOnOs(OS.LINUX)
  void writingIsAtomicAndKeepsPermissions() throws IOException {
    Path file = file(CONF);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));

    LibvirtAliases.of(file).add(List.of(MIRA2));

    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
        .isEqualTo("rw-------");
    try (Stream<Path> files = Files.list(file.getParent())) {
      assertThat(files.map(p -> p.getFileName().toString())).containsExactly("libvirt.conf");
    }
  }

  // --- the check before locking ---

  @Test
  @EnabledOnOs(OS.LINUX)
  void validateFailsForAVmHostWithoutAliasSpellingOutTheFix() throws IOException {
    Path file = file(CONF);
    FakeDownburst fake = new FakeDownburst(tmp);
    DownburstProvisioner provisioner =
        DownburstProvisioner.builder()
            .config(TeuthologyConfig.parse("downburst: " + fake.executable(), null))
            .environment(Map.of("PATH", "/usr/bin:/bin"))
            .homes(List.of())
            .libvirtConfig(file)
            .build();
    LockRequest request = LockRequest.builder().owner("a@b").machineType("vps").count(2).build();

    assertThatThrownBy(() -> provisioner.validate(request, new TreeSet<>(List.of(MIRA1, MIRA2))))
        .isInstanceOf(InvalidRequestException.class)
        .hasMessageContaining(
            "no libvirt URI alias for 'mira002' (VM host " + MIRA2 + ") in " + file)
        .hasMessageContaining(
            "add this entry to the uri_aliases list of "
                + file
                + ":\n"
                + "  \"mira002=qemu+ssh://ubuntu@mira002.front.sepia.ceph.com/system?no_tty=1\",\n")
        .hasMessageContaining("checkLibvirtAliases(false)");
    assertThat(fake.calls()).as("nothing ran before the alias check failed").isEmpty();

    LibvirtAliases.of(file).add(List.of(MIRA2));
    fake.listJson("{\"ubuntu\": [\"24.04(noble)\"]}");
    assertThatCode(() -> provisioner.validate(request, new TreeSet<>(List.of(MIRA1, MIRA2))))
        .doesNotThrowAnyException();
  }

  @Test
  @EnabledOnOs(OS.LINUX)
  void shortVmHostNamesAreCompletedWithTheLabDomainInTheFix() throws IOException {
    FakeDownburst fake = new FakeDownburst(tmp);
    Path file = tmp.resolve("absent.conf");
    DownburstProvisioner provisioner =
        DownburstProvisioner.builder()
            .config(
                TeuthologyConfig.parse(
                    "downburst: " + fake.executable() + "\nlab_domain: front.sepia.ceph.com\n",
                    null))
            .environment(Map.of("PATH", "/usr/bin:/bin"))
            .homes(List.of())
            .libvirtConfig(file)
            .build();
    LockRequest request = LockRequest.builder().owner("a@b").names("vpm011").build();

    assertThatThrownBy(() -> provisioner.validate(request, new TreeSet<>(List.of("mira001"))))
        .isInstanceOf(InvalidRequestException.class)
        .hasMessageContaining("(the file does not exist yet)")
        .hasMessageContaining(
            "\"mira001=qemu+ssh://ubuntu@mira001.front.sepia.ceph.com/system?no_tty=1\"");
  }

  @Test
  @EnabledOnOs(OS.LINUX)
  void theCheckCanBeTurnedOff() {
    FakeDownburst fake = new FakeDownburst(tmp);
    fake.listJson("{\"ubuntu\": [\"24.04(noble)\"]}");
    DownburstProvisioner provisioner =
        DownburstProvisioner.builder()
            .config(TeuthologyConfig.parse("downburst: " + fake.executable(), null))
            .environment(Map.of("PATH", "/usr/bin:/bin"))
            .homes(List.of())
            .libvirtConfig(tmp.resolve("absent.conf"))
            .checkLibvirtAliases(false)
            .build();
    LockRequest request = LockRequest.builder().owner("a@b").machineType("vps").count(1).build();

    assertThatCode(() -> provisioner.validate(request, new TreeSet<>(List.of(MIRA1))))
        .doesNotThrowAnyException();
  }
}
