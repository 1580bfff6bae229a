package io.machinepool.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP proxy on loopback, in this JVM, between a pool and its database, that a test can break on
 * purpose: stop forwarding while keeping every socket open (a partition, a stalled server), drop
 * only what the server answers (a commit whose acknowledgement is lost), or reset every connection
 * and refuse new ones (a server that went away). Needs no root and touches only 127.0.0.1.
 */
public final class FaultProxy implements AutoCloseable {
  /** What the proxy does with the bytes it reads. */
  public enum Mode {
    /** Forwards both ways. */
    FORWARD,
    /** Forwards nothing, keeps every socket open: bytes read are dropped. */
    BLACK_HOLE,
    /** Forwards what the client sends, drops what the server answers. */
    DROP_RESPONSES,
    /** Resets every connection, and every new one at once. */
    REFUSE
  }

  private static final AtomicInteger PROXIES = new AtomicInteger();

  private final InetSocketAddress target;
  private final ServerSocket server;
  private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
  private final Thread acceptor;
  private volatile Mode mode = Mode.FORWARD;
  private volatile boolean closed;

  private FaultProxy(InetSocketAddress target) throws IOException {
    this.target = target;
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    this.acceptor = daemon("fault-proxy-" + PROXIES.incrementAndGet() + "-accept", this::accept);
    acceptor.start();
  }

  /**
   * Starts a proxy to a server on this machine.
   *
   * @param host the server's host, a loopback address
   * @param port the server's port
   * @return the proxy, forwarding
   */
  public static FaultProxy to(String host, int port) {
    try {
      return new FaultProxy(new InetSocketAddress(host, port));
    } catch (IOException e) {
      throw new IllegalStateException("cannot start a proxy to " + host + ":" + port, e);
    }
  }

  /** The proxy's port on 127.0.0.1. */
  public int port() {
    return server.getLocalPort();
  }

  /** What it does now. */
  public Mode mode() {
    return mode;
  }

  /**
   * Changes what it does; from {@link Mode#REFUSE}, every open connection is reset at once.
   *
   * @param value the new mode
   */
  public void mode(Mode value) {
    this.mode = value;
    if (value == Mode.REFUSE) {
      sockets.forEach(FaultProxy::reset);
    }
  }

  /** Forwards again, for connections opened from now on and the ones still open. */
  public void heal() {
    mode(Mode.FORWARD);
  }

  private void accept() {
    while (!closed) {
      Socket client;
      try {
        client = server.accept();
      } catch (IOException e) {
        return; // closed
      }
      if (mode == Mode.REFUSE) {
        reset(client);
        continue;
      }
      try {
        Socket upstream = new Socket();
        upstream.connect(target, 5_000);
        sockets.add(client);
        sockets.add(upstream);
        client.setTcpNoDelay(true);
        upstream.setTcpNoDelay(true);
        String name = Thread.currentThread().getName();
        daemon(name + "-up", () -> pump(client, upstream, false)).start();
        daemon(name + "-down", () -> pump(upstream, client, true)).start();
      } catch (IOException e) {
        reset(client);
      }
    }
  }

  private void pump(Socket from, Socket to, boolean response) {
    byte[] buffer = new byte[16 * 1024];
    try (InputStream in = from.getInputStream();
        OutputStream out = to.getOutputStream()) {
      for (int n; (n = in.read(buffer)) >= 0; ) {
        Mode now = mode;
        if (now == Mode.FORWARD || (now == Mode.DROP_RESPONSES && !response)) {
          out.write(buffer, 0, n);
          out.flush();
        }
      }
    } catch (IOException e) {
      // one side went away: so does the other
    } finally {
      if (mode == Mode.BLACK_HOLE && !closed) {
        // a partition: the other side is not told either
        sockets.remove(from);
      } else {
        close(from);
        close(to);
      }
    }
  }

  private static Thread daemon(String name, Runnable task) {
    Thread thread = new Thread(task, name);
    thread.setDaemon(true);
    return thread;
  }

  private static void reset(Socket socket) {
    try {
      socket.setSoLinger(true, 0); // close with RST
    } catch (IOException e) {
      // closed already
    }
    close(socket);
  }

  private static void close(Socket socket) {
    try {
      socket.close();
    } catch (IOException e) {
      // closed already
    }
  }

  /** Stops accepting and closes every connection. */
  @Override
  public void close() {
    closed = true;
    close(server);
    sockets.forEach(FaultProxy::reset);
  }

  private static void close(ServerSocket socket) {
    try {
      socket.close();
    } catch (IOException e) {
      // closed already
    }
  }
}
