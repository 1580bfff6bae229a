package io.machinepool.ssh;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntPredicate;

/**
 * A TCP server on loopback for tests, that does with each accepted connection what its handler
 * says: answer with something that is not SSH, say nothing, close, or pass the connection on to a
 * real SSH server. {@link #close()} closes the listening socket and every connection.
 */
final class RawTcpServer implements AutoCloseable {
  /**
   * What to do with one accepted connection; the handler may return while the socket stays open.
   */
  interface Handler {
    void handle(int index, Socket socket) throws IOException;
  }

  private final ServerSocket listener;
  private final Thread acceptor;
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private final List<Thread> threads = new CopyOnWriteArrayList<>();
  private final AtomicInteger accepted = new AtomicInteger();

  private RawTcpServer(int forwardTo, IntPredicate forward, Handler handler) throws IOException {
    listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    acceptor =
        new Thread(
            () -> {
              while (!listener.isClosed()) {
                try {
                  Socket socket = listener.accept();
                  sockets.add(socket);
                  int index = accepted.getAndIncrement();
                  if (forwardTo > 0 && forward.test(index)) {
                    forward(socket, forwardTo);
                  } else {
                    handler.handle(index, socket);
                  }
                } catch (IOException e) {
                  // closed, or the handler failed: the client sees the connection end
                }
              }
            },
            "raw-tcp-server-" + listener.getLocalPort());
    acceptor.setDaemon(true);
    acceptor.start();
  }

  static RawTcpServer start(Handler handler) throws IOException {
    return new RawTcpServer(0, index -> false, handler);
  }

  /**
   * Starts a server that passes its first connection on to {@code port} on loopback (both ways,
   * until either side ends) and hands the later ones to {@code later}.
   */
  static RawTcpServer forwardingFirst(int port, Handler later) throws IOException {
    return new RawTcpServer(port, index -> index == 0, later);
  }

  /**
   * Starts a server that hands its first {@code count} connections to {@code first} and passes the
   * later ones on to {@code port} on loopback.
   */
  static RawTcpServer forwardingAfter(int count, Handler first, int port) throws IOException {
    return new RawTcpServer(port, index -> index >= count, first);
  }

  int port() {
    return listener.getLocalPort();
  }

  /** How many connections were accepted so far. */
  int accepted() {
    return accepted.get();
  }

  /** Keeps the connection open and silent until the server is closed. */
  static void silent(int index, Socket socket) {}

  /**
   * Sends one byte that is not SSH every 100 ms, for as long as the connection stays open: each
   * read gets a byte soon, but the server's banner never comes.
   */
  static void drip(int index, Socket socket) {
    Thread thread =
        new Thread(
            () -> {
              try {
                OutputStream out = socket.getOutputStream();
                while (!socket.isClosed()) {
                  out.write('.');
                  out.flush();
                  Thread.sleep(100);
                }
              } catch (IOException | InterruptedException e) {
                // the client went away, or the test is over
              }
            },
            "raw-tcp-drip");
    thread.setDaemon(true);
    thread.start();
  }

  /** Reads the client's first line, then closes without a word. */
  static void closeAfterFirstLine(int index, Socket socket) throws IOException {
    readLine(socket.getInputStream());
    socket.close();
  }

  /** Reads the client's first line, answers with {@code text} and closes. */
  static Handler answerAndClose(String text) {
    return (index, socket) -> {
      readLine(socket.getInputStream());
      OutputStream out = socket.getOutputStream();
      out.write(text.getBytes(StandardCharsets.US_ASCII));
      out.flush();
      socket.close();
    };
  }

  private void forward(Socket client, int port) throws IOException {
    Socket server = new Socket(InetAddress.getLoopbackAddress(), port);
    sockets.add(server);
    pump(client, server);
    pump(server, client);
  }

  private void pump(Socket from, Socket to) {
    Thread thread =
        new Thread(
            () -> {
              try (InputStream in = from.getInputStream();
                  OutputStream out = to.getOutputStream()) {
                in.transferTo(out);
              } catch (IOException e) {
                // one side went away
              } finally {
                closeQuietly(from);
                closeQuietly(to);
              }
            },
            "raw-tcp-pump");
    thread.setDaemon(true);
    threads.add(thread);
    thread.start();
  }

  private static String readLine(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    for (int b = in.read(); b >= 0 && b != '\n' && line.size() < 1024; b = in.read()) {
      line.write(b);
    }
    return line.toString(StandardCharsets.US_ASCII);
  }

  private static void closeQuietly(Socket socket) {
    try {
      socket.close();
    } catch (IOException e) {
      // closing anyway
    }
  }

  @Override
  public void close() throws InterruptedException {
    closeQuietly(listener);
    sockets.forEach(RawTcpServer::closeQuietly);
    acceptor.join(5_000);
    for (Thread thread : threads) {
      thread.join(5_000);
    }
  }

  private static void closeQuietly(ServerSocket socket) {
    try {
      socket.close();
    } catch (IOException e) {
      // closing anyway
    }
  }
}
