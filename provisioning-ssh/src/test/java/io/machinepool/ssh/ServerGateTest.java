package io.machinepool.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@link ServerGate}: one turn at a time per server, waiting bounded, nothing left behind. */
@Timeout(10)
class ServerGateTest {
  private static final long SHORT = TimeUnit.MILLISECONDS.toNanos(100);
  private static final long LONG = TimeUnit.SECONDS.toNanos(5);

  private final ServerGate gate = new ServerGate();

  @Test
  void aSecondTurnAtTheSameServerWaitsUntilTheFirstEnds() throws Exception {
    ServerGate.Turn first = gate.enter("127.0.0.1:22", LONG);

    long started = System.nanoTime();
    assertThat(gate.enter("127.0.0.1:22", SHORT)).isNull();
    assertThat(System.nanoTime() - started).isGreaterThanOrEqualTo(SHORT);

    first.close();
    try (ServerGate.Turn second = gate.enter("127.0.0.1:22", SHORT)) {
      assertThat(second).isNotNull();
    }
  }

  @Test
  void turnsAtOtherServersDoNotWait() throws Exception {
    try (ServerGate.Turn one = gate.enter("127.0.0.1:22", LONG);
        ServerGate.Turn other = gate.enter("127.0.0.1:2222", SHORT);
        ServerGate.Turn third = gate.enter("10.0.0.5:22", SHORT)) {
      assertThat(one).isNotNull();
      assertThat(other).isNotNull();
      assertThat(third).isNotNull();
    }
  }

  @Test
  void serversNobodyWaitsForAreForgotten() throws Exception {
    ServerGate.Turn first = gate.enter("127.0.0.1:22", LONG);
    assertThat(gate.enter("127.0.0.1:22", SHORT)).isNull();
    assertThat(gate.size()).isEqualTo(1);

    first.close();

    assertThat(gate.size()).isZero();
  }
}
