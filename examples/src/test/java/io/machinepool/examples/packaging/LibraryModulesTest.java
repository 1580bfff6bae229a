package io.machinepool.examples.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import com.jcraft.jsch.JSch;
import io.machinepool.MachinePool;
import io.machinepool.config.TeuthologyConfig;
import io.machinepool.downburst.DownburstProvisioner;
import io.machinepool.junit5.MachinePoolExtension;
import io.machinepool.ssh.JschHostKeyScanner;
import java.lang.module.Configuration;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleDescriptor.Requires;
import java.lang.module.ModuleFinder;
import java.lang.module.ResolvedModule;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.Logger;
import org.yaml.snakeyaml.Yaml;

/**
 * The library jars as named modules, read from their descriptors as the module system reads them:
 * each exports its API package alone, and the five resolve together on a module path that holds
 * them and the libraries they name. (The tests of every module run on the class path; core's {@code
 * ModulePathTest} also runs a program with core on the module path.)
 */
class LibraryModulesTest {

  /** Each library module, a class of its API package, and that package. */
  static Stream<Arguments> libraryModules() {
    return Stream.of(
        Arguments.of("io.machinepool.core", MachinePool.class, "io.machinepool"),
        Arguments.of("io.machinepool.config", TeuthologyConfig.class, "io.machinepool.config"),
        Arguments.of(
            "io.machinepool.downburst", DownburstProvisioner.class, "io.machinepool.downburst"),
        Arguments.of("io.machinepool.ssh", JschHostKeyScanner.class, "io.machinepool.ssh"),
        Arguments.of("io.machinepool.junit5", MachinePoolExtension.class, "io.machinepool.junit5"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("libraryModules")
  void eachLibraryModuleExportsItsApiPackageAloneToEveryone(
      String module, Class<?> apiClass, String apiPackage) {
    ModuleDescriptor descriptor = descriptorOf(module, apiClass);

    assertThat(descriptor.isAutomatic()).as("has a module-info").isFalse();
    assertThat(descriptor.exports())
        .extracting(ModuleDescriptor.Exports::source)
        .containsExactly(apiPackage);
    assertThat(descriptor.exports()).noneMatch(ModuleDescriptor.Exports::isQualified);
    assertThat(descriptor.opens()).isEmpty();
  }

  @Test
  void theModulesResolveTogetherWithTheLibrariesTheyName() {
    Path[] path =
        Stream.of(
                MachinePool.class,
                TeuthologyConfig.class,
                DownburstProvisioner.class,
                JschHostKeyScanner.class,
                MachinePoolExtension.class,
                Logger.class,
                Yaml.class,
                JSch.class,
                ExtensionContext.class,
                org.junit.platform.commons.JUnitException.class,
                org.opentest4j.AssertionFailedError.class)
            .map(LibraryModulesTest::classesOf)
            .distinct()
            .toArray(Path[]::new);
    List<String> roots =
        libraryModules().map(arguments -> (String) arguments.get()[0]).collect(Collectors.toList());

    Configuration resolved =
        ModuleLayer.boot().configuration().resolve(ModuleFinder.of(path), ModuleFinder.of(), roots);

    assertThat(resolved.modules())
        .extracting(ResolvedModule::name)
        .as("resolved from " + Arrays.toString(path))
        .containsAll(roots);
    assertThat(resolved.findModule("io.machinepool.core").orElseThrow().reads())
        .extracting(ResolvedModule::name)
        .doesNotContain("org.yaml.snakeyaml", "com.jcraft.jsch");
  }

  @Test
  void modulesWhoseApiShowsAnotherModulesTypesMakeUsersReadIt() {
    // PoolHostKeyRepository is a JSch HostKeyRepository and MachineSessions returns JSch sessions;
    // the provisioners take core's types, and the extension JUnit's.
    assertThat(transitiveRequires("io.machinepool.ssh", JschHostKeyScanner.class))
        .contains("com.jcraft.jsch", "io.machinepool.core");
    assertThat(transitiveRequires("io.machinepool.downburst", DownburstProvisioner.class))
        .contains("io.machinepool.core");
    assertThat(transitiveRequires("io.machinepool.junit5", MachinePoolExtension.class))
        .contains("io.machinepool.core", "org.junit.jupiter.api");
    assertThat(transitiveRequires("io.machinepool.core", MachinePool.class))
        .containsExactly("java.sql");
  }

  private static Set<String> transitiveRequires(String module, Class<?> apiClass) {
    return descriptorOf(module, apiClass).requires().stream()
        .filter(r -> r.modifiers().contains(Requires.Modifier.TRANSITIVE))
        .map(Requires::name)
        .collect(Collectors.toSet());
  }

  private static ModuleDescriptor descriptorOf(String module, Class<?> apiClass) {
    return ModuleFinder.of(classesOf(apiClass)).find(module).orElseThrow().descriptor();
  }

  /** The directory or jar a class was loaded from. */
  private static Path classesOf(Class<?> type) {
    try {
      return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }
}
