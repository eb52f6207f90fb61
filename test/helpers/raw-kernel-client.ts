// A bare websocket client for the kernel channels (JSON text format), for tests that need
// control @jupyterlab/services does not give: several clients, garbage frames, raw replies.
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';

export interface WireMsg {
  channel: string;
  header: { msg_id: string; msg_type: string; [k: string]: unknown };
  parent_header: { msg_id?: string; [k: string]: unknown };
  content: Record<string, unknown>;
  metadata?: Record<string, unknown>;
}

export class RawKernelClient {
  readonly received: WireMsg[] = [];
  readonly session = randomUUID();
  private waiters: (() => void)[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      if (!isBinary) this.received.push(JSON.parse(data.toString()) as WireMsg);
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static async connect(url: string, kernelId: string, query = ''): Promise<RawKernelClient> {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/api/kernels/${kernelId}/channels${query}`);
    // Listen from the start: a replay can arrive in the same packet as the handshake.
    const client = new RawKernelClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
    return client;
  }

  request(msgType: string, content: Record<string, unknown>, channel = 'shell'): string {
    const msgId = randomUUID();
    this.ws.send(JSON.stringify({ channel, header: { msg_id: msgId, msg_type: msgType, session: this.session, username: 'test', version: '5.3', date: new Date().toISOString() }, parent_header: {}, metadata: {}, content, buffers: [] }));
    return msgId;
  }

  /** Waits until a message matching `pred` has arrived. */
  async waitFor(pred: (m: WireMsg) => boolean, timeoutMs = 15_000): Promise<WireMsg> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.find(pred);
      if (found) return found;
      if (Date.now() > end) throw new Error(`timed out; received: ${this.received.map((m) => `${m.channel}:${m.header.msg_type}`).join(', ')}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 100);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Runs code and resolves with the messages for it once the kernel is idle and replied. */
  async execute(code: string): Promise<WireMsg[]> {
    const id = this.request('execute_request', { code, silent: false, store_history: false, user_expressions: {}, allow_stdin: false, stop_on_error: true });
    await this.waitFor((m) => m.parent_header.msg_id === id && m.header.msg_type === 'execute_reply');
    await this.waitFor((m) => m.parent_header.msg_id === id && m.header.msg_type === 'status' && m.content.execution_state === 'idle');
    return this.received.filter((m) => m.parent_header.msg_id === id);
  }

  /** Runs code with history on (execution_count counts); throws unless it ran ok. Resolves with
   *  its execution_count and its result's text/plain. */
  async run(code: string, timeoutMs = 30_000): Promise<{ count: number; result?: string }> {
    const id = this.request('execute_request', { code, silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true });
    const reply = await this.waitFor((m) => m.parent_header.msg_id === id && m.header.msg_type === 'execute_reply', timeoutMs);
    await this.waitFor((m) => m.parent_header.msg_id === id && m.header.msg_type === 'status' && m.content.execution_state === 'idle', timeoutMs);
    if (reply.content.status !== 'ok') throw new Error(`${JSON.stringify(code)} did not run: ${JSON.stringify(reply.content)}`);
    const result = this.received.find((m) => m.parent_header.msg_id === id && m.header.msg_type === 'execute_result');
    return { count: reply.content.execution_count as number, result: (result?.content.data as Record<string, string> | undefined)?.['text/plain'] };
  }

  close(): void {
    this.ws.close();
  }
}
