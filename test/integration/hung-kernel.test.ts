// A kernel that stops reading its ZeroMQ channels (here: SIGSTOPped, with the heartbeat off so
// that it is not taken for dead) while a websocket client floods it with big execute_requests:
// the gateway must not queue without bound or hang. Sends that ZeroMQ cannot take within 5 s
// fail (logged), later ones fail at once, past 1000 waiting per channel more are refused; the
// gateway keeps serving HTTP and other kernels, its memory stays bounded, and once the kernel
// runs again (SIGCONT) and has worked through what it did take, it executes code as before.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { kernelPids, processAlive, startGateway, waitFor, type GatewayProcess } from '../helpers/gateway-process.js';
import { RawKernelClient, type WireMsg } from '../helpers/raw-kernel-client.js';

/** Flood: this many execute_requests, each ~20 KB of trivially cheap code. */
const FLOOD_MESSAGES = 3000;
const FLOOD_CODE = 'x=1 #' + 'a'.repeat(20_000);
const RSS_LIMIT_MB = 600;
const TIMED_OUT = /Could not send to kernel [0-9a-f-]+: the kernel did not take a message on shell within 5 s/;
const NOT_READING = /Could not send to kernel ([0-9a-f-]+): the kernel (did not take a message on shell within \d+ s|is not reading its shell channel \(\d+ messages waiting\))/;

const startKernel = async (gw: GatewayProcess): Promise<string> => {
  const res = await fetch(gw.url + '/api/kernels', { method: 'POST', body: JSON.stringify({ name: 'python3' }) });
  assert.equal(res.status, 201);
  return ((await res.json()) as { id: string }).id;
};

/** Runs `code` (an expression) and resolves with its execute_result's text/plain once the
 *  shell reply came too; iopub and shell are separate sockets, so either may come first. */
async function evaluate(client: RawKernelClient, code: string, timeoutMs: number): Promise<string | undefined> {
  const id = client.request('execute_request', { code, silent: false, store_history: false, user_expressions: {}, allow_stdin: false, stop_on_error: true });
  const reply = await client.waitFor((m) => m.parent_header.msg_id === id && m.header.msg_type === 'execute_reply', timeoutMs);
  assert.equal(reply.content.status, 'ok');
  const result = await client.waitFor((m) => m.parent_header.msg_id === id && m.header.msg_type === 'execute_result', timeoutMs);
  return (result.content.data as Record<string, string>)['text/plain'];
}

function rssMb(pid: number): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

/** Resolves once everything queued on the websocket has been handed to the OS. */
async function flushed(client: RawKernelClient, timeoutMs: number): Promise<boolean> {
  return waitFor(() => client.ws.bufferedAmount === 0, timeoutMs, 100);
}

describe('a kernel that stops reading its channels', () => {
  let gw: GatewayProcess;
  const stopped: number[] = [];
  const clients: RawKernelClient[] = [];

  before(async () => {
    gw = await startGateway(['--KernelGatewayApp.heartbeat_interval=0'], {}, 60_000);
  });

  after(async () => {
    for (const pid of stopped) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        /* gone */
      }
    }
    for (const c of clients) c.ws.terminate();
    await gw?.stop();
  });

  test('floods fail instead of queueing without bound; the gateway and other kernels carry on; the kernel works again once it reads', { timeout: 290_000 }, async () => {
    const hungId = await startKernel(gw);
    const otherId = await startKernel(gw);
    const other = await RawKernelClient.connect(gw.url, otherId);
    clients.push(other);
    const first = await RawKernelClient.connect(gw.url, hungId);
    clients.push(first);
    assert.equal(await evaluate(first, '1+1', 60_000), '2');
    assert.equal(await evaluate(other, '1+1', 60_000), '2');
    first.close();

    const pids = await kernelPids(hungId);
    assert.equal(pids.length, 1, `one kernel process: ${pids.join(', ')}`);
    const gwPid = gw.proc.pid!;
    const rssBefore = rssMb(gwPid);
    let rssPeak = rssBefore;
    const sampler = setInterval(() => {
      try {
        rssPeak = Math.max(rssPeak, rssMb(gwPid));
      } catch {
        /* gateway gone: the assertions below say so */
      }
    }, 200);

    try {
      stopped.push(...pids);
      for (const pid of pids) process.kill(pid, 'SIGSTOP');

      const flood = await RawKernelClient.connect(gw.url, hungId);
      clients.push(flood);
      const floodIds = new Set<string>();
      for (let i = 0; i < FLOOD_MESSAGES; i++) {
        floodIds.add(flood.request('execute_request', { code: FLOOD_CODE, silent: false, store_history: false, user_expressions: {}, allow_stdin: false, stop_on_error: false }));
      }
      const t0 = performance.now();

      // The gateway answers HTTP while it is being flooded.
      const api = await fetch(gw.url + '/api', { signal: AbortSignal.timeout(15_000) });
      assert.equal(api.status, 200);
      await api.arrayBuffer();
      const model = await fetch(`${gw.url}/api/kernels/${hungId}`, { signal: AbortSignal.timeout(15_000) });
      assert.equal(model.status, 200);
      assert.equal(((await model.json()) as { id: string }).id, hungId);
      console.log(`# GET /api and /api/kernels/<stopped kernel> answered ${((performance.now() - t0) / 1000).toFixed(1)} s into the flood`);

      // Another kernel is served as usual.
      assert.equal(await evaluate(other, '1+1', 30_000), '2');

      assert.ok(await flushed(flood, 60_000), `the gateway read the whole flood (${flood.ws.bufferedAmount} bytes still buffered)`);
      // What ZeroMQ cannot take within 5 s fails; what waited behind it fails at once.
      assert.ok(await waitFor(() => TIMED_OUT.test(gw.logs()), 40_000, 200), `the gateway logged a send that timed out:\n${gw.logs().slice(-2000)}`);
      const refusalLines = (): string[] => gw.logs().split('\n').filter((l) => NOT_READING.test(l));
      assert.ok(refusalLines().every((l) => NOT_READING.exec(l)![1] === hungId), 'only the stopped kernel refuses messages');
      let settled = -1;
      assert.ok(
        await waitFor(() => {
          const n = refusalLines().length;
          const same = n === settled;
          settled = n;
          return same;
        }, 30_000, 1000),
        'the refusals stop: nothing keeps waiting',
      );
      const refusedWhileStopped = refusalLines().length;
      console.log(`# ${refusedWhileStopped} of ${FLOOD_MESSAGES} flood messages refused ${((performance.now() - t0) / 1000).toFixed(1)} s into the flood`);

      // With the channel stalled, a new message fails at once instead of waiting 5 s more.
      const probe = await RawKernelClient.connect(gw.url, hungId);
      clients.push(probe);
      const tProbe = performance.now();
      probe.request('kernel_info_request', {});
      assert.ok(await waitFor(() => refusalLines().length > refusedWhileStopped, 15_000, 50), 'a message sent to the stalled kernel is refused');
      const probeRefusedMs = performance.now() - tProbe;
      console.log(`# a message to the stalled channel refused after ${probeRefusedMs.toFixed(0)} ms`);
      assert.match(refusalLines().at(-1)!, /within 0 s|messages waiting/);
      probe.close();

      // Still responsive after the refusals.
      assert.equal((await fetch(gw.url + '/api', { signal: AbortSignal.timeout(15_000) })).status, 200);
      assert.equal(await evaluate(other, '1+1', 30_000), '2');
      assert.ok(processAlive(gwPid));
      console.log(`# gateway RSS ${rssBefore.toFixed(0)} MB before the flood, peak ${rssPeak.toFixed(0)} MB while stopped`);
      assert.ok(rssPeak < RSS_LIMIT_MB, `gateway RSS peaked at ${rssPeak.toFixed(0)} MB`);

      // The kernel runs again: it works through what ZeroMQ took from the flood.
      for (const pid of pids) process.kill(pid, 'SIGCONT');
      stopped.length = 0;
      const t1 = performance.now();
      const floodReplies = (): number => flood.received.filter((m: WireMsg) => m.header.msg_type === 'execute_reply' && floodIds.has(m.parent_header.msg_id ?? '')).length;
      assert.ok(await waitFor(() => floodReplies() > 0, 60_000, 200), 'the kernel answers flood requests it had taken');
      // Drained: every flood message not refused has been answered, or (if some never are) no
      // further reply for 15 s.
      const refused = refusalLines().length - 1; // less the probe's
      let last = -1;
      let stableSince = performance.now();
      await waitFor(() => {
        const n = floodReplies();
        if (n + refused >= FLOOD_MESSAGES) return true;
        if (n !== last) {
          last = n;
          stableSince = performance.now();
        }
        return performance.now() - stableSince > 15_000;
      }, 180_000, 250);
      const answered = floodReplies();
      console.log(`# after SIGCONT: ${answered} flood requests executed within ${((performance.now() - t1) / 1000).toFixed(1)} s`);
      assert.ok(answered < FLOOD_MESSAGES, `not every flood message was taken (${answered} executed)`);
      assert.equal(answered + refused, FLOOD_MESSAGES, 'each flood message was either executed or refused (and logged)');
      assert.ok(rssPeak < RSS_LIMIT_MB, `gateway RSS peaked at ${rssPeak.toFixed(0)} MB`);

      // A fresh websocket's code gets through: sends are no longer failed at once.
      const fresh = await RawKernelClient.connect(gw.url, hungId);
      clients.push(fresh);
      assert.equal(await evaluate(fresh, '1+1', 60_000), '2');
      assert.equal((await kernelPids(hungId)).join(), pids.join(), 'the same process: neither restarted nor replaced');
    } finally {
      clearInterval(sampler);
    }
  });
});
