// The in-place JSON checker agrees with JSON.parse: on generated documents with random
// whitespace, on every byte mutation of them, and on hand-picked edge cases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkJsonObject, topLevelMembers } from '../../src/protocol/json-spans.js';

function prng(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    return x / 0x7fffffff;
  };
}

function randomValue(rand: () => number, depth: number): unknown {
  const r = rand();
  if (depth > 4 || r < 0.3) {
    const k = Math.floor(rand() * 6);
    if (k === 0) return null;
    if (k === 1) return rand() < 0.5;
    if (k === 2) return Math.floor(rand() * 2e6) - 1e6;
    if (k === 3) return (rand() - 0.5) * 1e-3;
    return ['', 'x', 'é ☃ 𝄞', 'quote " back \\ slash', 'ctl \n\t\u0001', '{"nested": [1]}'][Math.floor(rand() * 6)];
  }
  if (r < 0.65) return Array.from({ length: Math.floor(rand() * 4) }, () => randomValue(rand, depth + 1));
  const obj: Record<string, unknown> = {};
  for (let i = Math.floor(rand() * 4); i > 0; i--) obj[`k${Math.floor(rand() * 10)}`] = randomValue(rand, depth + 1);
  return obj;
}

/** JSON.stringify with random whitespace between tokens. */
function spaced(text: string, rand: () => number): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    out += c;
    if (inString) {
      if (c === '\\') out += text[++i];
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if ('{}[],:'.includes(c) && rand() < 0.3) out += [' ', '\n', '\t', '\r\n  '][Math.floor(rand() * 4)];
  }
  return out;
}

const parsesAsObject = (b: Buffer): boolean => {
  try {
    const v = JSON.parse(b.toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v);
  } catch {
    return false;
  }
};
const checks = (b: Buffer): boolean => {
  try {
    checkJsonObject(b, 'test');
    return true;
  } catch {
    return false;
  }
};

test('members and their spans match JSON.parse on generated documents', () => {
  const rand = prng(42);
  for (let n = 0; n < 500; n++) {
    const doc: Record<string, unknown> = { header: { msg_id: `m${n}`, msg_type: 'x' } };
    for (let i = Math.floor(rand() * 5); i > 0; i--) doc[`f${i}`] = randomValue(rand, 0);
    const buf = Buffer.from(spaced(JSON.stringify(doc), rand));
    const members = topLevelMembers(buf);
    assert.deepEqual([...members.keys()].sort(), Object.keys(doc).sort());
    for (const [name, span] of members) assert.deepEqual(JSON.parse(buf.toString('utf8', span.start, span.end)), doc[name]);
    assert.equal(checks(buf), true);
  }
});

test('the checker accepts exactly what JSON.parse accepts as an object, under byte mutations', () => {
  const rand = prng(7);
  const alphabet = Buffer.from('{}[]":,\\ -+.0123456789eEtrufalsn\n\x01x');
  let compared = 0;
  for (let n = 0; n < 300; n++) {
    const base = Buffer.from(JSON.stringify({ a: randomValue(rand, 0), b: [randomValue(rand, 1)] }));
    for (let m = 0; m < 10; m++) {
      const buf = Buffer.from(base);
      const at = Math.floor(rand() * buf.length);
      const op = rand();
      let mutated: Buffer;
      if (op < 0.4) {
        buf[at] = alphabet[Math.floor(rand() * alphabet.length)]!;
        mutated = buf;
      } else if (op < 0.7) mutated = Buffer.concat([buf.subarray(0, at), buf.subarray(at + 1)]);
      else mutated = Buffer.concat([buf.subarray(0, at), alphabet.subarray(Math.floor(rand() * alphabet.length)).subarray(0, 1), buf.subarray(at)]);
      assert.equal(checks(mutated), parsesAsObject(mutated), `disagreement on ${JSON.stringify(mutated.toString('utf8'))}`);
      compared++;
    }
  }
  assert.equal(compared, 3000);
});

test('edge cases', () => {
  const cases = ['{}', ' { } ', '{"a":1}', '{"a":-0.5e+3}', '{"a":01}', '{"a":1.}', '{"a":.5}', '{"a":-}', '{"a":tru}', '{"a":"\\u00e9"}', '{"a":"\\u00g9"}', '{"a":"\\x"}', '{"a":1,}', '{,}', '{"a" 1}', '{"a":1}}', '{"a":[1,]}', '[]', 'null', '', '{"a":"unterminated}', '{"a":1} x', '{"a":' + '['.repeat(50_000) + ']'.repeat(50_000) + '}', '{"a":' + '['.repeat(50_000) + '}'];
  for (const c of cases) assert.equal(checks(Buffer.from(c)), parsesAsObject(Buffer.from(c)), JSON.stringify(c.slice(0, 40)));
  assert.throws(() => topLevelMembers(Buffer.from('[1]')), /not a JSON object/);
  assert.deepEqual(topLevelMembers(Buffer.from('{"a":1,"a":{"b":2}}')).get('a'), { start: 11, end: 18 });
});
