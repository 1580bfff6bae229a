package io.machinepool.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Modifier;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** What a known_hosts update changed is a value only the file creates, so a field can be added. */
class KnownHostsResultShapeTest {

  @Test
  void aResultIsAFinalClassWithoutAConstructorOutsideTheFile() {
    Class<?> result = KnownHostsFile.Result.class;

    assertThat(result.isRecord()).isFalse();
    assertThat(Modifier.isFinal(result.getModifiers())).isTrue();
    assertThat(Arrays.stream(result.getDeclaredConstructors()))
        .allMatch(c -> Modifier.isPrivate(c.getModifiers()));
  }
}
