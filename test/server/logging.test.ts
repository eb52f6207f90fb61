import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/server/logging.js';

function sink(): { stream: Writable; lines: () => string[] } {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, done) {
      text += String(chunk);
      done();
    },
  });
  return { stream, lines: () => text.split('\n').filter(Boolean) };
}

const LINE = /^\[KernelGateway\] \d{4}-\d\d-\d\d \d\d:\d\d:\d\d (DEBUG|INFO|WARNING|ERROR|CRITICAL) /;

test('readable lines: the original prefix, level names, messages however the call was made', () => {
  const out = sink();
  const log = createLogger('INFO', out.stream);
  log.debug('not shown at INFO');
  log.info('plain message');
  log.warn({ method: 'GET', status: 404 }, '404 GET /nope');
  log.error(new Error('boom'));
  log.info('%s kernels, %d busy', 'three', 2);
  log.child({ reqId: 'r1' }).warn('from a child');
  // An error's stack follows its line; every call starts one line of its own.
  const lines = out.lines().filter((l) => l.startsWith('['));
  assert.equal(lines.length, 5, lines.join('\n'));
  for (const l of lines) assert.match(l, LINE);
  assert.match(lines[0]!, / INFO plain message$/);
  assert.match(lines[1]!, / WARNING 404 GET \/nope$/);
  assert.match(lines[2]!, / ERROR Error: boom$/);
  assert.ok(out.lines().some((l) => /^\s+at /.test(l)), 'the stack follows');
  assert.match(lines[3]!, / INFO three kernels, 2 busy$/);
  assert.match(lines[4]!, / WARNING from a child$/);
});

test('log_level DEBUG shows debug lines; Python level numbers work', () => {
  const out = sink();
  createLogger('10', out.stream).debug('detail');
  assert.match(out.lines()[0]!, / DEBUG detail$/);
});

test('log_format=json: one object per line with time, level, message and the kernel id named', () => {
  const out = sink();
  const log = createLogger('INFO', out.stream, 'json');
  log.info('Kernel 0d3c1f5e-1b2a-4c3d-8e9f-0a1b2c3d4e5f started');
  log.warn({ status: 503 }, 'refused');
  const [a, b] = out.lines().map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(a!.level, 'INFO');
  assert.equal(a!.kernel_id, '0d3c1f5e-1b2a-4c3d-8e9f-0a1b2c3d4e5f');
  assert.match(String(a!.time), /^\d{4}-\d\d-\d\dT/);
  assert.equal(b!.message, 'refused');
  assert.equal(b!.status, 503);
  assert.equal(b!.level, 'WARNING');
});
