// The life of client connections, in one place: the HTTP server's timeouts, answers to requests
// Node cannot parse (after the pipelined requests before them), refused websocket upgrades,
// and websocket keepalive. Whatever a peer does (reset, vanish, stall, send garbage), its
// socket has an error listener and a deadline, and it costs nobody else anything.
import { STATUS_CODES, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { errorBody } from '../http/error-response.js';
import type { KernelGatewayAppConfig } from '../config/gateway-config.js';

/** How long a refused upgrade's answer may take to leave before its socket is destroyed. */
const REFUSAL_FLUSH_MS = 2000;
/** How long a socket whose request could not be parsed waits for earlier answers to go out. */
const PIPELINE_DRAIN_MS = 10_000;

const noop = (): void => undefined;

/** Node's http.Server options for the configured timeouts (seconds in, milliseconds out). */
export function httpServerOptions(cfg: KernelGatewayAppConfig): { headersTimeout: number; requestTimeout: number; keepAliveTimeout: number; connectionsCheckingInterval: number } {
  const requestTimeout = Math.round(cfg.http_request_timeout * 1000);
  // Node refuses a headers timeout longer than the request timeout.
  const headersTimeout = Math.min(Math.round(cfg.http_headers_timeout * 1000), requestTimeout);
  // The timeouts above are checked on this period: a fraction of the shortest, at most 1 s.
  const connectionsCheckingInterval = Math.max(50, Math.min(1000, Math.floor(headersTimeout / 4)));
  return { headersTimeout, requestTimeout, keepAliveTimeout: Math.round(cfg.http_keep_alive_timeout * 1000), connectionsCheckingInterval };
}

/** Writes a final answer on a raw socket the way `ws` aborts a handshake: the bytes, a FIN, and
 *  the socket destroyed once they are out, or after a short while if the peer reads nothing. */
export function answerAndClose(socket: Duplex, status: number, message: string): void {
  socket.on('error', noop);
  if (socket.destroyed) return;
  const body = JSON.stringify(errorBody(status, message));
  const head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`;
  const timer = setTimeout(() => socket.destroy(), REFUSAL_FLUSH_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
  socket.once('finish', () => socket.destroy());
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(head + body);
}

/** Error listeners and no Nagle delay on every connection, from its first moment. */
export function guardHttpServer(server: Server): void {
  const guard = (socket: Socket): void => {
    socket.on('error', noop);
    socket.setNoDelay(true);
  };
  server.on('connection', guard);
  server.on('secureConnection', guard);
}

/** The answer to a request Node's parser refused (Fastify's clientErrorHandler). */
export function clientErrorAnswer(err: NodeJS.ErrnoException): { status: number; message: string } | undefined {
  if (err.code === 'ECONNRESET' || err.code === 'EPIPE') return undefined;
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return { status: 408, message: 'The request took too long to arrive' };
  if (err.code === 'HPE_HEADER_OVERFLOW') return { status: 431, message: 'Request headers too large' };
  if (err.code === 'HPE_URI_TOO_LONG') return { status: 414, message: 'Request URL too long' };
  return { status: 400, message: `Malformed HTTP request${err.code ? ` (${err.code})` : ''}` };
}

/** Answers a refused request once the requests before it on the same socket are answered. */
export function makeClientErrorHandler(log: (message: string) => void): (err: NodeJS.ErrnoException, socket: Socket) => void {
  const waiting = new WeakSet<Socket>();
  return (err, socket) => {
    socket.on('error', noop);
    const answer = clientErrorAnswer(err);
    if (!answer || socket.destroyed) {
      socket.destroy();
      return;
    }
    log(`${answer.status} from a client whose request could not be read: ${err.code ?? err.message}`);
    if (waiting.has(socket)) return;
    waiting.add(socket);
    // Valid requests pipelined before this one are being answered: let them finish first. A
    // request still arriving (its body is what failed, or it timed out) is not waited for.
    const timer = setTimeout(() => socket.destroy(), PIPELINE_DRAIN_MS);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
    const check = (): void => {
      const current = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
      if (current && !current.writableFinished && current.req.complete && answer.status !== 408) {
        current.once('close', () => setImmediate(check));
        return;
      }
      clearTimeout(timer);
      // An answer already begun cannot be followed by ours.
      if (current && current.headersSent && !current.writableFinished) socket.destroy();
      else answerAndClose(socket, answer.status, answer.message);
    };
    check();
  };
}

interface Outflow {
  /** Bytes whose writes have completed. */
  completed: number;
  /** Bytes handed to the socket that the OS has not taken yet (a large write drains in parts). */
  queued: number;
  /** Bytes not yet taken by the OS, in all. */
  pending: number;
}

function outflow(socket: Socket): Outflow {
  const handle = (socket as Socket & { _handle?: { writeQueueSize?: number } | null })._handle;
  const queued = handle?.writeQueueSize ?? 0;
  return { completed: socket.bytesWritten - socket.writableLength, queued, pending: socket.writableLength + queued };
}

/** Intervals a peer may stay silent (no pong, no message, no output drained) before it is dropped,
 *  as Tornado's websocket_ping_timeout counts by default. */
const SILENT_INTERVALS = 3;

/**
 * Pings every websocket each `intervalMs`. A peer that for SILENT_INTERVALS intervals neither
 * answered a ping, sent anything nor took any stuck bytes from its socket is terminated (its
 * 'close' then uncounts it everywhere). A slow reader whose pings wait behind megabytes of
 * output is alive as long as it drains.
 */
export function startKeepalive(intervalMs: number, onDead: (ws: WebSocket) => void): { stop(): void; track(ws: WebSocket, socket: Duplex): void } {
  // Silence is counted in sweeps, not in wall time: after the gateway itself stalled, the
  // first sweep runs before the pongs waiting in the sockets are read, and must not blame them.
  const peers = new Map<WebSocket, { socket: Socket; heard: boolean; silentSweeps: number; out: Outflow }>();
  const timer =
    intervalMs > 0
      ? setInterval(() => {
          for (const [ws, peer] of peers) {
            const out = outflow(peer.socket);
            // Progress counts only for output that was stuck: a ping that fits in the socket's
            // buffer "completes" whether or not anyone reads it.
            const drained = peer.out.pending > 0 && (out.completed > peer.out.completed || out.queued < peer.out.queued);
            peer.out = out;
            peer.silentSweeps = peer.heard || drained ? 0 : peer.silentSweeps + 1;
            peer.heard = false;
            if (peer.silentSweeps >= SILENT_INTERVALS) {
              onDead(ws);
              ws.terminate();
              continue;
            }
            try {
              ws.ping();
            } catch {
              /* closing already */
            }
          }
        }, intervalMs)
      : undefined;
  timer?.unref();
  return {
    stop: () => {
      if (timer) clearInterval(timer);
      peers.clear();
    },
    track: (ws, socket) => {
      if (!timer) return;
      const peer = { socket: socket as Socket, heard: true, silentSweeps: 0, out: outflow(socket as Socket) };
      peers.set(ws, peer);
      const alive = (): void => {
        peer.heard = true;
      };
      ws.on('pong', alive);
      ws.on('message', alive);
      ws.once('close', () => peers.delete(ws));
    },
  };
}
