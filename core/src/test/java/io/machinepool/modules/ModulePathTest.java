package io.machinepool.modules;

import static org.assertj.core.api.Assertions.assertThat;

import io.machinepool.MachinePool;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.h2.Driver;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;

/**
 * Core as a named module: its descriptor exports the API package alone, and a program on the module
 * path builds a pool on H2 and locks a machine with it, the schema read from the module. (Every
 * other test runs core on the class path.)
 */
class ModulePathTest {

  @Test
  void theDescriptorExportsTheApiPackageAloneAndNotInternal() {
    ModuleDescriptor descriptor =
        ModuleFinder.of(classesOf(MachinePool.class))
            .find("io.machinepool.core")
            .orElseThrow()
            .descriptor();

    assertThat(descriptor.name()).isEqualTo("io.machinepool.core");
    assertThat(descriptor.exports())
        .extracting(ModuleDescriptor.Exports::source)
        .containsExactly("io.machinepool");
    assertThat(descriptor.exports()).allMatch(e -> !e.isQualified());
    assertThat(descriptor.opens()).isEmpty();
    assertThat(descriptor.packages()).contains("io.machinepool.internal");
    Set<String> requires =
        descriptor.requires().stream()
            .map(ModuleDescriptor.Requires::name)
            .collect(Collectors.toSet());
    assertThat(requires).containsExactlyInAnyOrder("java.base", "java.sql", "org.slf4j");
  }

  @Test
  void aProgramOnTheModulePathLocksAMachineAndCannotReachTheInternalPackage(@TempDir Path dir)
      throws Exception {
    String modulePath =
        classesOf(MachinePool.class) + java.io.File.pathSeparator + classesOf(Logger.class);
    String classPath =
        classesOf(ModulePathProgram.class) + java.io.File.pathSeparator + classesOf(Driver.class);
    Path output = dir.resolve("output.txt");
    Process child =
        new ProcessBuilder(
                List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--module-path",
                    modulePath,
                    "--add-modules",
                    "io.machinepool.core",
                    "-cp",
                    classPath,
                    ModulePathProgram.class.getName()))
            .redirectErrorStream(true)
            .redirectOutput(output.toFile())
            .start();
    boolean exited = child.waitFor(60, TimeUnit.SECONDS);
    if (!exited) {
      child.destroyForcibly();
    }
    String printed = Files.readString(output, StandardCharsets.UTF_8);

    assertThat(exited).as("exited within 60 s").isTrue();
    assertThat(child.exitValue()).as(printed).isZero();
    assertThat(printed)
        .contains("module io.machinepool.core")
        .contains("internal exported: false")
        .contains("internal reachable: false")
        .contains("locked [smithi001]")
        .contains("unlocked: true");
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
