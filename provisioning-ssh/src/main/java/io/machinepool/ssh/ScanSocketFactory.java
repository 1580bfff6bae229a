package io.machinepool.ssh;

import com.jcraft.jsch.SocketFactory;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * The socket of one scan connection, held to a deadline: the TCP connect gets what is left of it,
 * and so does every read, so a server that sends its bytes slowly cannot stretch the connection
 * past it (a socket timeout alone bounds each read, not their sum). Also remembers whether the TCP
 * connection was made and the first bytes the server sent, which tell the kinds of failure apart.
 *
 * <p>Closing the socket (JSch does, when a scan connection ends) first waits for the server's end
 * of the connection: it shuts down the output, so that the server reads the end of the stream, and
 * reads what the server still sends until the server closes, at most {@link #CLOSE_WAIT} and never
 * past the connection's deadline. sshd counts a connection against its {@code MaxStartups} until
 * then, so the next connection of the scan does not find the previous one still counted.
 */
final class ScanSocketFactory implements SocketFactory {
  /** How many of the server's first bytes are kept. */
  private static final int PREVIEW = 2048;

  /** How long closing waits at most for the server to close its end. */
  static final long CLOSE_WAIT = 2_000_000_000L;

  private final long start = System.nanoTime();
  private final long budget;
  private final ByteArrayOutputStream preview = new ByteArrayOutputStream();
  private volatile boolean connected;

  /**
   * @param budget how long the connection may take in all, in nanoseconds, positive
   */
  ScanSocketFactory(long budget) {
    this.budget = budget;
  }

  @Override
  public Socket createSocket(String host, int port) throws IOException {
    InetSocketAddress address = new InetSocketAddress(host, port);
    if (address.isUnresolved()) {
      throw new UnknownHostException(host);
    }
    Socket socket = new ScanSocket();
    try {
      socket.connect(address, millisLeft());
    } catch (IOException | RuntimeException e) {
      try {
        socket.close();
      } catch (IOException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
    connected = true;
    return socket;
  }

  @Override
  public InputStream getInputStream(Socket socket) throws IOException {
    return new DeadlineInputStream(socket, socket.getInputStream());
  }

  @Override
  public OutputStream getOutputStream(Socket socket) throws IOException {
    return socket.getOutputStream();
  }

  /** Whether the TCP connection was made. */
  boolean connected() {
    return connected;
  }

  /**
   * The server's SSH version line, e.g. {@code SSH-2.0-OpenSSH_9.2}, once it was received: the
   * first line of protocol version 2.0 (or 1.99, which means 2.0 as well).
   */
  Optional<String> serverVersion() {
    for (String line : receivedLines()) {
      if (line.startsWith("SSH-2.0-") || line.startsWith("SSH-1.99-")) {
        return Optional.of(printable(line));
      }
    }
    return Optional.empty();
  }

  /** The first line the server sent that is not empty, shortened and made printable. */
  Optional<String> firstLine() {
    for (String line : receivedLines()) {
      if (!line.isBlank()) {
        return Optional.of(printable(line));
      }
    }
    return Optional.empty();
  }

  private String[] receivedLines() {
    String text;
    synchronized (preview) {
      text = preview.toString(StandardCharsets.ISO_8859_1);
    }
    return text.split("\r?\n", -1);
  }

  private static String printable(String line) {
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < line.length() && text.length() < 80; i++) {
      char c = line.charAt(i);
      text.append(c >= 0x20 && c < 0x7f ? c : '?');
    }
    return line.length() > 80 ? text + "..." : text.toString();
  }

  private void record(byte[] bytes, int offset, int length) {
    synchronized (preview) {
      int room = PREVIEW - preview.size();
      if (room > 0) {
        preview.write(bytes, offset, Math.min(room, length));
      }
    }
  }

  /** What is left of the budget in milliseconds, at least 1; throws when nothing is left. */
  private int millisLeft() throws SocketTimeoutException {
    long left = budget - (System.nanoTime() - start);
    if (left <= 0) {
      throw new SocketTimeoutException("the connection's time ran out");
    }
    return (int) Math.max(1, Math.min(Integer.MAX_VALUE, (left + 999_999) / 1_000_000));
  }

  /** What is left of the budget in nanoseconds, at most {@code cap}; 0 when nothing is left. */
  private long nanosLeft(long cap) {
    return Math.max(0, Math.min(cap, budget - (System.nanoTime() - start)));
  }

  /** A socket whose {@link #close()} waits for the server to close its end first. */
  private final class ScanSocket extends Socket {
    private boolean closing;

    @Override
    public synchronized void close() throws IOException {
      if (!closing && isConnected() && !isClosed()) {
        closing = true;
        awaitServerEnd();
      }
      super.close();
    }

    private void awaitServerEnd() {
      try {
        shutdownOutput();
        InputStream in = super.getInputStream();
        byte[] discard = new byte[4096];
        long end = System.nanoTime() + nanosLeft(CLOSE_WAIT);
        for (long wait = end - System.nanoTime(); wait > 0; wait = end - System.nanoTime()) {
          setSoTimeout((int) Math.max(1, wait / 1_000_000));
          if (in.read(discard) < 0) {
            return;
          }
        }
      } catch (IOException e) {
        // the server reset the connection, or did not close it in time: close it anyway
      }
    }
  }

  /** Reads with a socket timeout of what is left of the budget. */
  private final class DeadlineInputStream extends InputStream {
    private final Socket socket;
    private final InputStream in;

    DeadlineInputStream(Socket socket, InputStream in) {
      this.socket = socket;
      this.in = in;
    }

    @Override
    public int read() throws IOException {
      socket.setSoTimeout(millisLeft());
      int b = in.read();
      if (b >= 0) {
        record(new byte[] {(byte) b}, 0, 1);
      }
      return b;
    }

    @Override
    public int read(byte[] bytes, int offset, int length) throws IOException {
      socket.setSoTimeout(millisLeft());
      int n = in.read(bytes, offset, length);
      if (n > 0) {
        record(bytes, offset, n);
      }
      return n;
    }

    @Override
    public int available() throws IOException {
      return in.available();
    }

    @Override
    public void close() throws IOException {
      in.close();
    }
  }
}
