package io.machinepool.downburst;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class OutputTailTest {

  static ByteArrayInputStream stream(String text) {
    return new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void keepsTheLastLines() {
    OutputTail tail = new OutputTail(3, 1024, List.of(), null);

    tail.drain(stream("one\ntwo\r\nthree\nfour\nfive"));

    assertThat(tail.text()).isEqualTo("three\nfour\nfive");
    assertThat(tail.droppedLines()).isEqualTo(2);
    assertThat(tail.totalBytes()).isEqualTo(24);
  }

  @Test
  void keepsAboutMaxBytes() {
    OutputTail tail = new OutputTail(1000, 100, List.of(), null);
    String text =
        IntStream.range(0, 100).mapToObj(i -> "line " + i).collect(Collectors.joining("\n"));

    tail.drain(stream(text));

    assertThat(tail.text().length()).isLessThanOrEqualTo(100);
    assertThat(tail.text()).endsWith("line 98\nline 99");
  }

  @Test
  void cutsAnEndlessLine() {
    OutputTail tail = new OutputTail(10, 64, List.of("needle"), null);

    tail.drain(stream("x".repeat(1_000_000) + "needle\nlast"));

    assertThat(tail.text()).isEqualTo("x".repeat(32) + " [line cut]\nlast");
    assertThat(tail.saw("needle")).isFalse();
  }

  @Test
  void remembersMarkersInLinesThatWereDropped() {
    List<String> seen = new ArrayList<>();
    OutputTail tail = new OutputTail(2, 1024, List.of("Exists"), seen::add);

    tail.drain(stream("storage volume 'vpm011.img' EXISTS already\na\nb\nc\n"));

    assertThat(tail.text()).isEqualTo("b\nc");
    assertThat(tail.saw("exists")).isTrue();
    assertThat(tail.saw("no domain")).isFalse();
    assertThat(seen).hasSize(4);
  }

  @Test
  void emptyStreamGivesEmptyText() {
    OutputTail tail = new OutputTail(2, 10, List.of(), null);

    tail.drain(stream(""));

    assertThat(tail.text()).isEmpty();
  }
}
