// Kernelspecs naming a provisioner through a real gateway: one naming a provisioner the gateway
// does not have (Jupyter's kernel_provisioner or Enterprise Gateway's process_proxy) is listed,
// with a warning at start-up, and starting it answers 500 naming it; a kernelspec naming the
// local provisioner explicitly runs as a local kernel.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { jupyterDirs } from '../server/gateway-fixtures.js';

const dirs = jupyterDirs();
let gw: GatewayProcess;
const PYTHON_ARGV = ['/usr/bin/python3', '-m', 'ipykernel_launcher', '-f', '{connection_file}'];

function kernelspec(data: string, name: string, metadata: Record<string, unknown>): void {
  mkdirSync(join(data, 'kernels', name), { recursive: true });
  writeFileSync(join(data, 'kernels', name, 'kernel.json'), JSON.stringify({ argv: PYTHON_ARGV, display_name: name, language: 'python', metadata }));
}

before(async () => {
  const data = join(dirs.root, 'data');
  kernelspec(data, 'spark_yarn', { process_proxy: { class_name: 'enterprise_gateway.services.processproxies.yarn.YarnClusterProcessProxy' } });
  kernelspec(data, 'on_k8s', { kernel_provisioner: { provisioner_name: 'kubernetes-provisioner', config: { image_name: 'x' } } });
  kernelspec(data, 'local_named', { kernel_provisioner: { provisioner_name: 'local-provisioner' } });
  gw = await startGateway(['--JupyterWebsocketPersonality.list_kernels=True'], { ...dirs.env, JUPYTER_PATH: data });
});

after(async () => {
  await gw?.stop();
  dirs.cleanup();
});

test('a provisioner we lack: listed, warned about, and a start of it is a 500 naming it', async () => {
  const specs = (await (await fetch(`${gw.url}/api/kernelspecs`)).json()) as { kernelspecs: Record<string, unknown> };
  assert.ok(specs.kernelspecs.spark_yarn && specs.kernelspecs.on_k8s, 'both are listed');
  assert.match(gw.logs(), /WARN.*spark_yarn uses the process proxy enterprise_gateway\.services\.processproxies\.yarn\.YarnClusterProcessProxy/);
  assert.match(gw.logs(), /WARN.*on_k8s uses the provisioner kubernetes-provisioner/);
  for (const [name, named] of [['spark_yarn', 'YarnClusterProcessProxy'], ['on_k8s', 'kubernetes-provisioner']] as const) {
    const res = await fetch(`${gw.url}/api/kernels`, { method: 'POST', body: JSON.stringify({ name }) });
    assert.equal(res.status, 500);
    const body = (await res.json()) as { reason: string; message: string };
    assert.equal(body.reason, 'Internal Server Error');
    assert.match(body.message, new RegExp(`${name} uses the .*${named}.*it has: local-provisioner`));
    const session = await fetch(`${gw.url}/api/sessions`, { method: 'POST', body: JSON.stringify({ path: `${name}.ipynb`, type: 'notebook', kernel: { name } }) });
    assert.equal(session.status, 500, 'a session for it too');
  }
  assert.deepEqual(await (await fetch(`${gw.url}/api/kernels`)).json(), [], 'nothing was left half-started');
});

test('local-provisioner named explicitly is a local kernel', async () => {
  const res = await fetch(`${gw.url}/api/kernels`, { method: 'POST', body: JSON.stringify({ name: 'local_named' }) });
  assert.equal(res.status, 201);
  const kernel = (await res.json()) as { id: string; name: string };
  assert.equal(kernel.name, 'local_named');
  assert.match(gw.logs(), new RegExp(`Kernel started: ${kernel.id} \\(local_named, pid \\d+\\)`));
  assert.equal((await fetch(`${gw.url}/api/kernels/${kernel.id}`, { method: 'DELETE' })).status, 204);
});
