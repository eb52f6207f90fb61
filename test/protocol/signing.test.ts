import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { MessageSigner } from '../../src/protocol/signing.js';

test('signature is the hex HMAC-SHA256 of the four JSON frames in order', () => {
  const frames = ['{"a":1}', '{}', '{}', '{"code":"1+1"}'];
  const expected = createHmac('sha256', 'secret').update(frames.join('')).digest('hex');
  assert.equal(new MessageSigner('secret').sign(frames), expected);
});

test('verify accepts the right signature and rejects a tampered one', () => {
  const signer = new MessageSigner('k');
  const frames = [Buffer.from('{"h":1}'), Buffer.from('{}'), Buffer.from('{}'), Buffer.from('{}')];
  const sig = signer.sign(frames);
  assert.equal(signer.verify(sig, frames), true);
  assert.equal(signer.verify(sig.replace(/^./, (c) => (c === 'a' ? 'b' : 'a')), frames), false);
  assert.equal(signer.verify('short', frames), false);
});

test('an empty key turns signing off, as in jupyter_client', () => {
  const signer = new MessageSigner('');
  assert.equal(signer.sign(['x']), '');
  assert.equal(signer.verify('', ['x']), true);
});

test('unknown signature schemes are refused', () => {
  assert.throws(() => new MessageSigner('k', 'rsa-sha1'), /unsupported signature scheme/);
});
