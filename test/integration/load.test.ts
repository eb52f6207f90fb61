// Load: concurrent starts never exceed max_kernels while the gateway stays responsive, and 32
// kernels with a websocket client each all stream numbered lines that arrive complete, in
// order and once.
//
// On an overloaded machine (32 kernels starting at once on 2 shared cores) a kernel may not
// answer within kernel_launch_timeout: its start then fails with a 500 naming the timeout. That
// is the one failure tolerated, and it still counts as one of the max_kernels starts admitted:
// never more than 32 kernels start, and the 4 beyond are refused with 403 Forbidden.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { kernelPids, startGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { RawKernelClient } from '../helpers/raw-kernel-client.js';

const KERNELS = 32;
const EXTRA = 4;
const LINES = 300;
const LAUNCH_TIMEOUT_S = 90;
/** What a start that hit kernel_launch_timeout answers. */
const TIMED_OUT = new RegExp(`^Kernel "python3" did not answer kernel_info_request within ${LAUNCH_TIMEOUT_S} s$`);
let gw: GatewayProcess;
let ids: string[] = [];

before(async () => {
  gw = await startGateway([`--KernelGatewayApp.max_kernels=${KERNELS}`, `--KernelGatewayApp.kernel_launch_timeout=${LAUNCH_TIMEOUT_S}`, '--JupyterWebsocketPersonality.list_kernels=True']);
});
after(async () => {
  await gw.stop();
});

interface StartResult {
  start: number;
  status: number;
  ms: number;
  body: Record<string, unknown>;
}

/** One POST /api/kernels; a connection failure or a body that is not JSON is a result too. */
async function startOne(start: number): Promise<StartResult> {
  const t0 = performance.now();
  try {
    const r = await fetch(gw.url + '/api/kernels', { method: 'POST', body: '{}' });
    const text = await r.text();
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      body = { text };
    }
    return { start, status: r.status, ms: Math.round(performance.now() - t0), body };
  } catch (err) {
    return { start, status: 0, ms: Math.round(performance.now() - t0), body: { error: String(err), cause: String((err as Error).cause) } };
  }
}

test(`${KERNELS + EXTRA} simultaneous starts: exactly ${KERNELS} are admitted and succeed (or time out), the rest get 403, /api stays responsive`, async () => {
  let starting = true;
  const apiLatencies: number[] = [];
  const prober = (async () => {
    while (starting) {
      const t0 = performance.now();
      const res = await fetch(gw.url + '/api');
      assert.equal(res.status, 200);
      await res.arrayBuffer();
      apiLatencies.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const t0 = performance.now();
  const results = await Promise.all(Array.from({ length: KERNELS + EXTRA }, (_, i) => startOne(i)));
  const elapsed = performance.now() - t0;
  starting = false;
  await prober;
  const ok = results.filter((r) => r.status === 201);
  const refused = results.filter((r) => r.status === 403);
  const timedOut = results.filter((r) => r.status === 500 && TIMED_OUT.test(String(r.body.message)));
  // A failure says which starts got neither answer, with what, and what the gateway logged.
  const explain = (): string => {
    const others = results.filter((r) => r.status !== 201 && r.status !== 403);
    const warnings = gw
      .logs()
      .split('\n')
      .filter((l) => / (WARN|ERROR) /.test(l));
    return `${ok.length} started, ${refused.length} refused (403); the others: ${JSON.stringify(others)}\ngateway warnings and errors:\n${warnings.slice(-40).join('\n')}`;
  };
  assert.equal(ok.length + timedOut.length, KERNELS, explain());
  assert.equal(refused.length, EXTRA, explain());
  for (const r of refused) assert.equal(r.body.reason, 'Forbidden', explain());
  if (timedOut.length > 0) console.log(`# ${timedOut.length} start(s) hit kernel_launch_timeout (${LAUNCH_TIMEOUT_S} s) on this machine: ${explain()}`);
  ids = ok.map((r) => r.body.id as string);
  const listed = await (await fetch(gw.url + '/api/kernels')).json();
  assert.equal(listed.length, ok.length, explain());
  apiLatencies.sort((a, b) => a - b);
  console.log(`# ${ok.length} kernels started concurrently in ${(elapsed / 1000).toFixed(1)} s; GET /api meanwhile: ${apiLatencies.length} probes, median ${apiLatencies[apiLatencies.length >> 1]?.toFixed(1)} ms, max ${apiLatencies[apiLatencies.length - 1]?.toFixed(1)} ms`);
});

test(`${KERNELS} kernels (those that started), a client each, printing ${LINES} numbered lines: all arrive in order, once`, async () => {
  assert.ok(ids.length > 0, 'no kernel started');
  const clients = await Promise.all(ids.map((id) => RawKernelClient.connect(gw.url, id)));
  try {
    const t0 = performance.now();
    const outputs = await Promise.all(
      clients.map((c, k) => c.execute(`import sys\nfor i in range(${LINES}):\n    print(f"k${k} line {i}", flush=(i % 7 == 0))\n`)),
    );
    const elapsed = performance.now() - t0;
    let total = 0;
    outputs.forEach((msgs, k) => {
      const ids = msgs.map((m) => m.header.msg_id);
      assert.equal(new Set(ids).size, ids.length, `kernel ${k}: no duplicate messages`);
      const lines = msgs.filter((m) => m.header.msg_type === 'stream').map((m) => String(m.content.text)).join('').split('\n').filter(Boolean);
      assert.deepEqual(lines, Array.from({ length: LINES }, (_, i) => `k${k} line ${i}`), `kernel ${k}: every line, in order`);
      total += lines.length;
    });
    console.log(`# ${total} lines from ${ids.length} kernels in ${(elapsed / 1000).toFixed(1)} s; lines lost: 0`);
  } finally {
    for (const c of clients) c.close();
  }
  await Promise.all(ids.map((id) => fetch(`${gw.url}/api/kernels/${id}`, { method: 'DELETE' })));
  for (const id of ids) assert.deepEqual(await kernelPids(id), []);
});
