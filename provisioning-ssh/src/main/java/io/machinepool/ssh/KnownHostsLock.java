package io.machinepool.ssh;

import io.machinepool.ConfigurationException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An exclusive lock on a lock file beside a {@code known_hosts} file, held while it is read and
 * replaced: first a lock of this JVM per lock file, then {@link FileChannel#tryLock()} on the file,
 * tried with backoff until a deadline. The JVM lock comes first because POSIX record locks belong
 * to the process: two threads of one JVM cannot exclude each other with them, and closing any
 * channel of the file would drop the lock another thread holds. The lock file is never deleted
 * (deleting it would let a process lock a file that another one has just replaced).
 */
final class KnownHostsLock implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(KnownHostsLock.class);
  private static final long FIRST_PAUSE_MILLIS = 5;
  private static final long LONGEST_PAUSE_MILLIS = 200;

  /** The JVM locks, per lock file; as many as there are known_hosts files in use. */
  private static final ConcurrentHashMap<Path, ReentrantLock> IN_PROCESS =
      new ConcurrentHashMap<>();

  private final ReentrantLock jvmLock;
  private final FileChannel channel;
  private final FileLock fileLock;

  private KnownHostsLock(ReentrantLock jvmLock, FileChannel channel, FileLock fileLock) {
    this.jvmLock = jvmLock;
    this.channel = channel;
    this.fileLock = fileLock;
  }

  /**
   * Takes the lock, waiting at most the timeout.
   *
   * @param lockFile the lock file, in a directory that exists; created (0600) when missing
   * @param file the known_hosts file it guards, for messages
   * @param timeout how long to wait for another holder
   * @param posix whether the file system has POSIX permissions
   * @return the held lock; close it to release
   * @throws ConfigurationException when the lock is still held by another after the timeout, the
   *     thread is interrupted, or the lock file cannot be opened
   */
  static KnownHostsLock take(Path lockFile, Path file, Duration timeout, boolean posix) {
    long deadline = System.nanoTime() + timeout.toNanos();
    ReentrantLock jvmLock = IN_PROCESS.computeIfAbsent(key(lockFile), k -> new ReentrantLock());
    try {
      if (!jvmLock.tryLock(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
        throw timedOut(lockFile, file, timeout, "another thread of this process");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw interrupted(lockFile, file, e);
    }
    FileChannel channel = null;
    try {
      channel = open(lockFile, posix);
      long pause = FIRST_PAUSE_MILLIS;
      while (true) {
        FileLock lock;
        String holder = "another process";
        try {
          lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
          lock = null;
          holder = "other code of this process";
        }
        if (lock != null) {
          return new KnownHostsLock(jvmLock, channel, lock);
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw timedOut(lockFile, file, timeout, holder);
        }
        LOG.debug("{} is locked by another process; trying again in {} ms", lockFile, pause);
        Thread.sleep(Math.min(pause, TimeUnit.NANOSECONDS.toMillis(left) + 1));
        pause = Math.min(pause * 2, LONGEST_PAUSE_MILLIS);
      }
    } catch (IOException e) {
      release(jvmLock, channel);
      throw new ConfigurationException(
          "cannot lock " + lockFile + " to update " + file + ": " + e, e);
    } catch (InterruptedException e) {
      release(jvmLock, channel);
      Thread.currentThread().interrupt();
      throw interrupted(lockFile, file, e);
    } catch (RuntimeException e) {
      release(jvmLock, channel);
      throw e;
    }
  }

  /** One key per lock file however its directory is spelt: through links, relative or not. */
  private static Path key(Path lockFile) {
    Path absolute = lockFile.toAbsolutePath().normalize();
    try {
      return absolute.getParent().toRealPath().resolve(absolute.getFileName());
    } catch (IOException e) {
      return absolute;
    }
  }

  private static FileChannel open(Path lockFile, boolean posix) throws IOException {
    FileAttribute<?>[] attributes =
        posix
            ? new FileAttribute<?>[] {
              PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))
            }
            : new FileAttribute<?>[0];
    return FileChannel.open(
        lockFile, Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE), attributes);
  }

  private static ConfigurationException timedOut(
      Path lockFile, Path file, Duration timeout, String holder) {
    return new ConfigurationException(
        "could not lock "
            + lockFile
            + " within "
            + timeout.toMillis()
            + " ms: "
            + holder
            + " still holds it while updating "
            + file
            + "; try again, or find the process that keeps it locked");
  }

  private static ConfigurationException interrupted(
      Path lockFile, Path file, InterruptedException e) {
    return new ConfigurationException(
        "interrupted while waiting for the lock " + lockFile + " to update " + file, e);
  }

  private static void release(ReentrantLock jvmLock, FileChannel channel) {
    try {
      if (channel != null) {
        channel.close();
      }
    } catch (IOException e) {
      LOG.debug("cannot close a lock file channel", e);
    } finally {
      jvmLock.unlock();
    }
  }

  /** Releases the file lock, closes the lock file and releases the JVM lock. */
  @Override
  public void close() {
    try {
      fileLock.release();
    } catch (IOException e) {
      LOG.debug("cannot release the lock on a lock file; closing it releases it", e);
    } finally {
      release(jvmLock, channel);
    }
  }
}
