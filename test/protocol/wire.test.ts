import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageSigner } from '../../src/protocol/signing.js';
import { DELIMITER, RawMessage, decodeWire, encodeWire } from '../../src/protocol/wire.js';
import { makeMessage } from '../../src/protocol/message.js';
import { WireError } from '../../src/errors.js';

const signer = new MessageSigner('key');

test('encode then decode round-trips header, parts and buffers', () => {
  const msg = makeMessage('execute_request', { code: 'print(1)' }, 'sess');
  msg.buffers = [Buffer.from([1, 2, 3])];
  const frames = encodeWire(RawMessage.fromMessage(msg), signer, [Buffer.from('ident')]);
  assert.deepEqual(frames[0], Buffer.from('ident'));
  assert.deepEqual(frames[1], DELIMITER);
  const { identities, message } = decodeWire(frames, signer);
  assert.deepEqual(identities, [Buffer.from('ident')]);
  assert.equal(message.msgType, 'execute_request');
  assert.equal(message.msgId, msg.header.msg_id);
  assert.deepEqual(message.contentJson(), { code: 'print(1)' });
  assert.deepEqual(message.buffers, [Buffer.from([1, 2, 3])]);
});

test('a bad signature, a missing delimiter and too few frames are WireErrors', () => {
  const frames = encodeWire(RawMessage.fromMessage(makeMessage('status', {}, 's')), signer);
  const tampered = [...frames];
  tampered[5] = Buffer.from('{"execution_state":"idle"}');
  assert.throws(() => decodeWire(tampered, signer), (e: unknown) => e instanceof WireError && /bad signature/.test((e as Error).message));
  assert.throws(() => decodeWire(frames.slice(1), signer), WireError);
  assert.throws(() => decodeWire(frames.slice(0, 4), signer), /too few frames/);
});

test('parent msg id is read from the parent header, undefined when empty', () => {
  const parent = makeMessage('execute_request', {}, 's');
  const child = makeMessage('status', { execution_state: 'busy' }, 's', parent.header);
  assert.equal(RawMessage.fromMessage(child).parentMsgId, parent.header.msg_id);
  assert.equal(RawMessage.fromMessage(parent).parentMsgId, undefined);
});
