package io.machinepool.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.machinepool.HostKey;
import io.machinepool.HostKeyStore;
import io.machinepool.InvalidRequestException;
import io.machinepool.config.TeuthologyConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where {@link MachineSessions} takes its SSH identity from. */
class MachineSessionsBuilderTest {

  /** A store the builder only keeps; nothing here connects. */
  private static final HostKeyStore NO_KEYS =
      new HostKeyStore() {
        @Override
        public List<HostKey> keys(String machine) {
          return List.of();
        }

        @Override
        public void replace(String machine, List<HostKey> keys) {}

        @Override
        public void forget(String machine) {}
      };

  @TempDir Path tmp;

  @Test
  void theConfigFilesSshKeyUnderTildeIsLookedForInTheUsersHome() {
    Path expected =
        Path.of(System.getProperty("user.home"), "no-such-dir-" + tmp.getFileName(), "id_lab");
    TeuthologyConfig config =
        TeuthologyConfig.parse("ssh_key: ~/no-such-dir-" + tmp.getFileName() + "/id_lab\n", null);

    assertThatThrownBy(() -> MachineSessions.builder(NO_KEYS).config(config).build())
        .isInstanceOf(InvalidRequestException.class)
        .hasMessage(
            "SSH identity " + expected + " is not a readable file; set ssh_key or identity(...)");
  }

  @Test
  void theConfigFilesSshKeyIsTheIdentityUnlessTheBuilderNamesOne() throws Exception {
    Path fromConfig = Files.writeString(tmp.resolve("id_config"), "not read until a session opens");
    Path fromBuilder = Files.writeString(tmp.resolve("id_builder"), "not read either");
    TeuthologyConfig config = TeuthologyConfig.parse("ssh_key: " + fromConfig + "\n", null);

    assertThat(MachineSessions.builder(NO_KEYS).config(config).build())
        .hasToString("MachineSessions[ubuntu, " + fromConfig + "]");
    assertThat(MachineSessions.builder(NO_KEYS).config(config).identity(fromBuilder).build())
        .hasToString("MachineSessions[ubuntu, " + fromBuilder + "]");
  }
}
