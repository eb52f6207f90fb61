// The Jupyter kernel protocol over /api/kernels/{id}/channels. One KernelRouter per kernel
// fans iopub out to every connection and sends each shell/control/stdin reply back only to
// the connection whose request it answers. The kernel's messages are always read at once (its
// own state depends on them); a client that reads slowly is handled on its own: past
// HIGH_WATER bytes unsent, its messages wait in a bounded backlog (oldest dropped first, and
// the client told) until its socket drains. A client that reads nothing at all is closed by
// the websocket keepalive (server/connections.ts); one that reads slowly is not. Nobody else waits for it, and the gateway's memory stays bounded.
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import { makeMessage, CLIENT_CHANNELS, type Channel } from '../../protocol/message.js';
import { RawMessage } from '../../protocol/wire.js';
import { V1_PROTOCOL, decodeFromClient, encodeForClient, joinFrame, type EncodedFrame, type WebsocketFormat } from '../../protocol/websocket-codec.js';
import type { RunningKernel } from '../../kernels/running-kernel.js';
import { countMessage, messagesDropped, messagesReplayed } from '../../observability/metrics.js';
import type { RequestChannel } from '../../kernels/kernel-channels.js';
import type { Logger } from '../../kernels/logger.js';
import { REPLAY_DROPPED_MSG_TYPE, SessionReplayBuffer, type ReplayLimits } from './session-replay.js';
import { WireError } from '../../errors.js';

const HIGH_WATER = 16 * 1024 * 1024;
/** Messages this large are sent as fragments rather than joined into one buffer. */
const FRAGMENT_ABOVE = 256 * 1024;
const LOW_WATER = 4 * 1024 * 1024;
const DRAIN_CHECK_MS = 10;
/** Requests whose replies are still awaited, per kernel; old entries go first past this. */
const MAX_PENDING_OWNERS = 10_000;

/** One broadcast message, encoded per websocket format on first use. */
type FrameCache = Map<WebsocketFormat, { frame: EncodedFrame; joined?: Buffer }>;

export class ClientConnection {
  /** Messages held back while the socket has more than HIGH_WATER bytes unsent. */
  private backlog?: SessionReplayBuffer;
  private drainTimer?: NodeJS.Timeout;
  /** Whether this turn's frames are being gathered into one write (see gatherWrites). */
  private gathering = false;

  constructor(
    readonly ws: WebSocket,
    readonly format: WebsocketFormat,
    readonly sessionId: string | undefined,
    private readonly log: Logger,
    private readonly limits: ReplayLimits,
  ) {
    ws.once('close', () => this.dropBacklog());
  }

  get open(): boolean {
    return this.ws.readyState === this.ws.OPEN;
  }

  /** Sends in order; a client that reads slowly gets a bounded backlog instead of stalling others. */
  /** `shared` lets a broadcast encode (and join) a message once per format, not per client. */
  send(channel: string, msg: RawMessage, shared?: FrameCache): void {
    if (!this.open) return;
    if (this.backlog) return this.backlog.push(channel, msg);
    this.write(channel, msg, shared);
    if (this.ws.bufferedAmount > HIGH_WATER) this.startBacklog();
  }

  private write(channel: string, msg: RawMessage, shared?: FrameCache): void {
    let cached = shared?.get(this.format);
    if (!cached) {
      const frame = encodeForClient(channel, msg, this.format);
      cached = { frame, joined: frame.byteLength < FRAGMENT_ABOVE ? joinFrame(frame) : undefined };
      shared?.set(this.format, cached);
    }
    const { frame, joined } = cached;
    this.gatherWrites();
    if (joined) {
      this.ws.send(joined, { binary: frame.binary });
      return;
    }
    // A large message goes out as websocket fragments of its parts: no copy of the output.
    const last = frame.parts.length - 1;
    frame.parts.forEach((part, i) => this.ws.send(part, { binary: frame.binary, fin: i === last }));
  }

  /**
   * Frames sent in one turn of the event loop (the kernel's messages come in bursts: an execute's
   * status, input, result, status and reply) go out in one write to the TCP socket, not a
   * syscall each: the socket is corked for the rest of the turn and uncorked on the next tick,
   * before any I/O, so nothing waits longer. (ws corks each frame itself; corks nest.)
   */
  private gatherWrites(): void {
    if (this.gathering) return;
    const socket = (this.ws as unknown as { _socket?: Socket })._socket;
    if (!socket || socket.destroyed) return;
    this.gathering = true;
    socket.cork();
    process.nextTick(() => {
      this.gathering = false;
      socket.uncork();
    });
  }

  private startBacklog(): void {
    // No time limit here: a client that reads nothing at all is the keepalive's to end
    // (ws_ping_interval); one that reads slowly keeps its connection.
    this.backlog = new SessionReplayBuffer(this.sessionId ?? '', { maxBytes: this.limits.maxBytes, maxAgeMs: Infinity });
    const check = (): void => {
      if (!this.backlog) return;
      if (this.ws.bufferedAmount > LOW_WATER) {
        this.drainTimer = setTimeout(check, DRAIN_CHECK_MS);
        return;
      }
      const backlog = this.backlog;
      this.backlog = undefined;
      if (backlog.droppedMessages > 0) {
        messagesDropped.inc(backlog.droppedMessages);
        this.log.warn(`A slow websocket client missed ${backlog.droppedMessages} message(s) (${backlog.droppedBytes} bytes) past its backlog limit`);
        this.write('iopub', droppedNotice(backlog));
      }
      for (const { channel, msg } of backlog.drain()) this.write(channel, msg);
      if (this.ws.bufferedAmount > HIGH_WATER) this.startBacklog();
    };
    this.drainTimer = setTimeout(check, DRAIN_CHECK_MS);
  }

  private dropBacklog(): void {
    if (this.drainTimer) clearTimeout(this.drainTimer);
    this.backlog?.dispose();
    this.backlog = undefined;
  }
}

/** The iopub message that tells a client how much it missed. */
function droppedNotice(buffer: SessionReplayBuffer): RawMessage {
  return RawMessage.fromMessage(makeMessage(REPLAY_DROPPED_MSG_TYPE, { dropped_messages: buffer.droppedMessages, dropped_bytes: buffer.droppedBytes }, 'kernel-gateway'));
}

export class KernelRouter {
  private readonly connections = new Set<ClientConnection>();
  private readonly owners = new Map<string, ClientConnection>();
  /** Per session_id whose connection dropped: what it missed since. */
  private readonly replay = new Map<string, SessionReplayBuffer>();

  constructor(
    private readonly kernel: RunningKernel,
    private readonly log: Logger,
    private readonly replayLimits: ReplayLimits,
  ) {
    kernel.on('message', (channel, msg) => this.fromKernel(channel, msg));
    kernel.on('dead', () => this.broadcastStatus('dead'));
    // Jupyter Server tells clients of an automatic restart; a requested one they started themselves.
    kernel.on('restarting', (reason) => {
      if (reason === 'died') this.broadcastStatus('restarting');
    });
  }

  add(conn: ClientConnection): void {
    this.replayTo(conn);
    this.connections.add(conn);
    this.kernel.connections = this.connections.size;
    conn.ws.on('message', (data, isBinary) => this.fromClient(conn, toBuffer(data), isBinary));
    conn.ws.on('close', () => {
      this.connections.delete(conn);
      this.kernel.connections = this.connections.size;
      this.startBuffering(conn);
    });
    conn.ws.on('error', (err) => this.log.warn(`Websocket error on kernel ${this.kernel.id}: ${err.message}`));
  }

  closeAll(code: number, reason: string): void {
    for (const conn of this.connections) conn.ws.close(code, reason);
  }

  /** The kernel is gone: nothing is kept for anyone. */
  dispose(): void {
    for (const buffer of this.replay.values()) buffer.dispose();
    this.replay.clear();
  }

  private startBuffering(conn: ClientConnection): void {
    const id = conn.sessionId;
    if (!id || this.replayLimits.maxBytes <= 0 || this.kernel.isEnding || this.replay.has(id)) return;
    for (const other of this.connections) if (other.sessionId === id && other.open) return;
    this.replay.set(
      id,
      new SessionReplayBuffer(id, this.replayLimits, (expired) => {
        if (this.replay.get(id) !== expired) return;
        this.log.info(`Dropped ${expired.length} buffered message(s) for session ${id} on kernel ${this.kernel.id}: it did not reconnect in time`);
        expired.dispose();
        this.replay.delete(id);
      }),
    );
  }

  /** A session_id coming back gets what it missed, in order, before anything live. */
  private replayTo(conn: ClientConnection): void {
    const buffer = conn.sessionId ? this.replay.get(conn.sessionId) : undefined;
    if (!buffer) return;
    this.replay.delete(buffer.sessionId);
    if (buffer.droppedMessages > 0) {
      this.log.warn(`Session ${buffer.sessionId} on kernel ${this.kernel.id} missed ${buffer.droppedMessages} message(s) (${buffer.droppedBytes} bytes) past the replay buffer's limit`);
      conn.send('iopub', droppedNotice(buffer));
    }
    if (buffer.droppedMessages > 0) messagesDropped.inc(buffer.droppedMessages);
    const messages = buffer.drain();
    messagesReplayed.inc(messages.length);
    for (const { channel, msg } of messages) conn.send(channel, msg);
    if (messages.length > 0) this.log.info(`Replayed ${messages.length} message(s) to session ${buffer.sessionId} on kernel ${this.kernel.id}`);
  }

  private fromClient(conn: ClientConnection, data: Buffer, isBinary: boolean): void {
    let channel: string;
    let message: RawMessage;
    try {
      ({ channel, message } = decodeFromClient(data, isBinary, conn.format));
    } catch (err) {
      // The original closes the connection here; we log and keep serving.
      this.log.warn(`Ignored a malformed websocket message for kernel ${this.kernel.id}: ${(err as WireError).message}`);
      return;
    }
    if (!CLIENT_CHANNELS.has(channel)) {
      this.log.warn(`Ignored a message for unknown channel "${channel}" on kernel ${this.kernel.id}`);
      return;
    }
    countMessage(channel, 'to_kernel', message.byteLength());
    if (channel !== 'stdin') this.remember(message.msgId, conn);
    this.kernel.send(channel as RequestChannel, message).catch((err: Error) => this.log.error(`Could not send to kernel ${this.kernel.id}: ${err.message}`));
  }

  private remember(msgId: string, conn: ClientConnection): void {
    this.owners.set(msgId, conn);
    if (this.owners.size > MAX_PENDING_OWNERS) this.owners.delete(this.owners.keys().next().value as string);
  }

  private fromKernel(channel: Channel, msg: RawMessage): void {
    countMessage(channel, 'from_kernel', msg.byteLength());
    if (channel === 'iopub') {
      const shared: FrameCache = new Map();
      for (const conn of this.connections) conn.send(channel, msg, shared);
      for (const buffer of this.replay.values()) buffer.push(channel, msg);
      return;
    }
    const parent = msg.parentMsgId;
    const owner = parent === undefined ? undefined : this.owners.get(parent);
    if (parent !== undefined && channel !== 'stdin' && msg.msgType.endsWith('_reply')) this.owners.delete(parent);
    const target = owner && !owner.open ? this.successor(owner) : owner;
    const waiting = owner && !target && owner.sessionId ? this.replay.get(owner.sessionId) : undefined;
    if (waiting) waiting.push(channel, msg);
    else if (target) target.send(channel, msg);
    else if (this.connections.size > 0) this.log.debug(`No connection waits for ${msg.msgType} (${channel}) on kernel ${this.kernel.id}; dropped`);
  }

  /** The open connection that took over a closed one's session_id, if any. */
  private successor(conn: ClientConnection): ClientConnection | undefined {
    if (!conn.sessionId) return undefined;
    for (const other of this.connections) if (other.sessionId === conn.sessionId && other.open) return other;
    return undefined;
  }

  private broadcastStatus(state: string): void {
    const status = makeMessage('status', { execution_state: state }, this.kernel.session);
    const raw = RawMessage.fromMessage(status);
    for (const conn of this.connections) conn.send('iopub', raw);
  }
}

function toBuffer(data: Buffer | ArrayBuffer | Buffer[]): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** Per kernel, the router of its websockets (made on first connection). */
export class KernelWebsockets {
  private readonly routers = new Map<string, KernelRouter>();

  constructor(
    private readonly log: Logger,
    private readonly replayLimits: ReplayLimits,
  ) {}

  selectProtocol(offered: Set<string>): string | false {
    return offered.has(V1_PROTOCOL) ? V1_PROTOCOL : false;
  }

  accept(kernel: RunningKernel, ws: WebSocket, req: IncomingMessage): void {
    let router = this.routers.get(kernel.id);
    if (!router) {
      router = new KernelRouter(kernel, this.log, this.replayLimits);
      this.routers.set(kernel.id, router);
    }
    const sessionId = new URL(req.url ?? '/', 'http://x').searchParams.get('session_id') ?? undefined;
    ws.binaryType = 'nodebuffer';
    router.add(new ClientConnection(ws, ws.protocol === V1_PROTOCOL ? 'v1' : 'json', sessionId, this.log, this.replayLimits));
  }

  /** The kernel is gone: its websockets close. */
  forget(kernelId: string): void {
    const router = this.routers.get(kernelId);
    router?.closeAll(1000, 'Kernel shut down');
    router?.dispose();
    this.routers.delete(kernelId);
  }

  closeAll(code: number, reason: string): void {
    for (const router of this.routers.values()) router.closeAll(code, reason);
  }
}
