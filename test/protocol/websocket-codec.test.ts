import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { makeMessage } from '../../src/protocol/message.js';
import { RawMessage } from '../../src/protocol/wire.js';
import { decodeFromClient, encodeForClient, joinFrame } from '../../src/protocol/websocket-codec.js';
import { WireError } from '../../src/errors.js';

// The codec must agree with the client JupyterLab uses.
const require = createRequire(import.meta.url);
const { serialize, deserialize } = require('@jupyterlab/services/lib/kernel/serialize.js') as {
  serialize: (msg: unknown, protocol?: string) => string | ArrayBuffer;
  deserialize: (data: string | ArrayBuffer, protocol?: string) => Record<string, unknown>;
};
const V1 = 'v1.kernel.websocket.jupyter.org';

function kernelMessage(buffers: Buffer[] = []): RawMessage {
  const parent = makeMessage('execute_request', { code: 'x' }, 's');
  const msg = makeMessage('stream', { name: 'stdout', text: 'héllo\n' }, 's', parent.header);
  msg.buffers = buffers;
  return RawMessage.fromMessage(msg);
}

function toArrayBuffer(b: Buffer): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

test('JSON format: JupyterLab decodes what we encode (text frame)', () => {
  const raw = kernelMessage();
  const frame = encodeForClient('iopub', raw, 'json');
  assert.equal(frame.binary, false);
  const msg = deserialize(joinFrame(frame).toString('utf8')) as { channel: string; content: { text: string }; header: { msg_id: string }; parent_header: { msg_id: string } };
  assert.equal(msg.channel, 'iopub');
  assert.equal(msg.content.text, 'héllo\n');
  assert.equal(msg.header.msg_id, raw.msgId);
  assert.equal(msg.parent_header.msg_id, raw.parentMsgId);
});

test('JSON format with buffers: JupyterLab decodes the legacy binary frame', () => {
  const frame = encodeForClient('iopub', kernelMessage([Buffer.from([9, 8, 7]), Buffer.from('ab')]), 'json');
  assert.equal(frame.binary, true);
  const msg = deserialize(toArrayBuffer(joinFrame(frame))) as { buffers: DataView[]; content: { text: string } };
  assert.equal(msg.content.text, 'héllo\n');
  assert.deepEqual(msg.buffers.map((b) => [...new Uint8Array(b.buffer, b.byteOffset, b.byteLength)]), [[9, 8, 7], [97, 98]]);
});

test('v1 format: JupyterLab decodes what we encode, buffers included', () => {
  const frame = encodeForClient('shell', kernelMessage([Buffer.from([1, 2])]), 'v1');
  assert.equal(frame.binary, true);
  const msg = deserialize(toArrayBuffer(joinFrame(frame)), V1) as { channel: string; buffers: DataView[]; content: { name: string } };
  assert.equal(msg.channel, 'shell');
  assert.equal(msg.content.name, 'stdout');
  assert.equal(msg.buffers.length, 1);
});

test('we decode what JupyterLab encodes, in both formats', () => {
  const msg = { ...makeMessage('execute_request', { code: 'print("ü")' }, 'sess'), channel: 'shell', buffers: [] as unknown[] };
  const text = serialize(msg) as string;
  const a = decodeFromClient(Buffer.from(text), false, 'json');
  assert.equal(a.channel, 'shell');
  assert.deepEqual(a.message.contentJson(), { code: 'print("ü")' });
  const bin = serialize({ ...msg, buffers: [new Uint8Array([5, 6]).buffer] }, V1) as ArrayBuffer;
  const b = decodeFromClient(Buffer.from(bin), true, 'v1');
  assert.equal(b.channel, 'shell');
  assert.equal(b.message.msgType, 'execute_request');
  assert.deepEqual([...b.message.buffers[0]!], [5, 6]);
  const legacy = serialize({ ...msg, buffers: [new Uint8Array([7]).buffer] }) as ArrayBuffer;
  const c = decodeFromClient(Buffer.from(legacy), true, 'json');
  assert.deepEqual([...c.message.buffers[0]!], [7]);
});

test('clients that send buffers as {} and no date or session are accepted', () => {
  const m = decodeFromClient(Buffer.from(JSON.stringify({ header: { msg_id: 'a', msg_type: 'kernel_info_request', session: '' }, parent_header: {}, metadata: {}, content: {}, buffers: {}, channel: 'shell' })), false, 'json');
  assert.equal(m.message.msgType, 'kernel_info_request');
});

test('a message without a channel goes to shell, as Jupyter Server assumes', () => {
  const m = decodeFromClient(Buffer.from(JSON.stringify({ header: { msg_id: 'a', msg_type: 'kernel_info_request' }, content: {} })), false, 'json');
  assert.equal(m.channel, 'shell');
});

test('garbage frames are WireErrors, never crashes', () => {
  const garbage: [Buffer, boolean, 'json' | 'v1'][] = [
    [Buffer.from('not json'), false, 'json'],
    [Buffer.from('[1,2]'), false, 'json'],
    [Buffer.from('{"content":{}}'), false, 'json'],
    [Buffer.from('{"header":{"msg_type":"x"}}'), false, 'json'],
    [Buffer.from([0, 0]), true, 'json'],
    [Buffer.from([0, 0, 0, 9, 0, 0, 0, 1]), true, 'json'],
    [Buffer.alloc(3), true, 'v1'],
    [Buffer.alloc(64, 0xff), true, 'v1'],
    [Buffer.alloc(8 * 8), true, 'v1'],
  ];
  for (const [data, binary, format] of garbage) assert.throws(() => decodeFromClient(data, binary, format), WireError);
});
