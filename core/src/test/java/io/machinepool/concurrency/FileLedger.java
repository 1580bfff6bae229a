package io.machinepool.concurrency;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * A {@link Ledger} that several JVMs share: one file per machine, locked with {@link
 * FileChannel#tryLock()} while a worker holds the machine. The operating system grants the lock to
 * one process at a time, and the JVM to one channel at a time, so a failed {@code tryLock} (or an
 * {@link OverlappingFileLockException} between threads of one process) is a double hold. The
 * holder's name is written into the file for the message.
 *
 * <p>Each file is opened once per process and kept open until {@link #close()}: on POSIX systems
 * closing any descriptor of a file drops every lock the process holds on it.
 */
final class FileLedger implements Ledger, AutoCloseable {
  private record Claim(String holder, FileLock lock) {}

  private final Map<String, FileChannel> channels = new HashMap<>();
  private final ConcurrentHashMap<String, Claim> claims = new ConcurrentHashMap<>();
  private final ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();

  /**
   * Opens (creating them when needed) the files of the machines.
   *
   * @param dir the directory the processes share
   * @param machines the machines' names
   */
  FileLedger(Path dir, List<String> machines) {
    try {
      Files.createDirectories(dir);
      for (String machine : machines) {
        channels.put(
            machine,
            FileChannel.open(
                dir.resolve(machine + ".lock"),
                StandardOpenOption.CREATE,
                StandardOpenOption.READ,
                StandardOpenOption.WRITE));
      }
    } catch (IOException e) {
      close();
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void claim(String machine, String holder) {
    FileChannel channel = channel(machine);
    try {
      FileLock lock = channel.tryLock();
      if (lock == null) {
        violations.add(
            machine
                + " was locked by "
                + holder
                + " while another process ("
                + recordedHolder(channel)
                + ") still held it");
        return;
      }
      channel.truncate(0);
      channel.write(ByteBuffer.wrap(holder.getBytes(StandardCharsets.UTF_8)), 0);
      channel.force(false);
      claims.put(machine, new Claim(holder, lock));
    } catch (OverlappingFileLockException e) {
      Claim other = claims.get(machine);
      violations.add(
          machine
              + " was locked by "
              + holder
              + " while "
              + (other == null ? "another thread of this process" : other.holder())
              + " still held it");
    } catch (IOException e) {
      violations.add("could not claim " + machine + " for " + holder + ": " + e);
    }
  }

  @Override
  public void release(String machine, String holder) {
    Claim claim = claims.get(machine);
    if (claim == null || !claim.holder().equals(holder) || !claims.remove(machine, claim)) {
      violations.add(
          holder
              + " released "
              + machine
              + " but the ledger says "
              + (claim == null ? "nobody" : claim.holder())
              + " holds it");
      return;
    }
    try {
      FileChannel channel = channel(machine);
      channel.truncate(0);
      claim.lock().release();
    } catch (IOException e) {
      violations.add("could not release " + machine + " for " + holder + ": " + e);
    }
  }

  private FileChannel channel(String machine) {
    FileChannel channel = channels.get(machine);
    if (channel == null) {
      throw new IllegalArgumentException("no ledger file for " + machine);
    }
    return channel;
  }

  private static String recordedHolder(FileChannel channel) {
    try {
      ByteBuffer buffer = ByteBuffer.allocate(256);
      int n = channel.read(buffer, 0);
      return n <= 0 ? "unknown" : new String(buffer.array(), 0, n, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "unknown: " + e;
    }
  }

  @Override
  public List<String> violations() {
    return List.copyOf(violations);
  }

  /** Releases every claim and closes the files. */
  @Override
  public void close() {
    for (FileChannel channel : channels.values()) {
      try {
        channel.close();
      } catch (IOException e) {
        // closing releases its locks; nothing else to do
      }
    }
  }
}
