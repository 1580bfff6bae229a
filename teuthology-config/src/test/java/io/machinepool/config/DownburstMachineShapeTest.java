package io.machinepool.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Modifier;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** A config entry is a value only the config file creates, so a field can be added to it. */
class DownburstMachineShapeTest {

  @Test
  void anEntryIsAFinalClassWithoutAConstructorOutsideItsPackage() {
    assertThat(DownburstMachine.class.isRecord()).isFalse();
    assertThat(Modifier.isFinal(DownburstMachine.class.getModifiers())).isTrue();
    assertThat(Arrays.stream(DownburstMachine.class.getDeclaredConstructors()))
        .noneMatch(
            c -> Modifier.isPublic(c.getModifiers()) || Modifier.isProtected(c.getModifiers()));
  }
}
