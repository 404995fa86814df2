/**
 * Sockets made inside a network namespace, synchronously: `socket(2)`, `bind(2)` and `listen(2)`
 * run on the calling thread while it is switched into the netns (`NetNs.run`), so the socket
 * belongs to that netns for its whole life, whatever thread uses it later.
 *
 * Why not `ns.run(() => server.listen(port))`: Node creates and binds the listening socket on a
 * later tick (after a DNS lookup of the host, even for an IP literal), when the thread is back in
 * its own netns, so the server silently listens in the caller's netns. Make the socket here and
 * hand its descriptor to Node instead: `net.createServer().listen({ fd: sock.disown() })`.
 *
 * @module
 */
import {
  AF_INET,
  AF_INET6,
  bind,
  errInvalidArgValue,
  type Fd,
  listen,
  optionKeys,
  SO_REUSEADDR,
  SO_REUSEPORT,
  SOCK_DGRAM,
  SOCK_STREAM,
  SOL_SOCKET,
  setsockoptInt,
  sockaddr,
  socket,
  validateBoolean,
  validateInteger,
  validateObject,
} from '@bpfjs/sys';

/** Options of `NetNs.socket()`. */
export interface NetNsSocketOptions {
  /** `'tcp'` (SOCK_STREAM) or `'udp'` (SOCK_DGRAM). */
  readonly type: 'tcp' | 'udp';
  /** IPv4 or IPv6 address to bind (default `'127.0.0.1'`; `'0.0.0.0'`/`'::'` for all). */
  readonly host?: string;
  /** Port to bind (default 0: the kernel picks one; read it with `getsockname` from `@bpfjs/sys`). */
  readonly port?: number;
  /** Set `SO_REUSEPORT` before binding (several sockets on one port). */
  readonly reusePort?: boolean;
  /**
   * TCP only: listen after binding (default `true`); a number is the backlog (default 511, as
   * Node uses).
   */
  readonly listen?: boolean | number;
}

const SOCKET_KEYS = optionKeys('type', 'host', 'port', 'reusePort', 'listen');

/**
 * Creates, binds and (TCP) listens a socket with the calling thread inside the netns `run` enters.
 * The returned `Fd` is close-on-exec and blocking; Node makes it non-blocking when it adopts it.
 * @internal used by `NetNs.socket()`.
 */
export function makeSocket(run: <T>(fn: () => T) => T, options: NetNsSocketOptions): Fd {
  validateObject(options, 'options', SOCKET_KEYS);
  const type = options.type;
  if (type !== 'tcp' && type !== 'udp')
    throw errInvalidArgValue('options.type', type, "must be 'tcp' or 'udp'");
  const host = options.host ?? '127.0.0.1';
  const port = validateInteger(options.port ?? 0, 'options.port', 0, 65535);
  const addr = sockaddr(host, port);
  const reusePort =
    options.reusePort === undefined ? false : validateBoolean(options.reusePort, 'options.reusePort');
  let backlog: number | undefined;
  const l = options.listen ?? type === 'tcp';
  if (typeof l === 'number') backlog = validateInteger(l, 'options.listen', 0, 0x7fffffff);
  else if (validateBoolean(l, 'options.listen')) backlog = 511;
  if (backlog !== undefined && type === 'udp') {
    throw errInvalidArgValue('options.listen', options.listen, "applies to 'tcp' sockets only");
  }
  const family = addr.byteLength === 16 ? AF_INET : AF_INET6;
  return run(() => {
    const fd = socket(family, type === 'tcp' ? SOCK_STREAM : SOCK_DGRAM);
    try {
      // As Node does for its TCP servers: a restarted server can bind while old connections linger.
      if (type === 'tcp') setsockoptInt(fd, SOL_SOCKET, SO_REUSEADDR, 1);
      if (reusePort) setsockoptInt(fd, SOL_SOCKET, SO_REUSEPORT, 1);
      bind(fd, addr);
      if (backlog !== undefined) listen(fd, backlog);
    } catch (err) {
      fd.close();
      throw err;
    }
    return fd;
  });
}
