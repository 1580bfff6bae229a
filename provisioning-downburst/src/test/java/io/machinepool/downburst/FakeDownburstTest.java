package io.machinepool.downburst;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/** The fake downburst itself: what the lifecycle tests rely on when runs overlap. */
@EnabledOnOs(OS.LINUX)
class FakeDownburstTest {
  @TempDir Path tmp;

  @Test
  void runsStartedAtOnceGetDistinctNumbersAndFollowTheirPlanLines() throws Exception {
    FakeDownburst fake = new FakeDownburst(tmp);
    int runs = 16;
    String[] plan = new String[runs];
    for (int i = 0; i < runs; i++) {
      plan[i] = i % 2 == 0 ? "ok" : "usage";
    }
    fake.plan("create", plan);

    List<Process> processes = new ArrayList<>();
    for (int i = 0; i < runs; i++) {
      processes.add(
          new ProcessBuilder(
                  fake.executable().toString(),
                  "-v",
                  "-c",
                  "mira00" + (i % 3),
                  "create",
                  "--wait",
                  "vpm" + i)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start());
    }
    int ok = 0;
    for (Process process : processes) {
      assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
      ok += process.exitValue() == 0 ? 1 : 0;
    }

    List<FakeDownburst.Call> calls = fake.calls("create");
    assertThat(calls)
        .extracting(FakeDownburst.Call::number)
        .containsExactlyInAnyOrderElementsOf(IntStream.rangeClosed(1, runs).boxed().toList());
    assertThat(calls)
        .allSatisfy(
            c ->
                assertThat(c.behaviour())
                    .as("%s follows line %d of the plan", c, c.number())
                    .isEqualTo(plan[c.number() - 1]));
    assertThat(ok).isEqualTo(runs / 2);
    assertThat(calls).allSatisfy(c -> assertThat(c.finished()).isPresent());
    assertThat(calls).allSatisfy(c -> assertThat(c.host()).startsWith("mira00"));
  }

  @Test
  void aPlanForOneVmWinsAndCountsThatVmsRunsOnly() throws Exception {
    FakeDownburst fake = new FakeDownburst(tmp);
    fake.plan("destroy", "fail");
    fake.planFor("destroy", "vpm002", "ok", "no-domain");

    for (String vm : List.of("vpm001", "vpm002", "vpm001", "vpm002", "vpm002")) {
      Process p =
          new ProcessBuilder(fake.executable().toString(), "-v", "-c", "mira001", "destroy", vm)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    }

    assertThat(fake.calls("destroy"))
        .extracting(c -> c.vm() + ":" + c.behaviour())
        .containsExactly(
            "vpm001:fail", "vpm002:ok", "vpm001:fail", "vpm002:no-domain", "vpm002:no-domain");
  }

  @Test
  void slowSleepsThenSucceedsAndItsIntervalIsRecorded() throws Exception {
    FakeDownburst fake = new FakeDownburst(tmp);
    fake.plan("create", FakeDownburst.slow(Duration.ofMillis(300)));

    Process p =
        new ProcessBuilder(fake.executable().toString(), "-c", "mira001", "create", "vpm001")
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start();
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();

    FakeDownburst.Call call = fake.calls("create").get(0);
    assertThat(p.exitValue()).isZero();
    assertThat(call.behaviour()).isEqualTo("slow:0.300");
    assertThat(call.ended()).isTrue();
    assertThat(call.host()).isEqualTo("mira001");
    assertThat(call.finished().getAsLong() - call.started())
        .as("the recorded interval covers the sleep")
        .isGreaterThanOrEqualTo(Duration.ofMillis(300).toNanos());
  }
}
