// /metrics through a Prometheus text parser: the series exist, move when kernels start,
// execute, die, restart and are culled, carry no kernel ids, and follow the token (or not, with
// authenticate_prometheus=False). /api/gateway/status tells the same story, and the swagger
// document lists it. log_format=json writes one JSON object per line.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { kernelPids, startGateway, waitFor, type GatewayProcess } from '../helpers/gateway-process.js';
import { RawKernelClient } from '../helpers/raw-kernel-client.js';
import { parsePrometheusText, sampleValue, type Family } from '../helpers/prometheus-text.js';

const TOKEN = 'metrics-token';
const AUTH = { Authorization: `token ${TOKEN}` };
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

async function scrape(url: string, headers: Record<string, string> = AUTH): Promise<{ text: string; families: Map<string, Family> }> {
  const res = await fetch(`${url}/metrics`, { headers });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  const text = await res.text();
  return { text, families: parsePrometheusText(text) };
}

const value = sampleValue;

describe('metrics', () => {
  let gw: GatewayProcess;
  before(async () => {
    gw = await startGateway([`--KernelGatewayApp.auth_token=${TOKEN}`, '--KernelGatewayApp.restart_limit=3']);
  });
  after(async () => {
    await gw?.stop();
  });

  test('the series exist and move with kernels, messages and deaths; no ids in labels; token required', async () => {
    assert.equal((await fetch(`${gw.url}/metrics`)).status, 401, '/metrics follows the token by default');
    const before = (await scrape(gw.url)).families;
    for (const name of ['http_request_duration_seconds', 'kernel_currently_running_total', 'kernel_gateway_kernels', 'kernel_gateway_websocket_connections', 'process_cpu_seconds_total', 'nodejs_heap_size_used_bytes', 'kernel_gateway_kernel_starts_total', 'kernel_gateway_kernel_start_duration_seconds']) {
      assert.ok(before.has(name), `${name} is exposed`);
    }
    const res = await fetch(`${gw.url}/api/kernels`, { method: 'POST', headers: AUTH, body: '{"name":"python3"}' });
    const { id } = (await res.json()) as { id: string };
    const client = await RawKernelClient.connect(gw.url, id, `?token=${TOKEN}`);
    try {
      await client.execute('print("counted")');
      let after = (await scrape(gw.url)).families;
      assert.equal(value(after, 'kernel_gateway_kernel_starts_total', { kernelspec: 'python3', provisioner: 'local-provisioner' }) - value(before, 'kernel_gateway_kernel_starts_total', { kernelspec: 'python3' }), 1);
      assert.equal(value(after, 'kernel_gateway_kernel_start_duration_seconds_count', { kernelspec: 'python3' }), 1, 'one start observed');
      assert.equal(value(after, 'kernel_currently_running_total', { type: 'python3' }), 1);
      assert.equal(value(after, 'kernel_gateway_kernels', { kernelspec: 'python3', execution_state: 'idle' }), 1);
      assert.equal(value(after, 'kernel_gateway_websocket_connections'), 1);
      assert.ok(value(after, 'kernel_gateway_messages_total', { channel: 'shell', direction: 'to_kernel' }) >= 1);
      assert.ok(value(after, 'kernel_gateway_messages_total', { channel: 'iopub', direction: 'from_kernel' }) >= 3, 'busy, stream, idle');
      assert.ok(value(after, 'kernel_gateway_message_bytes_total', { channel: 'iopub', direction: 'from_kernel' }) > 100);
      assert.ok(value(after, 'http_request_duration_seconds_count', { method: 'POST', handler: '/api/kernels', status_code: '201' }) >= 1, 'routes are labelled by pattern');

      const [pid] = await kernelPids(id);
      process.kill(pid!, 'SIGKILL');
      assert.ok(
        await waitFor(async () => {
          after = (await scrape(gw.url)).families;
          return value(after, 'kernel_gateway_kernel_restarts_total', { kernelspec: 'python3', reason: 'died' }) >= 1;
        }, 20_000, 200),
        'the automatic restart is counted',
      );
      assert.equal(value(after, 'kernel_gateway_kernel_deaths_total', { kernelspec: 'python3' }), 1);
      const { text } = await scrape(gw.url);
      assert.doesNotMatch(text, UUID, 'no kernel id in any label');

      const status = (await (await fetch(`${gw.url}/api/gateway/status`, { headers: AUTH })).json()) as { kernels: { id: string; restarts: number; pid: number | null }[]; events: { type: string; kernel_id?: string }[]; process: { rss_bytes: number } };
      const kernel = status.kernels.find((k) => k.id === id);
      assert.ok(kernel, 'the status lists the kernel');
      assert.equal(kernel.restarts, 1);
      assert.ok(status.process.rss_bytes > 0);
      for (const type of ['start', 'death', 'restart']) assert.ok(status.events.some((e) => e.type === type && e.kernel_id === id), `a ${type} event`);
      assert.equal((await fetch(`${gw.url}/api/gateway/status`)).status, 401);
      const swagger = (await (await fetch(`${gw.url}/api/swagger.json`, { headers: AUTH })).json()) as { paths: Record<string, unknown> };
      assert.ok(swagger.paths['/api/gateway/status'], 'the status document is described in the API');
    } finally {
      client.close();
    }
  });
});

describe('metrics without the token, and culls', () => {
  test('authenticate_prometheus=False opens /metrics only; a culled kernel is counted', async () => {
    const gw = await startGateway([`--KernelGatewayApp.auth_token=${TOKEN}`, '--KernelGatewayApp.authenticate_prometheus=False', '--KernelGatewayApp.cull_idle_timeout=1', '--KernelGatewayApp.cull_interval=1']);
    try {
      await scrape(gw.url, {});
      assert.equal((await fetch(`${gw.url}/api`)).status, 401, 'the rest still needs the token');
      const res = await fetch(`${gw.url}/api/kernels`, { method: 'POST', headers: AUTH, body: '{}' });
      const { id } = (await res.json()) as { id: string };
      assert.ok(await waitFor(async () => (await fetch(`${gw.url}/api/kernels/${id}`, { headers: AUTH })).status === 404, 30_000, 250), 'the idle kernel is culled');
      const { families } = await scrape(gw.url, {});
      assert.equal(value(families, 'kernel_gateway_kernel_culls_total', { kernelspec: 'python3' }), 1);
      assert.equal(value(families, 'kernel_currently_running_total', { type: 'python3' }), 0);
    } finally {
      await gw.stop();
    }
  });
});

describe('JSON logs', () => {
  test('log_format=json: every gateway line is one JSON object; request lines carry method, path, status, duration', async () => {
    const gw = await startGateway(['--KernelGatewayApp.log_format=json']);
    try {
      const res = await fetch(`${gw.url}/api/kernels`, { method: 'POST', body: '{}' });
      const { id } = (await res.json()) as { id: string };
      await fetch(`${gw.url}/api/kernels/${id}`, { method: 'DELETE' });
    } finally {
      await gw.stop();
    }
    const lines = gw.logs().split('\n').filter((l) => l.trim() !== '');
    // Kernels share the gateway's stderr; their own lines are not the gateway's to format.
    const ours = lines.filter((l) => l.startsWith('{'));
    assert.deepEqual(lines.filter((l) => !l.startsWith('{') && /KernelGateway|Kernel started|Jupyter Kernel Gateway/.test(l)), [], 'no readable gateway line');
    const records = ours.map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const r of records) {
      assert.equal(typeof r.time, 'string');
      assert.ok(['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'].includes(String(r.level)), String(r.level));
      assert.equal(typeof r.message, 'string');
    }
    const post = records.find((r) => r.method === 'POST' && r.path === '/api/kernels');
    assert.ok(post, 'the request line');
    assert.equal(post.status, 201);
    assert.equal(typeof post.duration_ms, 'number');
    const started = records.find((r) => String(r.message).startsWith('Kernel started'));
    assert.match(String(started?.kernel_id), UUID, 'kernel lines carry the kernel id');
    assert.ok(records.some((r) => String(r.message).includes('Jupyter Kernel Gateway')), 'the start-up line too');
  });
});
