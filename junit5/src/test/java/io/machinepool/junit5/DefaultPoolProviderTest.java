package io.machinepool.junit5;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.machinepool.config.TeuthologyConfig;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;

/**
 * Where the default provider finds the lock database: parameter, config file (when its module is on
 * the class path), in-memory H2; and how it reaches it, through the driver on the class path.
 */
class DefaultPoolProviderTest {
  private static final TeuthologyConfig CONFIG =
      TeuthologyConfig.parse(
          "machine_pool:\n  database_url: jdbc:postgresql://lockdb.example.com/lab\n",
          Path.of("teuthology.yaml"));

  private static Function<String, Optional<String>> parameters(Map<String, String> values) {
    return key -> Optional.ofNullable(values.get(key));
  }

  private static Supplier<Optional<String>> unread() {
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
    assertThat(DefaultPoolProvider.url(parameters(Map.of()), CONFIG::databaseUrl))
        .isEqualTo("jdbc:postgresql://lockdb.example.com/lab");
    assertThat(
            DefaultPoolProvider.url(
                parameters(Map.of(DefaultPoolProvider.URL_PROPERTY, "  ")), CONFIG::databaseUrl))
        .as("a blank parameter counts as none")
        .isEqualTo("jdbc:postgresql://lockdb.example.com/lab");
  }

  @Test
  void withNeitherTheLabIsAnInMemoryH2Database() {
    assertThat(DefaultPoolProvider.url(parameters(Map.of()), Optional::empty))
        .isEqualTo("jdbc:h2:mem:machinepool;DB_CLOSE_DELAY=-1")
        .isEqualTo(DefaultPoolProvider.IN_MEMORY_URL);
  }

  @Test
  void theConfigFileIsReadOnlyWhenItsModuleIsOnTheClassPath() {
    assertThat(TeuthologyConfigFile.isPresent(TeuthologyConfigFile.CONFIG_CLASS))
        .as("the config module is a test dependency here")
        .isTrue();
    assertThat(TeuthologyConfigFile.isPresent("io.machinepool.config.NoSuchConfig"))
        .as("a class that is absent is skipped, not thrown")
        .isFalse();
  }

  @Test
  void theDatabaseIsReachedThroughTheDriverOnTheClassPath() throws SQLException {
    UrlDataSource h2 = UrlDataSource.of("jdbc:h2:mem:url-data-source-test");
    try (Connection connection = h2.getConnection()) {
      assertThat(connection.getMetaData().getDatabaseProductName()).isEqualTo("H2");
    }
    assertThat(h2.toString()).contains("org.h2.Driver");
  }

  @Test
  void aUrlWithoutADriverOnTheClassPathFailsNamingTheDriversToAdd() {
    assertThatThrownBy(
            () -> UrlDataSource.of("jdbc:postgresql://lockdb.example.com/lab?password=secret"))
        .isInstanceOf(ExtensionConfigurationException.class)
        .hasMessageContaining("no JDBC driver on the class path accepts")
        .hasMessageContaining("jdbc:postgresql://lockdb.example.com/lab?...")
        .hasMessageContaining("org.postgresql:postgresql")
        .hasMessageNotContaining("secret");
  }

  @Test
  void aUrlThatIsNoJdbcUrlIsRefused() {
    assertThatThrownBy(() -> UrlDataSource.of("postgresql://lockdb/lab"))
        .isInstanceOf(ExtensionConfigurationException.class)
        .hasMessageContaining("'postgresql://lockdb/lab' is not a JDBC URL");
  }
}
