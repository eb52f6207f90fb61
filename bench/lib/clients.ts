// The measuring clients. Both speak the Jupyter protocol directly (no @jupyterlab/services) so
// that the client stays cheap next to the server under test:
// - WsKernelClient: /api/kernels/{id}/channels in the JSON format or the v1 binary subprotocol
//   (ws's client socket has TCP_NODELAY on: ws calls socket.setNoDelay() on upgrade);
// - DirectKernelClient: the same requests to an ipykernel over ZeroMQ through our own
//   RunningKernel, with no server in between: the limit any gateway is measured against.
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { makeMessage, type Channel } from '../../src/protocol/message.js';
import { RawMessage } from '../../src/protocol/wire.js';
import { V1_PROTOCOL, encodeForClient, joinFrame } from '../../src/protocol/websocket-codec.js';
import type { RunningKernel } from '../../src/kernels/running-kernel.js';

export type ClientFormat = 'json' | 'v1' | 'zmq';

/**
 * Websocket messages and payload bytes of every WsKernelClient in this process, both ways:
 * what a server relayed for the bench (the cost model, bench/lib/cost-model.ts, reads it
 * around measured spans, in which only one system's clients are active).
 */
export const wsTraffic = { messages: 0, bytes: 0 };

export interface ExecOutcome {
  /** Request sent until `status: idle` for it arrived, in milliseconds. */
  ms: number;
  /** Characters of stream output (stdout/stderr text) that arrived for it. */
  streamChars: number;
  /** The largest single stream message's text, in characters (how the kernel batched it). */
  maxStreamChars: number;
  /** Number of iopub `error` messages for it (a failed cell makes a figure meaningless). */
  errors: number;
}

export interface KernelClient {
  readonly format: ClientFormat;
  execute(code: string, timeoutMs?: number): Promise<ExecOutcome>;
  /** kernel_info_request until its reply, in milliseconds. */
  kernelInfo(timeoutMs?: number): Promise<number>;
  close(): Promise<void>;
}

interface Pending {
  start: bigint;
  streamChars: number;
  maxStreamChars: number;
  errors: number;
  resolve: (o: ExecOutcome) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

const elapsedMs = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e6;

function executeContent(code: string): Record<string, unknown> {
  // store_history false: every system's kernels do the same work and no history db grows.
  return { code, silent: false, store_history: false, user_expressions: {}, allow_stdin: false, stop_on_error: true };
}

/** Routing shared by both clients: iopub for executes, shell replies for kernel_info. */
abstract class BaseClient implements KernelClient {
  abstract readonly format: ClientFormat;
  protected readonly session = randomUUID();
  private readonly executes = new Map<string, Pending>();
  private readonly replies = new Map<string, { done: () => void; fail: (err: Error) => void }>();
  /** Why the connection is gone (set once it is): later requests fail at once. */
  private gone?: string;

  protected abstract sendShell(msgType: string, content: Record<string, unknown>, msgId: string): void;
  abstract close(): Promise<void>;

  protected newMessage(msgType: string, content: Record<string, unknown>, msgId: string): RawMessage {
    const m = makeMessage(msgType, content, this.session);
    m.header.msg_id = msgId;
    m.header.username = 'bench';
    return RawMessage.fromMessage(m);
  }

  execute(code: string, timeoutMs = 600_000): Promise<ExecOutcome> {
    const msgId = randomUUID();
    return new Promise<ExecOutcome>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.executes.delete(msgId);
        reject(new Error(`${this.format} execute timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      const pending: Pending = { start: process.hrtime.bigint(), streamChars: 0, maxStreamChars: 0, errors: 0, resolve, reject, timer };
      this.executes.set(msgId, pending);
      try {
        this.sendShell('execute_request', executeContent(code), msgId);
      } catch (err) {
        clearTimeout(timer);
        this.executes.delete(msgId);
        reject(err as Error);
      }
    });
  }

  kernelInfo(timeoutMs = 60_000): Promise<number> {
    const msgId = randomUUID();
    const start = process.hrtime.bigint();
    return new Promise<number>((resolve, reject) => {
      if (this.gone) return reject(new Error(`${this.format} client: ${this.gone}`));
      const timer = setTimeout(() => {
        this.replies.delete(msgId);
        reject(new Error(`${this.format} kernel_info_reply did not come within ${timeoutMs} ms`));
      }, timeoutMs);
      const fail = (err: Error): void => {
        clearTimeout(timer);
        reject(err);
      };
      this.replies.set(msgId, {
        done: () => {
          clearTimeout(timer);
          this.replies.delete(msgId);
          resolve(elapsedMs(start));
        },
        fail,
      });
      this.sendShell('kernel_info_request', {}, msgId);
    });
  }

  /** Called per incoming message with just what routing needs; content parsed only on demand. */
  protected route(channel: string, msgType: string, parentId: string | undefined, content: () => Record<string, unknown>): void {
    if (parentId === undefined) return;
    if (channel === 'iopub') {
      const p = this.executes.get(parentId);
      if (!p) return;
      if (msgType === 'stream') {
        const text = content().text;
        if (typeof text === 'string') {
          p.streamChars += text.length;
          p.maxStreamChars = Math.max(p.maxStreamChars, text.length);
        }
      } else if (msgType === 'error') {
        p.errors++;
      } else if (msgType === 'status' && content().execution_state === 'idle') {
        const ms = elapsedMs(p.start);
        clearTimeout(p.timer);
        this.executes.delete(parentId);
        p.resolve({ ms, streamChars: p.streamChars, maxStreamChars: p.maxStreamChars, errors: p.errors });
      }
    } else if (channel === 'shell' && msgType === 'kernel_info_reply') {
      this.replies.get(parentId)?.done();
    }
  }

  /** Fails whatever is in flight (closed, or the connection dropped) instead of waiting for timeouts. */
  protected failAll(why: string): void {
    this.gone = why;
    for (const p of this.executes.values()) {
      clearTimeout(p.timer);
      p.reject(new Error(`${this.format} client: ${why}`));
    }
    this.executes.clear();
    for (const r of this.replies.values()) r.fail(new Error(`${this.format} client: ${why}`));
    this.replies.clear();
  }
}

export interface WsConnectOptions {
  /** ws://host:port (no trailing slash). */
  wsBase: string;
  kernelId: string;
  format: 'json' | 'v1';
  headers?: Record<string, string>;
}

export class WsKernelClient extends BaseClient {
  private constructor(
    private readonly ws: WebSocket,
    readonly format: 'json' | 'v1',
  ) {
    super();
    ws.on('message', (data: Buffer, isBinary: boolean) => this.onFrame(data, isBinary));
    ws.on('error', () => undefined); // 'close' follows and says it
    ws.on('close', (code) => this.failAll(`websocket closed (${code})`));
  }

  /** Opens the channels websocket; `format` is what the server agreed to (v1 only if it chose it). */
  static async connect(opts: WsConnectOptions): Promise<WsKernelClient> {
    const url = `${opts.wsBase}/api/kernels/${encodeURIComponent(opts.kernelId)}/channels?session_id=${randomUUID()}`;
    const ws = new WebSocket(url, opts.format === 'v1' ? [V1_PROTOCOL] : [], {
      headers: opts.headers,
      perMessageDeflate: false,
      maxPayload: 1024 * 1024 * 1024,
    });
    ws.binaryType = 'nodebuffer';
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`websocket refused: HTTP ${res.statusCode}`)));
    });
    return new WsKernelClient(ws, ws.protocol === V1_PROTOCOL ? 'v1' : 'json');
  }

  protected sendShell(msgType: string, content: Record<string, unknown>, msgId: string): void {
    let frame: Buffer | string;
    if (this.format === 'v1') {
      frame = joinFrame(encodeForClient('shell', this.newMessage(msgType, content, msgId), 'v1'));
    } else {
      const m = makeMessage(msgType, content, this.session);
      m.header.msg_id = msgId;
      m.header.username = 'bench';
      frame = JSON.stringify({ ...m, channel: 'shell', buffers: [] });
    }
    wsTraffic.messages++;
    wsTraffic.bytes += typeof frame === 'string' ? Buffer.byteLength(frame) : frame.length;
    this.ws.send(frame, { binary: typeof frame !== 'string' });
  }

  private onFrame(data: Buffer, isBinary: boolean): void {
    wsTraffic.messages++;
    wsTraffic.bytes += data.length;
    if (this.format === 'v1' && isBinary) return this.onV1(data);
    if (isBinary) return; // JSON format with binary buffers: never the case for our cells
    const msg = JSON.parse(data.toString('utf8')) as {
      channel?: string;
      header?: { msg_type?: string };
      parent_header?: { msg_id?: string };
      content?: Record<string, unknown>;
    };
    this.route(String(msg.channel ?? ''), String(msg.header?.msg_type ?? ''), msg.parent_header?.msg_id, () => msg.content ?? {});
  }

  /** v1: u64 LE count, then offsets; parts: channel, header, parent, metadata, content, buffers. */
  private onV1(data: Buffer): void {
    const count = Number(data.readBigUInt64LE(0));
    if (count < 6) return;
    const off = (i: number): number => Number(data.readBigUInt64LE(8 * (i + 1)));
    const part = (i: number): Buffer => data.subarray(off(i), off(i + 1));
    const channel = part(0).toString('utf8');
    const header = JSON.parse(part(1).toString('utf8')) as { msg_type?: string };
    const parent = JSON.parse(part(2).toString('utf8')) as { msg_id?: string };
    this.route(channel, String(header.msg_type ?? ''), parent.msg_id, () => JSON.parse(part(4).toString('utf8')) as Record<string, unknown>);
  }

  async close(): Promise<void> {
    this.failAll('closed');
    if (this.ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.ws.terminate();
        resolve();
      }, 2000);
      this.ws.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.ws.close(1000);
    });
  }
}

export class DirectKernelClient extends BaseClient {
  readonly format = 'zmq' as const;
  private readonly onMessage = (channel: Channel, msg: RawMessage): void => {
    this.route(channel, msg.msgType, msg.parentMsgId, () => msg.contentJson());
  };

  private readonly onDied = (): void => this.failAll('the kernel died');

  constructor(readonly kernel: RunningKernel) {
    super();
    kernel.on('message', this.onMessage);
    kernel.on('died', this.onDied);
  }

  protected sendShell(msgType: string, content: Record<string, unknown>, msgId: string): void {
    void this.kernel.send('shell', this.newMessage(msgType, content, msgId)).catch(() => undefined);
  }

  async close(): Promise<void> {
    this.failAll('closed');
    this.kernel.off('message', this.onMessage);
    this.kernel.off('died', this.onDied);
  }
}
