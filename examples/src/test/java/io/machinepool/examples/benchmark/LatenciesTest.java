package io.machinepool.examples.benchmark;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The order statistics the scale table prints. */
class LatenciesTest {
  @Test
  void percentilesAreNearestRankAndTheMedianOfAnEvenCountIsTheMeanOfTheMiddleTwo() {
    Latencies times = new Latencies();
    for (int ms = 200; ms >= 1; ms--) {
      times.add(ms * 1_000_000L);
    }

    assertThat(times.count()).isEqualTo(200);
    assertThat(times.medianMillis()).isEqualTo(100.5);
    assertThat(times.percentileMillis(90)).isEqualTo(180);
    assertThat(times.percentileMillis(99)).isEqualTo(198);
    assertThat(times.maxMillis()).isEqualTo(200);
  }

  @Test
  void nothingRecordedIsNotANumber() {
    assertThat(new Latencies().medianMillis()).isNaN();
    assertThat(new Latencies().maxMillis()).isNaN();
  }
}
