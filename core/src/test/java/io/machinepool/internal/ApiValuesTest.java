package io.machinepool.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.machinepool.Machine;
import java.net.URL;
import java.net.URLClassLoader;
import org.junit.jupiter.api.Test;

class ApiValuesTest {

  @Test
  void theFactoryIsThereWhenNothingOfTheApiWasInitializedBefore() throws Exception {
    URL classes = ApiValues.class.getProtectionDomain().getCodeSource().getLocation();
    try (URLClassLoader fresh =
        new URLClassLoader(new URL[] {classes}, ClassLoader.getPlatformClassLoader())) {
      Class<?> values = Class.forName(ApiValues.class.getName(), true, fresh);
      Class<?> machine = Class.forName(Machine.class.getName(), false, fresh);
      assertThat(values).isNotSameAs(ApiValues.class);

      Object factory = values.getMethod("factory").invoke(null);

      assertThat(factory).isNotNull();
      assertThat(factory.getClass().getClassLoader()).isSameAs(fresh);
      assertThat(machine.getClassLoader()).isSameAs(fresh);
    }
  }

  @Test
  void theFactoryCreatesMachinesWithTheLockStateGiven() {
    Machine machine =
        ApiValues.factory()
            .machine(
                "smithi001",
                "smithi",
                null,
                true,
                true,
                "alice@h",
                null,
                "run-1",
                null,
                null,
                null,
                null,
                null,
                2222,
                7);

    assertThat(machine.locked()).isTrue();
    assertThat(machine.lockedBy()).isEqualTo("alice@h");
    assertThat(machine.hostKeys()).isEmpty();
    assertThat(machine.sshPort()).isEqualTo(2222);
    assertThat(machine.generation()).isEqualTo(7);
  }

  @Test
  void aSecondFactoryIsRefused() {
    ApiValues.Factory installed = ApiValues.factory();

    assertThatThrownBy(() -> ApiValues.install(installed))
        .isInstanceOf(IllegalStateException.class);
    assertThat(ApiValues.factory()).isSameAs(installed);
  }
}
