// ZeroMQ wire frames of the Jupyter protocol:
//   [identities..., "<IDS|MSG>", signature, header, parent_header, metadata, content, buffers...]
// The four JSON parts stay raw Buffers so that the hot path can forward them without
// re-serialising; only the header (and parent header) are parsed, lazily, for routing.
import type { MessageSigner } from './signing.js';
import type { JupyterMessage, MessageHeader } from './message.js';
import { WireError } from '../errors.js';

export const DELIMITER = Buffer.from('<IDS|MSG>', 'utf8');
const EMPTY_OBJECT = Buffer.from('{}', 'utf8');

/** A message whose JSON parts are kept as the bytes they arrived as. */
export class RawMessage {
  private parsedHeader?: MessageHeader;
  private parsedParent?: Partial<MessageHeader>;

  constructor(
    readonly header: Buffer,
    readonly parentHeader: Buffer,
    readonly metadata: Buffer,
    readonly content: Buffer,
    readonly buffers: Buffer[] = [],
  ) {}

  static fromMessage(msg: JupyterMessage): RawMessage {
    return new RawMessage(
      jsonBuffer(msg.header),
      jsonBuffer(msg.parent_header ?? {}),
      jsonBuffer(msg.metadata ?? {}),
      jsonBuffer(msg.content ?? {}),
      msg.buffers ?? [],
    );
  }

  get headerJson(): MessageHeader {
    this.parsedHeader ??= parseJsonObject(this.header, 'header') as MessageHeader;
    return this.parsedHeader;
  }

  get parentJson(): Partial<MessageHeader> {
    this.parsedParent ??= parseJsonObject(this.parentHeader, 'parent_header') as Partial<MessageHeader>;
    return this.parsedParent;
  }

  get msgType(): string {
    return String(this.headerJson.msg_type ?? '');
  }

  get msgId(): string {
    return String(this.headerJson.msg_id ?? '');
  }

  get parentMsgId(): string | undefined {
    const id = this.parentJson.msg_id;
    return typeof id === 'string' && id !== '' ? id : undefined;
  }

  /** Parses the content; for the gateway's own bookkeeping (status, replies), never the hot path. */
  contentJson(): Record<string, unknown> {
    return parseJsonObject(this.content, 'content');
  }

  byteLength(): number {
    let n = this.header.length + this.parentHeader.length + this.metadata.length + this.content.length;
    for (const b of this.buffers) n += b.length;
    return n;
  }
}

function jsonBuffer(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value ?? {}), 'utf8');
}

export function parseJsonObject(buf: Buffer, what: string): Record<string, unknown> {
  if (buf.length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(buf.toString('utf8'));
  } catch {
    throw new WireError(`${what} is not valid JSON`);
  }
  if (value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new WireError(`${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

/** Frames to send to a kernel, signed. */
export function encodeWire(msg: RawMessage, signer: MessageSigner, identities: Buffer[] = []): Buffer[] {
  const parts = [msg.header, msg.parentHeader.length ? msg.parentHeader : EMPTY_OBJECT, msg.metadata.length ? msg.metadata : EMPTY_OBJECT, msg.content.length ? msg.content : EMPTY_OBJECT];
  const signature = Buffer.from(signer.sign(parts), 'utf8');
  return [...identities, DELIMITER, signature, ...parts, ...msg.buffers];
}

/** Frames received from a kernel; throws WireError on a malformed message or a bad signature. */
export function decodeWire(frames: Buffer[], signer: MessageSigner): { identities: Buffer[]; message: RawMessage } {
  const at = frames.findIndex((f) => f.equals(DELIMITER));
  if (at < 0) throw new WireError('no <IDS|MSG> delimiter');
  if (frames.length < at + 6) throw new WireError(`too few frames (${frames.length - at - 2} parts after the delimiter, need 4)`);
  const signature = frames[at + 1]!;
  const parts = frames.slice(at + 2, at + 6);
  if (!signer.verify(signature, parts)) throw new WireError('bad signature');
  const [header, parent, metadata, content] = parts as [Buffer, Buffer, Buffer, Buffer];
  return {
    identities: frames.slice(0, at),
    message: new RawMessage(header, parent, metadata, content, frames.slice(at + 6)),
  };
}
