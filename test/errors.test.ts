import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as errors from '../src/errors.js';
import { GatewayError, HttpError, KernelExitedEarlyError, KernelLaunchError, KernelLimitError, RetryableLaunchError, SessionNotFoundError, StartupError, UnknownKernelError } from '../src/errors.js';
import { httpErrorFor } from '../src/http/error-response.js';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

test('each catalogue error has its name, a stable KG_ERR_ code, its status and keeps its cause', () => {
  const root = new Error('EADDRINUSE');
  const e = new StartupError('Could not listen', { cause: root });
  assert.equal(e.name, 'StartupError');
  assert.equal(e.code, 'KG_ERR_STARTUP');
  assert.equal(e.cause, root);
  assert.equal(e.status, undefined);
  assert.equal(new KernelLimitError('max_kernels').status, 403);
  assert.equal(new HttpError(418, 'teapot').status, 418);
  const codes = new Set<string>();
  for (const [name, value] of Object.entries(errors)) {
    if (typeof value !== 'function' || !(value.prototype instanceof Error)) continue;
    const code = (value as unknown as typeof GatewayError).code;
    assert.match(code, /^KG_ERR(_[A-Z]+)*$/, `${name}'s code`);
    assert.ok(!codes.has(code), `${name}'s code ${code} is taken by another error`);
    codes.add(code);
  }
  assert.ok(codes.size >= 20, `only ${codes.size} errors in the catalogue`);
});

test('instanceof follows the catalogue hierarchy and nothing else', () => {
  const e = new KernelExitedEarlyError('exited');
  assert.ok(e instanceof KernelExitedEarlyError);
  assert.ok(e instanceof RetryableLaunchError);
  assert.ok(e instanceof KernelLaunchError);
  assert.ok(e instanceof GatewayError);
  assert.ok(e instanceof Error);
  assert.ok(!(new KernelLaunchError('x') instanceof RetryableLaunchError));
  assert.ok(!(new UnknownKernelError('x') instanceof SessionNotFoundError));
  assert.ok(!(new Error('plain') instanceof GatewayError));
  assert.ok(!((null as unknown) instanceof GatewayError) && !({ code: 'KG_ERR' } instanceof GatewayError));
});

test('instanceof holds across two copies of the module (a plug-in bundling its own)', async () => {
  // A query string makes Node load the same file as a second, separate module.
  const copy = (await import(`${new URL('../src/errors.js', import.meta.url).href}?copy=2`)) as typeof errors;
  assert.notEqual(copy.KernelLimitError, KernelLimitError);
  const theirs = new copy.KernelLimitError('limit');
  assert.ok(theirs instanceof KernelLimitError);
  assert.ok(theirs instanceof GatewayError);
  assert.ok(new KernelLimitError('limit') instanceof copy.KernelLimitError);
  assert.ok(!(theirs instanceof UnknownKernelError));
  assert.equal(httpErrorFor(theirs).status, 403);
});

test('httpErrorFor: catalogue statuses, framework statusCodes, 500 for the rest', () => {
  assert.equal(httpErrorFor(new SessionNotFoundError('gone')).status, 404);
  assert.equal(httpErrorFor(new SessionNotFoundError('gone')).message, 'gone');
  assert.equal(httpErrorFor(new StartupError('x')).status, 500);
  assert.equal(httpErrorFor(Object.assign(new Error('too large'), { statusCode: 413 })).status, 413);
  assert.equal(httpErrorFor(Object.assign(new Error('odd'), { statusCode: 200 })).status, 500);
  assert.equal(httpErrorFor('a string').status, 500);
  const cause = new UnknownKernelError('no kernel');
  assert.equal(httpErrorFor(cause).cause, cause);
});

test('no class in src/ extends Error outside the catalogue', () => {
  const offenders: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (p.endsWith('.ts') && p !== join(SRC, 'errors.ts') && /class \w+ extends (\w+)?Error\b/.test(readFileSync(p, 'utf8'))) offenders.push(p);
    }
  };
  walk(SRC);
  assert.deepEqual(offenders, []);
});
