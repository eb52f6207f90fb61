// Raw TCP clients for hostile-network tests: they send exactly the bytes a test chooses (HTTP,
// websocket frames or garbage), reset connections, stop reading, and report what came back.
import { connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';

export interface RawClient {
  socket: Socket;
  /** Everything received so far. */
  received(): Buffer;
  text(): string;
  /** Resolves once the peer closed (or the socket errored). */
  closed: Promise<void>;
  isClosed(): boolean;
  write(data: string | Buffer): void;
  /** Resolves when `pred` holds for what was received, or rejects after `timeoutMs`. */
  until(pred: (text: string) => boolean, timeoutMs?: number): Promise<string>;
  /** Resets the connection (RST, no FIN). */
  reset(): void;
}

export function rawConnect(port: number, host = '127.0.0.1'): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host });
    const chunks: Buffer[] = [];
    let isClosed = false;
    const wake: (() => void)[] = [];
    socket.on('error', () => undefined);
    socket.on('data', (d) => {
      chunks.push(d);
      for (const w of wake.splice(0)) w();
    });
    const closed = new Promise<void>((done) =>
      socket.once('close', () => {
        isClosed = true;
        for (const w of wake.splice(0)) w();
        done();
      }),
    );
    const client: RawClient = {
      socket,
      received: () => Buffer.concat(chunks),
      text: () => Buffer.concat(chunks).toString('latin1'),
      closed,
      isClosed: () => isClosed,
      write: (data) => {
        if (!socket.destroyed) socket.write(data);
      },
      until: async (pred, timeoutMs = 15_000) => {
        const end = Date.now() + timeoutMs;
        for (;;) {
          const text = client.text();
          if (pred(text)) return text;
          if (Date.now() > end) throw new Error(`timed out waiting; received ${JSON.stringify(text.slice(0, 300))}${isClosed ? ' (closed)' : ''}`);
          if (isClosed) throw new Error(`closed before the expected answer; received ${JSON.stringify(text.slice(0, 300))}`);
          await new Promise<void>((r) => {
            const t = setTimeout(r, 50);
            wake.push(() => {
              clearTimeout(t);
              r();
            });
          });
        }
      },
      reset: () => {
        if (!socket.destroyed) socket.resetAndDestroy();
      },
    };
    socket.once('connect', () => resolve(client));
    socket.once('error', (err) => {
      if (socket.connecting) reject(err);
    });
  });
}

/** An HTTP/1.1 websocket upgrade request. */
export function upgradeRequest(path: string, headers: Record<string, string> = {}): string {
  const all: Record<string, string> = {
    Host: 'localhost',
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
    'Sec-WebSocket-Version': '13',
    ...headers,
  };
  return `GET ${path} HTTP/1.1\r\n${Object.entries(all)
    .filter(([, v]) => v !== '')
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n`;
}

export interface FrameOptions {
  fin?: boolean;
  rsv?: number;
  opcode: number;
  payload?: Buffer | string;
  mask?: boolean;
  /** A length to declare instead of the payload's own. */
  declaredLength?: bigint | number;
}

/** One websocket frame as a client sends it (masked unless told otherwise). */
export function frame(opts: FrameOptions): Buffer {
  const payload = typeof opts.payload === 'string' ? Buffer.from(opts.payload) : (opts.payload ?? Buffer.alloc(0));
  const mask = opts.mask ?? true;
  const length = BigInt(opts.declaredLength ?? payload.length);
  const first = ((opts.fin ?? true) ? 0x80 : 0) | ((opts.rsv ?? 0) << 4) | (opts.opcode & 0x0f);
  let header: Buffer;
  if (length < 126n) header = Buffer.from([first, (mask ? 0x80 : 0) | Number(length)]);
  else if (length < 65536n) {
    header = Buffer.alloc(4);
    header[0] = first;
    header[1] = (mask ? 0x80 : 0) | 126;
    header.writeUInt16BE(Number(length), 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = first;
    header[1] = (mask ? 0x80 : 0) | 127;
    header.writeBigUInt64BE(length, 2);
  }
  if (!mask) return Buffer.concat([header, payload]);
  const key = randomBytes(4);
  const masked = Buffer.from(payload);
  for (let i = 0; i < masked.length; i++) masked[i]! ^= key[i % 4]!;
  return Buffer.concat([header, key, masked]);
}

/** The close code of the first close frame the server sent after the 101 (undefined if none). */
export function serverCloseCode(received: Buffer): number | undefined {
  const start = received.indexOf('\r\n\r\n');
  if (start < 0) return undefined;
  let i = start + 4;
  while (i + 2 <= received.length) {
    const opcode = received[i]! & 0x0f;
    let len = received[i + 1]! & 0x7f;
    let off = i + 2;
    if (len === 126) {
      len = received.readUInt16BE(off);
      off += 2;
    } else if (len === 127) {
      len = Number(received.readBigUInt64BE(off));
      off += 8;
    }
    if (opcode === 0x8) return len >= 2 ? received.readUInt16BE(off) : 1005;
    i = off + len;
  }
  return undefined;
}
