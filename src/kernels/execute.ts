// Runs code on a kernel for the gateway itself (seeding, notebook-http) and collects what the
// kernel published for it: stdout, stderr, rich results, and the reply's status.
import { makeMessage, type Channel } from '../protocol/message.js';
import { RawMessage } from '../protocol/wire.js';
import type { RunningKernel } from './running-kernel.js';
import { KernelDiedError } from '../errors.js';

export interface ExecutionError {
  ename: string;
  evalue: string;
  traceback: string[];
}

export interface ExecutionOutcome {
  status: 'ok' | 'error' | 'aborted' | 'died';
  stdout: string;
  stderr: string;
  /** `data` of each execute_result and display_data, in order. */
  results: { type: 'execute_result' | 'display_data'; data: Record<string, unknown> }[];
  error?: ExecutionError;
}

/** Executes `code` silently-ish (store_history false) and resolves when the kernel is idle again. */
export function executeCode(kernel: RunningKernel, code: string, opts: { timeoutMs?: number } = {}): Promise<ExecutionOutcome> {
  // stop_on_error off: every execution here stands alone, and with it on ipykernel aborts the
  // requests that arrive just after a failing one (the next HTTP request would get "aborted").
  const msg = makeMessage('execute_request', { code, silent: false, store_history: false, user_expressions: {}, allow_stdin: false, stop_on_error: false }, kernel.session);
  const id = msg.header.msg_id;
  const outcome: ExecutionOutcome = { status: 'ok', stdout: '', stderr: '', results: [] };
  let replied = false;
  let idle = false;
  return new Promise<ExecutionOutcome>((resolve, reject) => {
    const finish = (err?: Error): void => {
      kernel.off('message', onMessage);
      kernel.off('died', onDied);
      kernel.off('restarting', onDied);
      kernel.off('ending', onEnding);
      if (timer) clearTimeout(timer);
      if (err) reject(err);
      else resolve(outcome);
    };
    const onMessage = (channel: Channel, m: RawMessage): void => {
      if (m.parentMsgId !== id) return;
      if (channel === 'shell' && m.msgType === 'execute_reply') {
        const content = m.contentJson();
        replied = true;
        if (content.status === 'error' || content.status === 'aborted') outcome.status = content.status;
        if (content.status === 'error' && !outcome.error) outcome.error = errorOf(content);
      } else if (channel === 'iopub') {
        const type = m.msgType;
        if (type === 'status') {
          if (m.contentJson().execution_state === 'idle') idle = true;
        } else if (type === 'stream') {
          const c = m.contentJson();
          if (c.name === 'stdout') outcome.stdout += String(c.text ?? '');
          else outcome.stderr += String(c.text ?? '');
        } else if (type === 'execute_result' || type === 'display_data') {
          outcome.results.push({ type, data: (m.contentJson().data as Record<string, unknown>) ?? {} });
        } else if (type === 'error') {
          outcome.error = errorOf(m.contentJson());
          outcome.status = 'error';
        }
      }
      if (replied && idle) finish();
    };
    const onDied = (): void => {
      outcome.status = 'died';
      finish(new KernelDiedError(`Kernel ${kernel.id} died while executing code`));
    };
    const onEnding = (): void => {
      outcome.status = 'died';
      finish(new KernelDiedError(`Kernel ${kernel.id} was shut down while executing code`));
    };
    kernel.on('message', onMessage);
    kernel.once('died', onDied);
    kernel.once('ending', onEnding);
    kernel.once('restarting', onDied);
    const timer = opts.timeoutMs ? setTimeout(() => finish(new Error(`Execution timed out after ${opts.timeoutMs} ms`)), opts.timeoutMs) : undefined;
    kernel.send('shell', RawMessage.fromMessage(msg)).catch((err: Error) => finish(err));
  });
}

function errorOf(content: Record<string, unknown>): ExecutionError {
  return {
    ename: String(content.ename ?? 'Error'),
    evalue: String(content.evalue ?? ''),
    traceback: Array.isArray(content.traceback) ? content.traceback.map(String) : [],
  };
}
