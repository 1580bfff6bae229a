package io.machinepool.examples.benchmark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The settings of the scale and churn benchmark, and how the benchmarks are selected. */
class ScaleSettingsTest {
  @Test
  void defaultsAreTheLabOfIssue13() {
    ScaleSettings settings = ScaleSettings.parse();

    assertThat(settings.machines()).isEqualTo(10_000);
    assertThat(settings.types()).isEqualTo(20);
    assertThat(settings.held()).isEqualTo(1000);
    assertThat(settings.repetitions()).isEqualTo(200);
    assertThat(settings.warmup()).isEqualTo(50);
    assertThat(settings.listRepetitions()).isEqualTo(20);
    assertThat(settings.listWarmup()).isEqualTo(5);
    assertThat(settings.churnTime()).isEqualTo(Duration.ofSeconds(180));
    assertThat(settings.churnWindow()).isEqualTo(Duration.ofSeconds(10));
    assertThat(settings.churnWindows()).isEqualTo(18);
    assertThat(settings.churnThreads()).containsExactly(1, 4);
    assertThat(settings.scaleCells()).isTrue();
    assertThat(settings.churnCells()).isTrue();
    assertThat(settings.servers().databases()).containsExactly("h2", "postgresql", "mariadb");
  }

  @Test
  void argumentsOverrideTheDefaults() {
    ScaleSettings settings =
        ScaleSettings.parse(
            "--machines=1_000",
            "--types=10",
            "--held=100",
            "--churn-seconds=30",
            "--churn-window=5",
            "--churn-warmup=0",
            "--churn-threads=4,1,4",
            "--cells=churn",
            "--databases=PostgreSQL");

    assertThat(settings.machines()).isEqualTo(1000);
    assertThat(settings.types()).isEqualTo(10);
    assertThat(settings.held()).isEqualTo(100);
    assertThat(settings.churnWindows()).isEqualTo(6);
    assertThat(settings.churnWarmup()).isZero();
    assertThat(settings.churnThreads()).containsExactly(1, 4);
    assertThat(settings.scaleCells()).isFalse();
    assertThat(settings.churnCells()).isTrue();
    assertThat(settings.servers().databases()).isEqualTo(List.of("postgresql"));
  }

  @Test
  void eachChurnThreadNeedsAMachineTypeOfItsOwn() {
    assertThatThrownBy(() -> ScaleSettings.parse("--types=2", "--churn-threads=4"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("churn-threads");
  }

  @Test
  void unknownCellsAndSettingsAreRefused() {
    assertThatThrownBy(() -> ScaleSettings.parse("--cells=scale,vacuum"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("cells");
    assertThatThrownBy(() -> ScaleSettings.parse("--threads=4"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("unknown setting --threads");
  }

  @Test
  void scaleIsSelectedAloneOrWithAllOthers() {
    Selection scale = Selection.parse("--only=scale", "--machines=100");

    assertThat(scale.runs(Selection.SCALE)).isTrue();
    assertThat(scale.runs(Selection.LOCK)).isFalse();
    assertThat(scale.runs(Selection.STARVATION)).isFalse();
    assertThat(scale.args()).containsExactly("--machines=100");
    assertThat(Selection.parse("--only=all").runs(Selection.SCALE)).isTrue();
    assertThat(Selection.parse("--only=lock").runs(Selection.SCALE)).isFalse();
    assertThatThrownBy(() -> Selection.parse("--only=churn"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(Selection.SCALE);
  }
}
