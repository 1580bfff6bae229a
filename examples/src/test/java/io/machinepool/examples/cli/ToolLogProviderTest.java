package io.machinepool.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;

/**
 * The tool's slf4j provider writes the levels in the tool's words. In this JVM slf4j-simple shows
 * thread and logger names (the tests' format); {@link ChildProcessTest} runs the tool as a person
 * does, where the line is the prefix and the message only.
 */
class ToolLogProviderTest {

  @Test
  void aWarningAndAnErrorAreWrittenWithTheToolsPrefixInsteadOfTheLevel() {
    ToolLogProvider provider = new ToolLogProvider();
    provider.initialize();
    Logger log = provider.getLoggerFactory().getLogger("io.machinepool.Example");
    ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    PrintStream original = System.err;
    System.setErr(new PrintStream(buffer, true, StandardCharsets.UTF_8));
    try {
      log.warn("the built-in table serves {}", "ubuntu");
      log.error("{} stays locked", "vpm011");
    } finally {
      System.setErr(original);
    }

    assertThat(buffer.toString(StandardCharsets.UTF_8).lines())
        .satisfiesExactly(
            warning ->
                assertThat(warning)
                    .contains("machinepool: warning: ")
                    .endsWith("the built-in table serves ubuntu")
                    .doesNotContain("WARN"),
            error ->
                assertThat(error)
                    .contains("machinepool: error: ")
                    .endsWith("vpm011 stays locked")
                    .doesNotContain("ERROR"));
  }
}
