// The two websocket formats Jupyter clients speak:
// - the default one of Jupyter Server: a JSON text frame per message, or, when the message
//   has binary buffers, a binary frame of big-endian u32 offsets + JSON + buffers;
// - the `v1.kernel.websocket.jupyter.org` subprotocol: a binary frame of a little-endian u64
//   offset table, the channel name, then header, parent_header, metadata, content, buffers.
// Kernel-to-client encoding splices the raw JSON parts in as they are (no parse/stringify).
import { RawMessage, parseJsonObject } from './wire.js';
import { checkJsonObject, topLevelMembers } from './json-spans.js';
import { WireError } from '../errors.js';

export const V1_PROTOCOL = 'v1.kernel.websocket.jupyter.org';

export type WebsocketFormat = 'json' | 'v1';

/** One websocket message as the list of byte runs it is made of, in order: joined for small
 *  messages, or sent as fragments so that a large output is never copied into one buffer. */
export interface EncodedFrame {
  parts: Buffer[];
  byteLength: number;
  binary: boolean;
}

export function joinFrame(frame: EncodedFrame): Buffer {
  return frame.parts.length === 1 ? frame.parts[0]! : Buffer.concat(frame.parts, frame.byteLength);
}

function frameOf(parts: Buffer[], binary: boolean): EncodedFrame {
  let byteLength = 0;
  for (const p of parts) byteLength += p.length;
  return { parts, byteLength, binary };
}

export interface ClientMessage {
  channel: string;
  message: RawMessage;
}

const LEFT = Buffer.from('{"header":');
const PARENT = Buffer.from(',"parent_header":');
const METADATA = Buffer.from(',"metadata":');
const CONTENT = Buffer.from(',"content":');
const EMPTY = Buffer.from('{}');

function orEmpty(b: Buffer): Buffer {
  return b.length ? b : EMPTY;
}

/** Encodes a kernel message for one client's format. */
export function encodeForClient(channel: string, msg: RawMessage, format: WebsocketFormat): EncodedFrame {
  return format === 'v1' ? encodeV1(channel, msg) : encodeJson(channel, msg);
}

function encodeJson(channel: string, msg: RawMessage): EncodedFrame {
  const header = msg.headerJson;
  const tail = Buffer.from(
    `,"msg_id":${JSON.stringify(String(header.msg_id ?? ''))},"msg_type":${JSON.stringify(String(header.msg_type ?? ''))},"channel":${JSON.stringify(channel)},"buffers":[]}`,
  );
  const json = [LEFT, msg.header, PARENT, orEmpty(msg.parentHeader), METADATA, orEmpty(msg.metadata), CONTENT, orEmpty(msg.content), tail];
  if (msg.buffers.length === 0) return frameOf(json, false);
  let jsonLength = 0;
  for (const p of json) jsonLength += p.length;
  const lengths = [jsonLength, ...msg.buffers.map((b) => b.length)];
  const table = Buffer.alloc(4 * (lengths.length + 1));
  table.writeUInt32BE(lengths.length, 0);
  let offset = table.length;
  lengths.forEach((length, i) => {
    table.writeUInt32BE(offset, 4 * (i + 1));
    offset += length;
  });
  return frameOf([table, ...json, ...msg.buffers], true);
}

function encodeV1(channel: string, msg: RawMessage): EncodedFrame {
  const parts = [Buffer.from(channel, 'utf8'), msg.header, orEmpty(msg.parentHeader), orEmpty(msg.metadata), orEmpty(msg.content), ...msg.buffers];
  const count = parts.length + 1; // a start offset for every part, plus the end
  const table = Buffer.alloc(8 * (1 + count));
  table.writeBigUInt64LE(BigInt(count), 0);
  let offset = table.length;
  table.writeBigUInt64LE(BigInt(offset), 8);
  parts.forEach((part, i) => {
    offset += part.length;
    table.writeBigUInt64LE(BigInt(offset), 8 * (i + 2));
  });
  return frameOf([table, ...parts], true);
}

/** Decodes one frame from a client; throws WireError for anything malformed. */
export function decodeFromClient(data: Buffer, isBinary: boolean, format: WebsocketFormat): ClientMessage {
  if (format === 'v1') {
    if (!isBinary) return decodeJsonText(data);
    return decodeV1(data);
  }
  return isBinary ? decodeLegacyBinary(data) : decodeJsonText(data);
}

/** A JSON message, checked in place and split into views of `json` (no parse of its content). */
function decodeJsonText(json: Buffer, buffers: Buffer[] = []): ClientMessage {
  const members = topLevelMembers(json);
  const view = (name: string): Buffer | undefined => {
    const span = members.get(name);
    return span && json.subarray(span.start, span.end);
  };
  const header = view('header');
  if (!header || header[0] !== 0x7b) throw new WireError('message has no header');
  const h = JSON.parse(header.toString('utf8')) as Record<string, unknown>;
  if (typeof h.msg_type !== 'string' || h.msg_type === '') throw new WireError('message header has no msg_type');
  if (typeof h.msg_id !== 'string' || h.msg_id === '') throw new WireError('message header has no msg_id');
  const channelJson = view('channel');
  const channelValue: unknown = channelJson ? JSON.parse(channelJson.toString('utf8')) : undefined;
  const channel = channelValue === undefined || channelValue === null ? 'shell' : String(channelValue);
  const part = (name: string): Buffer => {
    const v = view(name);
    if (!v || (v.length === 4 && v.toString('latin1') === 'null')) return EMPTY;
    if (v[0] !== 0x7b) throw new WireError(`${name} is not a JSON object`);
    return v;
  };
  return { channel, message: new RawMessage(header, part('parent_header'), part('metadata'), part('content'), buffers) };
}

function decodeLegacyBinary(data: Buffer): ClientMessage {
  if (data.length < 4) throw new WireError('binary frame too short');
  const n = data.readUInt32BE(0);
  if (n < 1 || data.length < 4 * (n + 1)) throw new WireError('binary frame has a bad offset table');
  const offsets: number[] = [];
  for (let i = 1; i <= n; i++) offsets.push(data.readUInt32BE(4 * i));
  offsets.push(data.length);
  for (let i = 0; i < n; i++) {
    if (offsets[i]! > offsets[i + 1]! || offsets[i]! < 4 * (n + 1)) throw new WireError('binary frame has a bad offset table');
  }
  const buffers: Buffer[] = [];
  for (let i = 1; i < n; i++) buffers.push(data.subarray(offsets[i], offsets[i + 1]));
  return decodeJsonText(data.subarray(offsets[0], offsets[1]), buffers);
}

function decodeV1(data: Buffer): ClientMessage {
  if (data.length < 8) throw new WireError('v1 frame too short');
  const count = Number(data.readBigUInt64LE(0));
  if (count < 6 || count > 1_000_000 || data.length < 8 * (1 + count)) throw new WireError('v1 frame has a bad offset table');
  const offsets: number[] = [];
  for (let i = 0; i < count; i++) offsets.push(Number(data.readBigUInt64LE(8 * (i + 1))));
  for (let i = 0; i < count - 1; i++) {
    if (offsets[i]! > offsets[i + 1]! || offsets[i + 1]! > data.length || offsets[0]! < 8 * (1 + count)) throw new WireError('v1 frame has a bad offset table');
  }
  const part = (i: number): Buffer => data.subarray(offsets[i], offsets[i + 1]);
  const channel = part(0).toString('utf8');
  const header = parseJsonObject(part(1), 'header');
  if (typeof header.msg_type !== 'string' || header.msg_type === '') throw new WireError('message header has no msg_type');
  if (typeof header.msg_id !== 'string' || header.msg_id === '') throw new WireError('message header has no msg_id');
  // Check the other JSON parts in place so that a kernel never receives garbage.
  const check = (i: number, what: string): void => {
    const b = part(i);
    if (b.length > 0 && !(b.length === 4 && b.toString('latin1') === 'null')) checkJsonObject(b, what);
  };
  check(2, 'parent_header');
  check(3, 'metadata');
  check(4, 'content');
  const buffers: Buffer[] = [];
  // Views into the frame, not copies: the frame lives as long as the message anyway.
  for (let i = 5; i < count - 1; i++) buffers.push(part(i));
  return { channel, message: new RawMessage(part(1), part(2), part(3), part(4), buffers) };
}
