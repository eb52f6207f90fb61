// Talks to a kernel over ZeroMQ with the gateway's own KernelChannels, given its connection
// info (from a connection file or a launcher's payload): for tests of kernels the gateway did
// not start as a RunningKernel.
import { randomUUID } from 'node:crypto';
import type { ConnectionInfo } from '../../src/kernels/connection-file.js';
import { KernelChannels, type RequestChannel } from '../../src/kernels/kernel-channels.js';
import type { Logger } from '../../src/kernels/logger.js';
import { makeMessage, type Channel } from '../../src/protocol/message.js';
import { RawMessage } from '../../src/protocol/wire.js';

const quiet: Logger = { debug: () => undefined, info: () => undefined, warn: (m) => console.warn(m), error: (m) => console.error(m) };

export interface Received {
  channel: Channel;
  msg: RawMessage;
}

export class DirectKernelClient {
  readonly channels: KernelChannels;
  readonly session = randomUUID();
  private readonly received: Received[] = [];
  private waiters: (() => void)[] = [];

  constructor(info: ConnectionInfo, log: Logger = quiet) {
    this.channels = new KernelChannels(info, log);
    this.channels.on('message', (channel, msg) => {
      this.received.push({ channel, msg });
      for (const w of this.waiters.splice(0)) w();
    });
  }

  async connected(timeoutMs = 30_000): Promise<void> {
    if (!(await this.channels.whenConnected(timeoutMs))) throw new Error('the kernel did not accept the stdin connection in time');
  }

  /** Sends a request; returns its msg_id. */
  async request(channel: RequestChannel, msgType: string, content: Record<string, unknown>): Promise<string> {
    const msg = makeMessage(msgType, content, this.session);
    await this.channels.send(channel, RawMessage.fromMessage(msg));
    return msg.header.msg_id;
  }

  async waitFor(pred: (r: Received) => boolean, timeoutMs = 30_000, what = 'a message'): Promise<Received> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.find(pred);
      if (found) return found;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; received ${this.received.map((r) => `${r.channel}:${r.msg.msgType}`).join(', ')}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 200);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** The kernel answers kernel_info_request and its iopub reaches us (a SUB socket joins
   *  late: until the kernel's status for one of our requests arrives, output can be missed). */
  async ready(timeoutMs = 30_000): Promise<void> {
    await this.connected(timeoutMs);
    const end = Date.now() + timeoutMs;
    for (;;) {
      const id = await this.request('shell', 'kernel_info_request', {});
      try {
        await this.waitFor((r) => r.channel === 'shell' && r.msg.parentMsgId === id, Math.min(2000, end - Date.now()), 'kernel_info_reply');
        await this.waitFor((r) => r.channel === 'iopub' && r.msg.msgType === 'status' && r.msg.parentMsgId === id, Math.min(1000, end - Date.now()), 'iopub status');
        return;
      } catch (err) {
        if (Date.now() > end) throw err;
      }
    }
  }

  /** Runs code; resolves with the reply's content and the text/plain of its execute_result. */
  async execute(code: string, timeoutMs = 30_000): Promise<{ reply: Record<string, unknown>; result: string | undefined }> {
    const id = await this.request('shell', 'execute_request', { code, silent: false, store_history: false, user_expressions: {}, allow_stdin: false, stop_on_error: false });
    const reply = await this.waitFor((r) => r.channel === 'shell' && r.msg.msgType === 'execute_reply' && r.msg.parentMsgId === id, timeoutMs, 'execute_reply');
    // Outputs come on iopub, in no order with the shell reply: the request's idle status ends them.
    await this.waitFor((r) => r.channel === 'iopub' && r.msg.msgType === 'status' && r.msg.parentMsgId === id && r.msg.contentJson().execution_state === 'idle', timeoutMs, 'idle');
    const result = this.received.find((r) => r.channel === 'iopub' && r.msg.msgType === 'execute_result' && r.msg.parentMsgId === id);
    const data = result?.msg.contentJson().data as Record<string, unknown> | undefined;
    return { reply: reply.msg.contentJson(), result: data?.['text/plain'] as string | undefined };
  }

  /** Starts an execution without waiting; returns its msg_id. */
  startExecute(code: string): Promise<string> {
    return this.request('shell', 'execute_request', { code, silent: false, store_history: false, user_expressions: {}, allow_stdin: false, stop_on_error: false });
  }

  async shutdownRequest(timeoutMs = 30_000): Promise<void> {
    const id = await this.request('control', 'shutdown_request', { restart: false });
    await this.waitFor((r) => r.channel === 'control' && r.msg.msgType === 'shutdown_reply' && r.msg.parentMsgId === id, timeoutMs, 'shutdown_reply');
  }

  close(): void {
    this.channels.close();
  }
}
