import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import { DependencyTimeoutError, DependencyUnavailableError, withDeadline } from '@kura/common';

export interface StoreTimeouts {
  /** TCP connect to the store. */
  connectMs: number;
  /** No byte in either direction on a socket (a frozen or blackholed store, a stalled part). */
  idleMs: number;
  /** Whole metadata calls (HEAD, DELETE, initiate/complete multipart, bucket checks). */
  requestMs: number;
}

export const DEFAULT_STORE_TIMEOUTS: StoreTimeouts = { connectMs: 5_000, idleMs: 30_000, requestMs: 60_000 };

/** The object store did not answer in time, or could not be reached: unavailable, not an integrity failure. */
export class StoreTimeoutError extends DependencyTimeoutError {
  constructor(what: string, ms: number) {
    super('object store', what, ms);
  }
}

/** An object's body failed on its way from the store (the store died, froze or reset the connection). */
export class StoreStreamError extends DependencyUnavailableError {
  constructor(cause: Error) {
    super('object store', `object store read cut: ${cause.message}`);
    this.name = 'StoreStreamError';
  }
}

/**
 * An object's body was cut while the reader held it back (a download client that stopped
 * reading: backpressure reached the store socket, which then went idle). The reader's doing,
 * not the store's: neither an operational fault nor an integrity failure.
 */
export class ReaderStalledError extends Error {
  readonly code = 'KURA_READER_STALLED';
  constructor(cause: Error) {
    super(`object read cut while its reader held it back: ${cause.message}`);
    this.name = 'ReaderStalledError';
  }
}

/** Connect timer and idle timer: a socket that does not connect, or on which nothing moves, is destroyed. */
function arm<S extends net.Socket>(socket: S, timeouts: StoreTimeouts): S {
  const connectTimer = setTimeout(() => socket.destroy(new StoreTimeoutError('connect', timeouts.connectMs)), timeouts.connectMs);
  connectTimer.unref();
  socket.once('connect', () => clearTimeout(connectTimer));
  socket.once('close', () => clearTimeout(connectTimer));
  socket.on('timeout', () => socket.destroy(new StoreTimeoutError('socket idle', timeouts.idleMs)));
  return socket;
}

/**
 * Keep-alive agent whose sockets fail instead of hanging: a connect that takes longer
 * than `connectMs`, or a socket on which nothing moves for `idleMs`, is destroyed with a
 * StoreTimeoutError, which fails the request (and a streaming body) that uses it.
 * (`timeout` re-arms the idle timer whenever a pooled socket is reused.)
 */
export class TimeoutAgent extends http.Agent {
  constructor(private readonly timeouts: StoreTimeouts) {
    super({ keepAlive: true, maxSockets: 256, timeout: timeouts.idleMs });
  }

  override createConnection(options: http.ClientRequestArgs): net.Socket {
    return arm(net.createConnection(options as net.NetConnectOpts), this.timeouts);
  }
}

/** The same over TLS. */
export class TimeoutHttpsAgent extends https.Agent {
  constructor(private readonly timeouts: StoreTimeouts) {
    super({ keepAlive: true, maxSockets: 256, timeout: timeouts.idleMs });
  }

  override createConnection(options: http.ClientRequestArgs): net.Socket {
    const connect = https.Agent.prototype.createConnection as (this: https.Agent, o: http.ClientRequestArgs) => net.Socket;
    return arm(connect.call(this, options), this.timeouts);
  }
}

/** Rejects with StoreTimeoutError when `work` takes longer than `ms` (the socket is cut by the agent's idle timer). */
export function withStoreDeadline<T>(what: string, ms: number, work: Promise<T>): Promise<T> {
  return withDeadline('object store', what, ms, work);
}
