package io.machinepool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.doThrow;
import static org.mockito.Mockito.inOrder;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.verify;

import io.machinepool.testing.LogCapture;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.mockito.InOrder;

class ListenersTest {
  @RegisterExtension final LogCapture log = new LogCapture();

  private static final Machine VM =
      new Machine(
          "vpm011.front",
          "vps",
          "mira001.front",
          true,
          true,
          "a@b",
          null,
          null,
          null,
          null,
          null,
          null,
          List.of(),
          null,
          1);

  @Test
  void aListenerThatThrowsDoesNotKeepTheOthersFromHearingTheEvent() {
    PoolListener broken = mock(PoolListener.class);
    PoolListener healthy = mock(PoolListener.class);
    doThrow(new IllegalStateException("display closed")).when(broken).provisioningStarted(any());
    doThrow(new IllegalStateException("display closed")).when(broken).released(any());
    Listeners listeners = new Listeners(List.of(broken, healthy));

    listeners.provisioningStarted(VM);
    listeners.provisioningFinished(VM, Duration.ofSeconds(2));
    listeners.released(VM);

    InOrder order = inOrder(healthy);
    order.verify(healthy).provisioningStarted(VM);
    order.verify(healthy).provisioningFinished(VM, Duration.ofSeconds(2));
    order.verify(healthy).released(VM);
    verify(broken).provisioningFinished(VM, Duration.ofSeconds(2));
    log.expect("io.machinepool.Listeners", "display closed");
    assertThat(log.entries("io.machinepool.Listeners", "display closed"))
        .extracting(LogCapture.Entry::level)
        .containsExactly("WARN", "WARN");
  }

  @Test
  void everyEventReachesEveryListener() {
    PoolListener listener = mock(PoolListener.class);
    Listeners listeners = new Listeners(List.of(listener));
    RuntimeException failure = new RuntimeException("x");
    List<HostKey> keys = List.of(HostKey.parse("ssh-ed25519 AAAA"));

    listeners.provisioningFailed(VM, failure);
    listeners.hostKeysScanned(VM, keys);
    listeners.leaseExpired("token", List.of(VM.name()));

    verify(listener).provisioningFailed(VM, failure);
    verify(listener).hostKeysScanned(VM, keys);
    verify(listener).leaseExpired("token", List.of(VM.name()));
  }
}
