package io.machinepool.examples.junit;

import static org.assertj.core.api.Assertions.assertThat;

import io.machinepool.config.TeuthologyConfig;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** Where the default provider finds the lock database: parameter, config file, in-memory H2. */
class DefaultPoolProviderTest {
  private static final TeuthologyConfig CONFIG =
      TeuthologyConfig.parse(
          "machine_pool:\n  database_url: jdbc:postgresql://lockdb.example.com/lab\n",
          Path.of("teuthology.yaml"));

  private static Function<String, Optional<String>> parameters(Map<String, String> values) {
    return key -> Optional.ofNullable(values.get(key));
  }

  private static Supplier<TeuthologyConfig> unread() {
    return () -> {
      throw new AssertionError("the config file is read only when no parameter names a database");
    };
  }

  @Test
  void theConfigurationParameterWinsAndTheConfigFileIsNotRead() {
    assertThat(
            DefaultPoolProvider.url(
                parameters(Map.of(DefaultPoolProvider.URL_PROPERTY, " jdbc:h2:mem:x ")), unread()))
        .isEqualTo("jdbc:h2:mem:x");
  }

  @Test
  void withoutTheParameterTheConfigFilesDatabaseUrlIsUsed() {
    assertThat(DefaultPoolProvider.url(parameters(Map.of()), () -> CONFIG))
        .isEqualTo("jdbc:postgresql://lockdb.example.com/lab");
    assertThat(
            DefaultPoolProvider.url(
                parameters(Map.of(DefaultPoolProvider.URL_PROPERTY, "  ")), () -> CONFIG))
        .as("a blank parameter counts as none")
        .isEqualTo("jdbc:postgresql://lockdb.example.com/lab");
  }

  @Test
  void withNeitherTheLabIsAnInMemoryH2Database() {
    assertThat(DefaultPoolProvider.url(parameters(Map.of()), TeuthologyConfig::empty))
        .isEqualTo("jdbc:h2:mem:machinepool;DB_CLOSE_DELAY=-1")
        .isEqualTo(DefaultPoolProvider.IN_MEMORY_URL);
  }
}
