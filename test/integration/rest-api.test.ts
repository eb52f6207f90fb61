// The jupyter-websocket REST API through a real gateway process and real kernels (ipykernel,
// xpython): status codes, bodies and headers as the original gateway answers them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { kernelPids, processAlive, startGateway, waitFor, type GatewayProcess } from '../helpers/gateway-process.js';

let gw: GatewayProcess;
const api = (path: string, init?: RequestInit): Promise<Response> => fetch(gw.url + path, init);
const post = (path: string, body?: unknown): Promise<Response> => api(path, { method: 'POST', body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });

before(async () => {
  gw = await startGateway(['--JupyterWebsocketPersonality.list_kernels=True']);
});
after(async () => {
  await gw.stop();
});

describe('kernelspecs', () => {
  test('GET /api answers the version', async () => {
    const res = await api('/api');
    assert.equal(res.status, 200);
    assert.match((await res.json()).version, /^\d+\.\d+\.\d+/);
  });

  test('GET /api/kernelspecs lists python3 and xpython with resources', async () => {
    const body = await (await api('/api/kernelspecs')).json();
    assert.equal(body.default, 'python3');
    assert.ok(body.kernelspecs.python3);
    assert.ok(body.kernelspecs.xpython);
    assert.equal(body.kernelspecs.python3.spec.language, 'python');
    assert.equal(body.kernelspecs.python3.resources['logo-64x64'], '/kernelspecs/python3/logo-64x64.png');
  });

  test('GET /api/kernelspecs/{name} and its resource files', async () => {
    assert.equal((await (await api('/api/kernelspecs/python3')).json()).name, 'python3');
    const missing = await api('/api/kernelspecs/nope');
    assert.equal(missing.status, 404);
    assert.equal((await missing.json()).reason, 'Not Found');
    const logo = await api('/kernelspecs/python3/logo-64x64.png');
    assert.equal(logo.status, 200);
    assert.equal(logo.headers.get('content-type'), 'image/png');
    assert.equal((await api('/kernelspecs/python3/nope.png')).status, 404);
    assert.equal((await api('/kernelspecs/python3/..%2F..%2F..%2F..%2Fetc%2Fpasswd')).status, 404);
  });
});

describe('kernels', () => {
  test('start, inspect, interrupt, restart and delete an ipykernel', async () => {
    const t0 = performance.now();
    const res = await post('/api/kernels', { name: 'python3' });
    const startMs = performance.now() - t0;
    assert.equal(res.status, 201);
    const model = await res.json();
    assert.equal(res.headers.get('location'), `/api/kernels/${model.id}`);
    assert.deepEqual(Object.keys(model).sort(), ['connections', 'execution_state', 'id', 'last_activity', 'name']);
    assert.match(model.last_activity, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    assert.equal(model.connections, 0);
    assert.equal(model.name, 'python3');
    console.log(`# POST /api/kernels -> kernel answering kernel_info_request: ${startMs.toFixed(0)} ms`);

    const pids = await kernelPids(model.id);
    assert.equal(pids.length, 1, 'one kernel process runs');

    const got = await api(`/api/kernels/${model.id}`);
    assert.equal(got.status, 200);
    assert.equal((await got.json()).id, model.id);

    const listed = await (await api('/api/kernels')).json();
    assert.ok(listed.some((k: { id: string }) => k.id === model.id));

    assert.equal((await post(`/api/kernels/${model.id}/interrupt`)).status, 204);

    const restarted = await post(`/api/kernels/${model.id}/restart`);
    assert.equal(restarted.status, 200);
    assert.equal((await restarted.json()).id, model.id);
    const newPids = await kernelPids(model.id);
    assert.equal(newPids.length, 1);
    assert.notEqual(newPids[0], pids[0], 'restart starts a new process');
    assert.ok(await waitFor(() => !processAlive(pids[0]!)), 'the old process is gone');

    const del = await api(`/api/kernels/${model.id}`, { method: 'DELETE' });
    assert.equal(del.status, 204);
    assert.equal(await del.text(), '');
    assert.ok(await waitFor(() => !processAlive(newPids[0]!)), 'the kernel process is gone after DELETE');
    assert.equal((await api(`/api/kernels/${model.id}`)).status, 404);
  });

  test('an xpython kernel starts and is deleted too', async () => {
    const res = await post('/api/kernels', { name: 'xpython' });
    assert.equal(res.status, 201);
    const model = await res.json();
    assert.equal(model.name, 'xpython');
    const pids = await kernelPids(model.id);
    assert.equal(pids.length, 1);
    assert.equal((await api(`/api/kernels/${model.id}`, { method: 'DELETE' })).status, 204);
    assert.ok(await waitFor(() => !processAlive(pids[0]!)));
  });

  test('no body and an empty body start the default kernel', async () => {
    for (const body of [undefined, '{}']) {
      const res = await api('/api/kernels', { method: 'POST', body });
      assert.equal(res.status, 201);
      const model = await res.json();
      assert.equal(model.name, 'python3');
      assert.equal((await api(`/api/kernels/${model.id}`, { method: 'DELETE' })).status, 204);
    }
  });

  test('bad input: malformed JSON, env not an object, unknown kernelspec', async () => {
    const bad = await post('/api/kernels', '{"name": ');
    assert.equal(bad.status, 400);
    assert.deepEqual(await bad.json(), { reason: 'Bad Request', message: 'Invalid JSON in body of request' });
    assert.equal((await post('/api/kernels', { env: 'x' })).status, 400);
    const unknown = await post('/api/kernels', { name: 'no-such-kernel' });
    assert.equal(unknown.status, 500);
    assert.match((await unknown.json()).message, /no-such-kernel/);
  });

  test('unknown ids are 404 JSON naming the id, restart included', async () => {
    const id = '00000000-0000-0000-0000-000000000000';
    for (const [method, path] of [['GET', ''], ['DELETE', ''], ['POST', '/interrupt'], ['POST', '/restart']] as const) {
      const res = await api(`/api/kernels/${id}${path}`, { method });
      assert.equal(res.status, 404, `${method} ${path}`);
      assert.equal(res.headers.get('content-type')?.split(';')[0], 'application/json');
      assert.match((await res.json()).message, new RegExp(id));
    }
    assert.equal((await api('/api/kernels/not-a-uuid')).status, 404);
  });

  test('unsupported verbs are 405, unknown routes 404 JSON, unknown query params ignored', async () => {
    assert.equal((await api('/api/kernels', { method: 'PUT' })).status, 405);
    assert.equal((await api('/api/kernelspecs', { method: 'DELETE' })).status, 405);
    for (const path of ['/', '/tree', '/api/contents']) {
      const res = await api(path);
      assert.equal(res.status, 404);
      assert.equal((await res.json()).reason, 'Not Found');
    }
    assert.equal((await api('/api/kernelspecs?1234567')).status, 200);
  });
});

describe('sessions', () => {
  test('create, get, rename, change kernel by name and by id, delete', async () => {
    const res = await post('/api/sessions', { path: 'nb.ipynb', name: 'nb', type: 'notebook', kernel: { name: 'python3' } });
    assert.equal(res.status, 201);
    const s = await res.json();
    assert.equal(res.headers.get('location'), `/api/sessions/${s.id}`);
    assert.equal(s.path, 'nb.ipynb');
    assert.equal(s.name, 'nb');
    assert.equal(s.type, 'notebook');
    assert.equal(s.kernel.name, 'python3');
    assert.deepEqual(s.notebook, { path: 'nb.ipynb', name: 'nb' });

    const again = await (await post('/api/sessions', { path: 'nb.ipynb', type: 'notebook' })).json();
    assert.equal(again.id, s.id, 'the same path gives the same session');

    const renamed = await (await api(`/api/sessions/${s.id}`, { method: 'PATCH', body: JSON.stringify({ path: 'other.ipynb', name: 'other' }) })).json();
    assert.equal(renamed.path, 'other.ipynb');
    assert.equal(renamed.name, 'other');
    assert.equal(renamed.kernel.id, s.kernel.id);

    const oldPids = await kernelPids(s.kernel.id);
    const moved = await api(`/api/sessions/${s.id}`, { method: 'PATCH', body: JSON.stringify({ kernel: { name: 'xpython' } }) });
    assert.equal(moved.status, 200);
    const movedModel = await moved.json();
    assert.equal(movedModel.kernel.name, 'xpython');
    assert.notEqual(movedModel.kernel.id, s.kernel.id);
    assert.ok(await waitFor(() => oldPids.every((p) => !processAlive(p))), 'the replaced kernel is shut down');

    const other = await (await post('/api/kernels', { name: 'python3' })).json();
    const movedPids = await kernelPids(movedModel.kernel.id);
    const byId = await (await api(`/api/sessions/${s.id}`, { method: 'PATCH', body: JSON.stringify({ kernel: { id: other.id } }) })).json();
    assert.equal(byId.kernel.id, other.id);
    assert.equal((await api(`/api/kernels/${movedModel.kernel.id}`)).status, 404, 'moving to a kernel by id ends the old one, as Jupyter Server does');
    assert.ok(await waitFor(() => movedPids.every((p) => !processAlive(p))), 'its process is gone');

    const listed = await (await api('/api/sessions')).json();
    assert.ok(listed.some((x: { id: string }) => x.id === s.id));

    assert.equal((await api(`/api/sessions/${s.id}`, { method: 'DELETE' })).status, 204);
    assert.equal((await api(`/api/sessions/${s.id}`)).status, 404);
    assert.equal((await api(`/api/kernels/${other.id}`)).status, 404, 'deleting a session ends its kernel');
  });

  test('creating with an existing kernel.id reuses that kernel', async () => {
    const kernel = await (await post('/api/kernels', {})).json();
    const s = await (await post('/api/sessions', { path: 'reuse.py', type: 'console', kernel: { id: kernel.id } })).json();
    assert.equal(s.kernel.id, kernel.id);
    assert.equal((await api(`/api/sessions/${s.id}`, { method: 'DELETE' })).status, 204);
  });

  test('bad input: no body, missing path or type, unknown kernel name, unknown id', async () => {
    assert.equal((await post('/api/sessions')).status, 400);
    assert.equal((await post('/api/sessions', '{bad')).status, 400);
    const noPath = await post('/api/sessions', { type: 'notebook' });
    assert.equal(noPath.status, 400);
    assert.match((await noPath.json()).message, /path/);
    assert.equal((await post('/api/sessions', { path: 'x.py' })).status, 400);
    const noType = await post('/api/sessions', { path: 'x.ipynb', kernel: { name: 'python3' } });
    assert.equal(noType.status, 400, 'type is required, as in Jupyter Server, also for a notebook path');
    assert.deepEqual(await noType.json(), { reason: 'Bad Request', message: 'Missing field in JSON data: type' });
    const unknown = await post('/api/sessions', { path: 'y.ipynb', type: 'notebook', kernel: { name: 'nope' } });
    assert.equal(unknown.status, 501);
    assert.equal((await api('/api/sessions/nope')).status, 404);
    assert.equal((await api('/api/sessions/nope', { method: 'DELETE' })).status, 404);
  });
});

describe('listing is refused unless enabled', () => {
  test('GET /api/kernels and /api/sessions are 403 by default, single routes still work', async () => {
    const plain = await startGateway();
    try {
      for (const path of ['/api/kernels', '/api/sessions']) {
        const res = await fetch(plain.url + path);
        assert.equal(res.status, 403);
        assert.deepEqual(await res.json(), { reason: 'Forbidden', message: 'Forbidden' });
      }
      const k = await (await fetch(plain.url + '/api/kernels', { method: 'POST' })).json();
      assert.equal((await fetch(`${plain.url}/api/kernels/${k.id}`)).status, 200);
      // SIGTERM ends the kernel with the gateway.
      const pids = await kernelPids(k.id);
      assert.equal(await plain.stop('SIGTERM'), 0);
      assert.ok(await waitFor(() => pids.every((p) => !processAlive(p)), 5000), 'no kernel outlives the gateway');
    } finally {
      await plain.stop();
    }
  });
});

test('two simultaneous session creates for one path share one session and one kernel', async () => {
  const body = JSON.stringify({ path: 'race.ipynb', type: 'notebook' });
  const [a, b] = await Promise.all([0, 1].map(() => fetch(gw.url + '/api/sessions', { method: 'POST', body }).then((r) => r.json())));
  assert.equal(a.id, b.id);
  assert.equal(a.kernel.id, b.kernel.id);
  assert.equal((await fetch(`${gw.url}/api/sessions/${a.id}`, { method: 'DELETE' })).status, 204);
});
