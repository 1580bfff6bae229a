package io.machinepool.consumercheck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.slf4j.spi.SLF4JServiceProvider;

/**
 * The resolved test class path of a project that depends on machinepool-core and machinepool-junit5
 * holds no logging binding, connection pool, server JDBC driver, command-line parser, YAML parser
 * or examples: the library leaves those to the team. Surefire puts the resolved test class path
 * into {@code java.class.path}; entries are jars of the local repository or, in a reactor build, a
 * module's {@code target/classes}, so both the file names and the classes are looked at.
 */
class NothingExtraOnTheClassPathTest {
  /** The start of a jar's name (artifactId and a dash) for each artifact that must be absent. */
  private static final List<String> BANNED_JARS =
      List.of(
          "slf4j-simple-",
          "slf4j-nop-",
          "slf4j-reload4j-",
          "slf4j-jdk14-",
          "slf4j-log4j12-",
          "logback-classic-",
          "log4j-slf4j-impl-",
          "log4j-slf4j2-impl-",
          "hikaricp-",
          "mariadb-java-client-",
          "postgresql-",
          "picocli-",
          "snakeyaml-",
          "machinepool-examples-",
          "machinepool-teuthology-config-");

  /** A class of each artifact that must be absent, for entries that are directories. */
  private static final Map<String, String> BANNED_CLASSES =
      Map.of(
          "com.zaxxer.hikari.HikariDataSource", "HikariCP",
          "org.mariadb.jdbc.Driver", "the MariaDB driver",
          "org.postgresql.Driver", "the PostgreSQL driver",
          "picocli.CommandLine", "picocli",
          "org.yaml.snakeyaml.Yaml", "SnakeYAML",
          "io.machinepool.examples.cli.Main", "machinepool-examples");

  @Test
  void theTestClassPathHoldsNoBannedJar() {
    List<String> entries =
        Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
            .filter(e -> !e.isBlank())
            .toList();
    assertTrue(
        entries.stream().anyMatch(e -> name(e).startsWith("junit-jupiter-api-")),
        "java.class.path is not the resolved test class path: " + entries);
    List<String> banned =
        entries.stream()
            .filter(e -> BANNED_JARS.stream().anyMatch(b -> name(e).startsWith(b)))
            .toList();
    assertEquals(List.of(), banned, "jars machinepool must not bring");
  }

  @Test
  void noSlf4jProviderIsOnTheClassPath() {
    List<String> providers =
        ServiceLoader.load(SLF4JServiceProvider.class).stream()
            .map(p -> p.type().getName())
            .collect(Collectors.toList());
    assertEquals(List.of(), providers, "SLF4J providers machinepool must not bring");
  }

  @Test
  void noClassOfABannedArtifactCanBeLoaded() {
    List<String> loadable =
        BANNED_CLASSES.entrySet().stream()
            .filter(e -> loads(e.getKey()))
            .map(e -> e.getValue() + " (" + e.getKey() + ")")
            .sorted()
            .toList();
    assertEquals(List.of(), loadable, "classes of artifacts machinepool must not bring");
  }

  private static String name(String entry) {
    return Path.of(entry).getFileName().toString().toLowerCase(Locale.ROOT);
  }

  private static boolean loads(String className) {
    try {
      Class.forName(className, false, NothingExtraOnTheClassPathTest.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException e) {
      return false;
    }
  }
}
