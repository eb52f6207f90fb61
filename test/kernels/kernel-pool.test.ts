// The kernel pool with stand-in kernels: FIFO leasing, fair queueing, exclusivity, abandoned
// waiters, replacement of dead kernels (with retries), and shutdown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { KernelPool } from '../../src/kernels/kernel-pool.js';
import { PoolClosedError, PoolWaitAbortedError } from '../../src/errors.js';

class FakeKernel extends EventEmitter {
  stopped = false;
  constructor(readonly id: string) {
    super();
  }
  die(): void {
    this.emit('died');
  }
}

const quietLog = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

function fakePool(size: number, opts: { failStarts?: number } = {}) {
  let n = 0;
  let failures = opts.failStarts ?? 0;
  const started: FakeKernel[] = [];
  const pool = new KernelPool<FakeKernel>({
    size,
    log: quietLog,
    retryDelayMs: () => 5,
    start: async () => {
      await new Promise((r) => setTimeout(r, 1));
      if (failures > 0 && started.length >= size) {
        failures--;
        throw new Error('no kernel today');
      }
      const k = new FakeKernel(`k${n++}`);
      started.push(k);
      return k;
    },
    stop: async (k) => {
      k.stopped = true;
    },
    onDeath: (k, listener) => {
      k.prependListener('died', listener);
      return () => k.off('died', listener);
    },
  });
  return { pool, started };
}

const until = async (cond: () => boolean): Promise<void> => {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 2));
  assert.ok(cond(), 'condition reached');
};

test('sequential leases rotate through the kernels (FIFO), as the original\'s pool does', async () => {
  const { pool } = fakePool(3);
  await pool.start();
  const ids: string[] = [];
  for (let i = 0; i < 6; i++) {
    const lease = await pool.acquire();
    ids.push(lease.kernel.id);
    lease.release();
  }
  assert.deepEqual(ids.slice(3), ids.slice(0, 3));
  assert.equal(new Set(ids).size, 3);
  await pool.shutdown();
});

test('a kernel is never leased twice at once; waiters are served in arrival order', async () => {
  const { pool } = fakePool(2);
  await pool.start();
  const a = await pool.acquire();
  const b = await pool.acquire();
  assert.notEqual(a.kernel, b.kernel);
  const order: number[] = [];
  const waiting = [1, 2, 3].map((i) => pool.acquire().then((l) => (order.push(i), l)));
  assert.equal(pool.stats.waiting, 3);
  a.release();
  a.release(); // a second release must not hand the kernel out twice
  const first = await waiting[0]!;
  assert.equal(first.kernel, a.kernel);
  assert.equal(pool.stats.waiting, 2);
  b.release();
  const second = await waiting[1]!;
  assert.equal(second.kernel, b.kernel);
  first.release();
  const third = await waiting[2]!;
  assert.deepEqual(order, [1, 2, 3]);
  assert.equal(pool.stats.busy, 2);
  second.release();
  third.release();
  assert.equal(pool.stats.idle, 2);
  await pool.shutdown();
});

test('an abandoned waiter leaves the queue without taking a kernel', async () => {
  const { pool } = fakePool(1);
  await pool.start();
  const lease = await pool.acquire();
  const ac = new AbortController();
  const abandoned = pool.acquire(ac.signal);
  const next = pool.acquire();
  ac.abort();
  await assert.rejects(abandoned, PoolWaitAbortedError);
  lease.release();
  assert.equal((await next).kernel, lease.kernel);
  await pool.shutdown();
});

test('a kernel that dies while leased is stopped and replaced; its late release is harmless', async () => {
  const { pool, started } = fakePool(1);
  await pool.start();
  const lease = await pool.acquire();
  const waiter = pool.acquire();
  lease.kernel.die();
  assert.ok(lease.kernel.stopped, 'the dead kernel is ended at once');
  const next = await waiter;
  assert.notEqual(next.kernel, lease.kernel, 'the queued request gets the replacement');
  lease.release();
  assert.equal(pool.stats.members, 1);
  next.release();
  assert.equal(pool.stats.idle, 1);
  assert.equal(started.length, 2);
  await pool.shutdown();
});

test('an idle kernel that dies is replaced too; failed replacements are retried', async () => {
  const { pool, started } = fakePool(2, { failStarts: 2 });
  await pool.start();
  started[0]!.die();
  assert.equal(pool.stats.members, 1);
  await until(() => pool.stats.members === 2 && pool.stats.idle === 2);
  assert.equal(started.length, 3);
  await pool.shutdown();
});

test('a kernel ended by someone else is taken out and replaced; unknown kernels are ignored', async () => {
  const { pool, started } = fakePool(1);
  await pool.start();
  pool.lost(new FakeKernel('stranger'), 'was ended elsewhere');
  assert.equal(started.length, 1);
  const first = started[0]!;
  pool.lost(first, 'was ended elsewhere');
  await until(() => pool.stats.idle === 1);
  const lease = await pool.acquire();
  assert.notEqual(lease.kernel, first);
  first.die(); // no longer a member: its death changes nothing
  assert.equal(pool.stats.members, 1);
  lease.release();
  await pool.shutdown();
});

test('shutdown rejects waiters, stops every kernel, and refuses new leases', async () => {
  const { pool, started } = fakePool(1);
  await pool.start();
  await pool.acquire();
  const waiter = pool.acquire();
  await pool.shutdown();
  await assert.rejects(waiter, PoolClosedError);
  await assert.rejects(pool.acquire(), PoolClosedError);
  assert.ok(started.every((k) => k.stopped));
});

test('a pool needs at least one kernel', () => {
  assert.throws(() => fakePool(0), RangeError);
});
