package io.machinepool.examples.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * The machine names of a targets file ({@code -t FILE}): the keys of {@code targets:} in every YAML
 * document of the file that has one, as teuthology-lock reads them. Documents without {@code
 * targets:} are skipped.
 */
final class TargetsFile {
  private TargetsFile() {}

  /**
   * Reads the machine names of a targets file.
   *
   * @param file the file
   * @return the names as written, in file order
   * @throws UsageException when the file cannot be read or is not a targets document
   */
  static List<String> names(Path file) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UsageException("cannot read the targets file " + file + ": " + describe(e));
    }
    List<String> names = new ArrayList<>();
    try {
      int document = 0;
      for (Object root : new Yaml(new SafeConstructor(new LoaderOptions())).loadAll(text)) {
        document++;
        if (!(root instanceof Map<?, ?> map) || !map.containsKey("targets")) {
          continue;
        }
        if (!(map.get("targets") instanceof Map<?, ?> targets)) {
          throw new UsageException(
              "in the targets file "
                  + file
                  + ", targets: of document "
                  + document
                  + " must be a mapping of machine names to host keys");
        }
        targets.keySet().forEach(name -> names.add(String.valueOf(name)));
      }
    } catch (MarkedYAMLException e) {
      Mark mark = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
      throw new UsageException(
          "the targets file "
              + file
              + " is not valid YAML"
              + (mark == null ? "" : " at line " + (mark.getLine() + 1))
              + ": "
              + e.getProblem());
    } catch (YAMLException e) {
      throw new UsageException(
          "the targets file " + file + " is not valid YAML: " + e.getMessage());
    }
    if (names.isEmpty()) {
      throw new UsageException(
          "the targets file " + file + " names no machines: it has no targets: mapping");
    }
    return names;
  }

  static String describe(IOException e) {
    return e instanceof java.nio.file.NoSuchFileException
        ? "no such file"
        : e instanceof java.nio.file.AccessDeniedException
            ? "permission denied"
            : e.getClass().getSimpleName() + " " + e.getMessage();
  }
}
