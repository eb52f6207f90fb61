import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kernelEnvironment } from '../../src/kernels/kernel-env.js';

const gateway = { PATH: '/bin', HOME: '/root', SECRET: 's', KG_AUTH_TOKEN: 't', KERNEL_GATEWAY: '0' };
const policy = { processWhitelist: ['HOME'], requestWhitelist: ['ALLOWED'] };

test('without a request env the kernel inherits everything but KG_AUTH_TOKEN', () => {
  const env = kernelEnvironment(gateway, undefined, {}, policy);
  assert.equal(env.SECRET, 's');
  assert.equal(env.KG_AUTH_TOKEN, undefined);
  assert.equal(env.KERNEL_GATEWAY, '1');
});

test('with a request env: PATH, whitelisted process vars, KERNEL_* and whitelisted request vars only', () => {
  const env = kernelEnvironment(gateway, { KERNEL_USERNAME: 'ann', ALLOWED: 'yes', OTHER: 'no', KERNEL_GATEWAY: '0', KG_AUTH_TOKEN: 'x' }, { SPEC: 'v' }, policy);
  assert.deepEqual(env, { PATH: '/bin', HOME: '/root', KERNEL_USERNAME: 'ann', ALLOWED: 'yes', SPEC: 'v', KERNEL_GATEWAY: '1', JPY_PARENT_PID: String(process.pid) });
});

test("JPY_PARENT_PID is always the gateway's pid, whatever the request or the kernelspec says", () => {
  for (const request of [undefined, {}, { JPY_PARENT_PID: '1' }] as (Record<string, string> | undefined)[]) {
    assert.equal(kernelEnvironment({ ...gateway, JPY_PARENT_PID: '7' }, request, { JPY_PARENT_PID: '9' }, policy, 4242).JPY_PARENT_PID, '4242');
  }
});
