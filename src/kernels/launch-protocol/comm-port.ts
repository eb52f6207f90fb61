// Requests to a launcher's comm_port, as Enterprise Gateway sends them: one TCP connection per
// request, the JSON written and the connection closed (the launcher reads to EOF, then acts).
// `{"signum": n}` makes the launcher signal its kernel (2 interrupts it, 15 ends it; 0 only
// asks whether the listener is there); `{"shutdown": 1}` ends the listener. Enterprise Gateway
// sends it after the kernel's shutdown_request; a kernel that exits takes its listener with it,
// so a refused or reset connection then means the launcher is gone (listenerGone).
import { connect } from 'node:net';
import { CommPortError } from '../../errors.js';

export type CommPortRequest = { signum: number } | { shutdown: 1 };

export interface CommPortAddress {
  host: string;
  port: number;
}

/** Delivers one request; rejects with CommPortError (its cause the socket error, e.g.
 *  ECONNREFUSED when no listener is left) or on timeout. */
export function sendCommPortRequest(to: CommPortAddress, request: CommPortRequest, timeoutMs = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (err?: Error): void => {
      if (settled) return;
      settled = true;
      socket.destroy();
      if (err) reject(err);
      else resolve();
    };
    const socket = connect({ host: to.host, port: to.port });
    socket.setTimeout(timeoutMs, () => finish(new CommPortError(`${to.host}:${to.port} did not take ${JSON.stringify(request)} within ${timeoutMs / 1000} s`)));
    socket.on('error', (err) => finish(new CommPortError(`Cannot send ${JSON.stringify(request)} to ${to.host}:${to.port}: ${err.message}`, { cause: err })));
    socket.on('connect', () => socket.end(JSON.stringify(request)));
    // The launcher closes its side once it has read the request.
    socket.on('close', () => finish());
    socket.resume();
  });
}

export const signalKernel = (to: CommPortAddress, signum: number, timeoutMs?: number): Promise<void> => sendCommPortRequest(to, { signum }, timeoutMs);

export const shutdownLauncher = (to: CommPortAddress, timeoutMs?: number): Promise<void> => sendCommPortRequest(to, { shutdown: 1 }, timeoutMs);

/** Whether an error from a request means nobody listens there any more. */
export function listenerGone(err: unknown): boolean {
  const code = ((err as { cause?: NodeJS.ErrnoException } | undefined)?.cause)?.code;
  return code === 'ECONNREFUSED' || code === 'ECONNRESET';
}
