package io.machinepool.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class KnownHostsEditTest {
  @Test
  void globMatchesStarsAndQuestionMarksIgnoringCaseAsOpenSsh() {
    assertThat(KnownHostsEdit.glob("*", "vpm011.front")).isTrue();
    assertThat(KnownHostsEdit.glob("*.front", "vpm011.front")).isTrue();
    assertThat(KnownHostsEdit.glob("VPM0??.FRONT", "vpm011.front")).isTrue();
    assertThat(KnownHostsEdit.glob("vpm*1*.front", "vpm011.front")).isTrue();
    assertThat(KnownHostsEdit.glob("vpm0?.front", "vpm011.front")).isFalse();
    assertThat(KnownHostsEdit.glob("*.back", "vpm011.front")).isFalse();
    assertThat(KnownHostsEdit.glob("vpm011", "vpm011.front")).isFalse();
    assertThat(KnownHostsEdit.glob("vpm011.front*", "vpm011.front")).isTrue();
    assertThat(KnownHostsEdit.glob("", "vpm011.front")).isFalse();
  }

  @Test
  void linesKeepTheirTerminatorsAndTheLastLineMayHaveNone() {
    assertThat(KnownHostsEdit.splitLines("a\nb\r\n\nc")).containsExactly("a\n", "b\r\n", "\n", "c");
    assertThat(KnownHostsEdit.splitLines("")).isEmpty();
    assertThat(KnownHostsEdit.lineEnding("a\r\nb\n")).isEqualTo("\r\n");
    assertThat(KnownHostsEdit.lineEnding("a\nb\r\n")).isEqualTo("\n");
    assertThat(KnownHostsEdit.lineEnding("\r\n")).isEqualTo("\r\n");
    assertThat(KnownHostsEdit.lineEnding("no newline")).isEqualTo("\n");
  }

  @Test
  void targetOfPort22HasTheBracketedFormAsAliasAndOtherPortsNone() {
    KnownHostsEdit.Target standard = KnownHostsEdit.Target.of("VPM011.front", null, List.of());
    KnownHostsEdit.Target port = KnownHostsEdit.Target.of("VPM011.front", 2222, List.of());

    assertThat(standard.host()).isEqualTo("vpm011.front");
    assertThat(standard.aliases()).containsExactly("[vpm011.front]:22");
    assertThat(standard.hashCandidates())
        .containsExactly("vpm011.front", "[vpm011.front]:22", "VPM011.front", "[VPM011.front]:22");
    assertThat(port.host()).isEqualTo("[vpm011.front]:2222");
    assertThat(port.aliases()).isEmpty();
    assertThat(port.hashCandidates()).containsExactly("[vpm011.front]:2222", "[VPM011.front]:2222");
  }
}
