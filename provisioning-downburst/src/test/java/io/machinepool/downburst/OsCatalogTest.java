package io.machinepool.downburst;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.machinepool.InvalidRequestException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OsCatalogTest {

  @Test
  void parsesListJson() {
    OsCatalog catalog =
        OsCatalog.parse(
            "{\"ubuntu\": [\"22.04(jammy)\", \"24.04(noble)\"], \"debian\": [\"12\", \"testing\"],"
                + " \"broken\": \"not a list\"}");

    assertThat(catalog.distros())
        .isEqualTo(
            Map.of(
                "ubuntu", List.of("22.04(jammy)", "24.04(noble)"),
                "debian", List.of("12", "testing")));
    assertThat(catalog.origin()).isEqualTo("downburst list-json");
  }

  @Test
  void rejectsWhatIsNotACatalog() {
    assertThatThrownBy(() -> OsCatalog.parse("")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> OsCatalog.parse("[1, 2]"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> OsCatalog.parse("{\"ubuntu\": 1}"))
        .hasMessageContaining("names no distribution");
    assertThatThrownBy(() -> OsCatalog.parse("{\"ubuntu\": [")).hasMessageStartingWith("not JSON");
  }

  @Test
  void matchesVersionOrCodenameIgnoringCase() {
    OsCatalog catalog = new OsCatalog(Map.of("ubuntu", List.of("22.04(jammy)")), "test");

    assertThat(catalog.resolve("ubuntu", "22.04")).isEqualTo(new OsCatalog.Os("ubuntu", "22.04"));
    assertThat(catalog.resolve("UBUNTU", "Jammy")).isEqualTo(new OsCatalog.Os("ubuntu", "Jammy"));
    assertThatThrownBy(() -> catalog.resolve("ubuntu", "22"))
        .isInstanceOf(InvalidRequestException.class);
  }

  @Test
  void ubuntuVersionsAndCodenamesStandInForEachOther() {
    OsCatalog codenamesOnly =
        new OsCatalog(Map.of("ubuntu", List.of("jammy(jammy)", "noble")), "test");
    OsCatalog versionsOnly = new OsCatalog(Map.of("ubuntu", List.of("22.04")), "test");

    assertThat(codenamesOnly.resolve("ubuntu", "22.04").version()).isEqualTo("22.04");
    assertThat(codenamesOnly.resolve("ubuntu", null).version()).isEqualTo("24.04");
    assertThat(versionsOnly.resolve("ubuntu", "jammy").version()).isEqualTo("jammy");
  }

  @Test
  void defaultsAreUbuntuLtsAndTheNewestVersionOfOtherDistributions() {
    OsCatalog catalog =
        new OsCatalog(
            Map.of(
                "ubuntu", List.of("24.04(noble)", "25.04(plucky)"),
                "rocky", List.of("10.0", "8.10", "9.6"),
                "debian", List.of("testing", "9", "12", "11")),
            "test");

    assertThat(catalog.resolve(null, null)).isEqualTo(new OsCatalog.Os("ubuntu", "24.04"));
    assertThat(catalog.resolve("rocky", null).version()).isEqualTo("10.0");
    assertThat(catalog.resolve("debian", null).version()).isEqualTo("12");
  }

  @Test
  void aVersionWithoutTypeIsUbuntusOfflineAndWithListJson() {
    OsCatalog listJson =
        OsCatalog.parse(
            "{\"centos\": [\"9.stream\"], \"ubuntu\": [\"22.04(jammy)\", \"24.04(noble)\"]}");

    for (OsCatalog catalog : List.of(OsCatalog.fallbackCatalog(), listJson)) {
      assertThat(catalog.resolve(null, "22.04"))
          .as(catalog.origin())
          .isEqualTo(new OsCatalog.Os("ubuntu", "22.04"));
      assertThat(catalog.resolve(null, "jammy"))
          .as(catalog.origin())
          .isEqualTo(new OsCatalog.Os("ubuntu", "jammy"));
    }
  }

  @Test
  void aVersionWithoutTypeThatUbuntuLacksIsRefusedSayingTheTypeIsUbuntu() {
    OsCatalog withUbuntu =
        OsCatalog.parse("{\"centos\": [\"9.stream\"], \"ubuntu\": [\"24.04(noble)\"]}");
    OsCatalog withoutUbuntu = OsCatalog.parse("{\"centos\": [\"9.stream\"]}");

    assertThatThrownBy(() -> withUbuntu.resolve(null, "9.stream"))
        .isInstanceOf(InvalidRequestException.class)
        .hasMessageStartingWith("downburst cannot install ubuntu 9.stream: ")
        .hasMessageContaining("a version without an OS type is ubuntu's");
    assertThatThrownBy(() -> withoutUbuntu.resolve(null, "9.stream"))
        .isInstanceOf(InvalidRequestException.class)
        .hasMessageStartingWith(
            "downburst cannot install ubuntu (the OS type of a request that names none): the"
                + " distributions known to downburst list-json are centos.");
  }

  @Test
  void theFallbackTableHasTheCurrentReleases() {
    OsCatalog fallback = OsCatalog.fallbackCatalog();

    assertThat(fallback.distros())
        .containsKeys("ubuntu", "centos", "rocky", "alma", "fedora", "debian", "opensuse");
    for (String[] os :
        new String[][] {
          {"ubuntu", "20.04"}, {"ubuntu", "22.04"}, {"ubuntu", "noble"}, {"centos", "9.stream"},
          {"centos", "10.stream"}, {"rocky", "8.10"}, {"alma", "9.6"}, {"fedora", "42"},
          {"debian", "12"}, {"opensuse", "15.6"}
        }) {
      assertThat(fallback.resolve(os[0], os[1]).distro()).isEqualTo(os[0]);
    }
    assertThat(fallback.origin()).contains("built-in table");
  }
}
