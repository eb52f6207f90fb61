// The gateway's response address: one TCP server where remote kernel launchers send their
// encrypted connection info (Enterprise Gateway's ResponseManager). A launch registers first
// (expect: a fresh key pair and a timeout); only a payload that one of the registered keys
// opens, naming that registration's kernel id, within its timeout, is accepted, once. Anything
// else (garbage, too big, too slow, an unknown or expired kernel) is dropped with a warning;
// no sender can crash the listener or hold a socket open.
import { createServer, type Server, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import { LaunchCancelledError, LaunchPayloadError, LaunchResponseTimeoutError, ResponseListenerError } from '../../errors.js';
import type { Logger } from '../logger.js';
import { LaunchKey, openEnvelope, parseEnvelope, type LaunchedKernelInfo } from './payload.js';

export interface ResponseListenerOptions {
  /** Address to listen on and to hand to launchers; '' picks this machine's first external IPv4
   *  address (as Enterprise Gateway does), 127.0.0.1 when it has none. */
  ip: string;
  /** 0: a free port. Taken ports are skipped, up to `portRetries` more (the next ones up). */
  port: number;
  portRetries?: number;
  log: Logger;
  /** Largest payload accepted (a real one is about 1 KiB). */
  maxPayloadBytes?: number;
  /** A sender has this long to send its payload and close. */
  readTimeoutMs?: number;
  /** Connections open at once past which new ones are refused. */
  maxConnections?: number;
}

/** What a launch waits for: the launcher's connection info, with the host to connect to. */
export interface LaunchResponse extends LaunchedKernelInfo {
  /** Where the payload came from (IPv4-mapped addresses unwrapped). */
  peerAddress: string;
  /** The address to reach the kernel at: the launcher's ip, or the sender's address when the
   *  launcher reported a wildcard (launch_ipykernel.py binds 0.0.0.0 and says so). */
  host: string;
}

export interface ExpectedLaunch {
  /** `{public_key}` / PUBLIC_KEY for this launch's launcher. */
  publicKey: string;
  /** `{response_address}` / RESPONSE_ADDRESS. */
  responseAddress: string;
  /** Resolves with the launcher's connection info; rejects on timeout or cancel. */
  response: Promise<LaunchResponse>;
}

interface Registration {
  key: LaunchKey;
  resolve: (r: LaunchResponse) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

const WILDCARDS = new Set(['', '0.0.0.0', '::', '*']);
/** Warnings about dropped payloads per minute; past it they are counted, not written. */
const WARNINGS_PER_MINUTE = 20;

/** This machine's first non-internal IPv4 address (Enterprise Gateway's local_ip), or 127.0.0.1. */
export function defaultResponseIp(): string {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const a of addresses ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

export class ResponseListener {
  private readonly registrations = new Map<string, Registration>();
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;
  private starting: Promise<void> | undefined;
  private advertisedIp = '';
  private boundPort = 0;
  private warnings = { windowStart: 0, written: 0, suppressed: 0 };
  private readonly maxPayloadBytes: number;
  private readonly readTimeoutMs: number;

  constructor(private readonly opts: ResponseListenerOptions) {
    this.maxPayloadBytes = opts.maxPayloadBytes ?? 64 * 1024;
    this.readTimeoutMs = opts.readTimeoutMs ?? 10_000;
  }

  /** Starts listening (once; later calls wait for the first). */
  start(): Promise<void> {
    this.starting ??= this.listen().catch((err: unknown) => {
      this.starting = undefined;
      throw err;
    });
    return this.starting;
  }

  /** `ip:port` as launchers are told it. */
  get address(): string {
    if (!this.server) throw new ResponseListenerError('the response listener is not listening');
    return `${this.advertisedIp}:${this.boundPort}`;
  }

  get port(): number {
    return this.boundPort;
  }

  /** Kernel ids waiting for their connection info. */
  get pending(): string[] {
    return [...this.registrations.keys()];
  }

  /** Registers a launch: a fresh key pair, accepted for `timeoutMs`. A kernel id registered
   *  again (a restart) replaces its earlier registration, which is cancelled. */
  async expect(kernelId: string, timeoutMs: number): Promise<ExpectedLaunch> {
    await this.start();
    const key = await LaunchKey.generate();
    this.cancel(kernelId);
    const responseAddress = this.address;
    let registration!: Registration;
    const response = new Promise<LaunchResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.registrations.get(kernelId) !== registration) return;
        this.registrations.delete(kernelId);
        reject(new LaunchResponseTimeoutError(`Kernel ${kernelId} sent no connection info to ${responseAddress} within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      timer.unref();
      registration = { key, resolve, reject, timer };
    });
    // A launch given up before anyone awaits its response must not be an unhandled rejection.
    response.catch(() => undefined);
    this.registrations.set(kernelId, registration);
    return { publicKey: key.publicKey, responseAddress, response };
  }

  /** Gives up waiting for a kernel's connection info (its launch failed or it was ended). */
  cancel(kernelId: string, reason = `the launch of kernel ${kernelId} was cancelled`): void {
    const registration = this.registrations.get(kernelId);
    if (!registration) return;
    this.registrations.delete(kernelId);
    clearTimeout(registration.timer);
    registration.reject(new LaunchCancelledError(reason));
  }

  /** Stops listening; pending launches are cancelled. */
  async close(): Promise<void> {
    for (const id of [...this.registrations.keys()]) this.cancel(id, 'the gateway is shutting down');
    const server = this.server;
    this.server = undefined;
    this.starting = undefined;
    for (const socket of this.sockets) socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async listen(): Promise<void> {
    const bindIp = this.opts.ip === '' ? defaultResponseIp() : this.opts.ip;
    const retries = this.opts.port === 0 ? 0 : (this.opts.portRetries ?? 10);
    let lastError: unknown;
    for (let attempt = 0; attempt <= retries; attempt++) {
      const port = this.opts.port === 0 ? 0 : this.opts.port + attempt;
      if (port > 65535) break;
      const server = createServer({ allowHalfOpen: false }, (socket) => this.accept(socket));
      server.maxConnections = this.opts.maxConnections ?? 64;
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(port, bindIp, () => {
            server.off('error', reject);
            resolve();
          });
        });
      } catch (err) {
        lastError = err;
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE' || code === 'EACCES') {
          this.opts.log.info(`Response port ${port} is not available (${code}), trying the next one`);
          continue;
        }
        break;
      }
      // Errors after listening (none expected) are logged; the server keeps running.
      server.on('error', (err) => this.opts.log.error(`Response listener: ${err.message}`));
      const address = server.address();
      this.boundPort = typeof address === 'object' && address ? address.port : port;
      this.advertisedIp = WILDCARDS.has(bindIp) ? defaultResponseIp() : bindIp;
      this.server = server;
      this.opts.log.info(`Listening for remote kernels' connection info on ${bindIp}:${this.boundPort}`);
      return;
    }
    throw new ResponseListenerError(`Cannot listen for kernels' connection info on ${bindIp}:${this.opts.port}: ${(lastError as Error)?.message ?? 'no port left'}`, { cause: lastError });
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    const peer = unmapped(socket.remoteAddress ?? '');
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    socket.on('error', (err) => this.opts.log.debug(`Response connection from ${peer}: ${err.message}`));
    socket.on('close', () => this.sockets.delete(socket));
    socket.setTimeout(this.readTimeoutMs, () => {
      done = true;
      this.warn(`Dropped a response connection from ${peer}: nothing complete within ${this.readTimeoutMs / 1000} s`);
      socket.destroy();
    });
    socket.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > this.maxPayloadBytes) {
        done = true;
        this.warn(`Dropped a response payload from ${peer}: more than ${this.maxPayloadBytes} bytes`);
        socket.destroy();
        return;
      }
      chunks.push(chunk);
    });
    // The launcher closes its side once the payload is sent.
    socket.on('end', () => {
      if (done) return;
      done = true;
      socket.end();
      this.receive(Buffer.concat(chunks).toString('latin1'), peer);
    });
  }

  private receive(data: string, peer: string): void {
    try {
      const envelope = parseEnvelope(data);
      for (const [kernelId, registration] of this.registrations) {
        const info = openEnvelope(envelope, registration.key);
        if (!info) continue;
        if (info.kernelId !== kernelId) throw new LaunchPayloadError(`it names kernel ${info.kernelId} but was encrypted for kernel ${kernelId}`);
        this.registrations.delete(kernelId);
        clearTimeout(registration.timer);
        const host = WILDCARDS.has(info.connection.ip) ? peer : info.connection.ip;
        this.opts.log.debug(`Connection info of kernel ${kernelId} received from ${peer}`);
        registration.resolve({ ...info, connection: { ...info.connection, ip: host }, peerAddress: peer, host });
        return;
      }
      throw new LaunchPayloadError('no kernel being launched has the key it was encrypted with (an unknown kernel, or its launch timed out)');
    } catch (err) {
      this.warn(`Dropped a response payload from ${peer}: ${err instanceof LaunchPayloadError ? err.message : String(err)}`);
    }
  }

  /** A warning, at most WARNINGS_PER_MINUTE of them: a flood of garbage cannot flood the log. */
  private warn(message: string): void {
    const now = Date.now();
    const w = this.warnings;
    if (now - w.windowStart > 60_000) {
      if (w.suppressed > 0) this.opts.log.warn(`Response listener: ${w.suppressed} more dropped connections in the last minute were not logged`);
      this.warnings = { windowStart: now, written: 0, suppressed: 0 };
    }
    if (this.warnings.written < WARNINGS_PER_MINUTE) {
      this.warnings.written++;
      this.opts.log.warn(message);
    } else {
      this.warnings.suppressed++;
    }
  }
}

function unmapped(address: string): string {
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
