package io.machinepool;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The shape of the public API of {@code io.machinepool}, as DEVELOPERS.md decides it: only values
 * that are exactly their components stay records, and the values the library hands out or users
 * build through builders have no constructor a user can call, so that a field can be added.
 */
class ApiShapeTest {
  /** The records of the API: a host key is its type and key, targets are their mapping. */
  private static final Set<Class<?>> RECORDS = Set.of(HostKey.class, Targets.class);

  /** What the library hands out (nobody else creates), and what users build through builders. */
  private static final List<Class<?>> WITHOUT_PUBLIC_CONSTRUCTOR =
      List.of(
          Machine.class,
          Waiter.class,
          Summary.class,
          Summary.Entry.class,
          Summary.TypeTotals.class,
          ProvisioningException.Failure.class,
          LockRequest.class,
          MachineSpec.class,
          MachineQuery.class);

  @Test
  void noPublicTypeOfTheApiIsARecordButHostKeyAndTargets() {
    List<Class<?>> records = publicTypes(Machine.class).stream().filter(Class::isRecord).toList();

    assertThat(records).containsExactlyInAnyOrderElementsOf(RECORDS);
  }

  @Test
  void valuesAndRequestsAreFinalClassesWithoutAPublicOrProtectedConstructor() {
    assertThat(publicTypes(Machine.class)).containsAll(WITHOUT_PUBLIC_CONSTRUCTOR);
    for (Class<?> type : WITHOUT_PUBLIC_CONSTRUCTOR) {
      assertThat(Modifier.isFinal(type.getModifiers())).as("%s is final", type).isTrue();
      assertThat(callableConstructors(type)).as("constructors of %s", type).isEmpty();
    }
  }

  @Test
  void theScanFindsWhatItChecks() {
    assertThat(publicTypes(Machine.class))
        .contains(MachinePool.class, LockRequest.Builder.class, Summary.Entry.class)
        .doesNotContain(ApiValuesFactory.class);
  }

  /** Constructors a user could call, directly or from a subclass. */
  static List<Constructor<?>> callableConstructors(Class<?> type) {
    return Arrays.stream(type.getDeclaredConstructors())
        .filter(c -> Modifier.isPublic(c.getModifiers()) || Modifier.isProtected(c.getModifiers()))
        .toList();
  }

  /**
   * Every public type of the anchor's package, top level or nested in a public type, read from the
   * directory its classes were loaded from.
   */
  static List<Class<?>> publicTypes(Class<?> anchor) {
    List<Class<?>> types = new ArrayList<>();
    for (Class<?> type : topLevelTypes(anchor)) {
      addPublic(type, types);
    }
    return types;
  }

  private static void addPublic(Class<?> type, List<Class<?>> types) {
    if (!Modifier.isPublic(type.getModifiers())) {
      return;
    }
    types.add(type);
    for (Class<?> nested : type.getDeclaredClasses()) {
      addPublic(nested, types);
    }
  }

  private static List<Class<?>> topLevelTypes(Class<?> anchor) {
    String packageName = anchor.getPackageName();
    Path directory;
    try {
      directory =
          Path.of(anchor.getProtectionDomain().getCodeSource().getLocation().toURI())
              .resolve(packageName.replace('.', '/'));
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
    try (Stream<Path> files = Files.list(directory)) {
      return files
          .map(file -> file.getFileName().toString())
          .filter(file -> file.endsWith(".class") && !file.contains("$") && !file.contains("-"))
          .<Class<?>>map(
              file -> load(packageName + "." + file.substring(0, file.length() - 6), anchor))
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Class<?> load(String name, Class<?> anchor) {
    try {
      return Class.forName(name, false, anchor.getClassLoader());
    } catch (ClassNotFoundException e) {
      throw new IllegalStateException(e);
    }
  }
}
