// Kernels in real Docker containers and Swarm services (a real dockerd and one-node swarm, the
// test image built here without a registry, Enterprise Gateway's unmodified bootstrap and
// launcher inside): the kernel runs in its own container and PID namespace, executes,
// interrupts, restarts into a new container, is restarted after its container dies, and leaves
// nothing behind after delete, a failed launch, culling and SIGTERM; a KERNEL_IMAGE the operator
// did not list is refused with 403.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startGateway, waitFor, type GatewayProcess } from '../helpers/gateway-process.js';
import { RawKernelClient, type WireMsg } from '../helpers/raw-kernel-client.js';
import { buildKernelImage, docker, dockerUnavailable, KERNEL_IMAGE, KERNEL_IMAGE_MOUNTS, launcherUnavailable, swarmUnavailable, writeContainerKernelspec } from '../helpers/engines.js';
import { jupyterDirs } from '../server/gateway-fixtures.js';

const streamText = (msgs: WireMsg[]): string => msgs.filter((m) => m.header.msg_type === 'stream').map((m) => String(m.content.text)).join('');
const ALT_IMAGE = 'kg-test-kernel:allowed';
const MOUNTS = KERNEL_IMAGE_MOUNTS.map((m) => `${m.source}:${m.target}:ro`);

const skip = (await dockerUnavailable()) ?? (await launcherUnavailable());
const skipSwarm = skip ?? (await swarmUnavailable());
const dirs = jupyterDirs();

/** The containers (or services) labelled with this kernel id, running or not. */
async function leftovers(kernelId: string): Promise<string[]> {
  const containers = await docker(['ps', '-aq', '--filter', `label=kernel_id=${kernelId}`]);
  const services = (await swarmUnavailable()) ? '' : await docker(['service', 'ls', '-q', '--filter', `label=kernel_id=${kernelId}`]);
  return [...containers.split('\n'), ...services.split('\n')].filter(Boolean);
}

async function containerIds(kernelId: string): Promise<string[]> {
  return (await docker(['ps', '-q', '--filter', `label=kernel_id=${kernelId}`])).split('\n').filter(Boolean);
}

async function start(gw: GatewayProcess, name: string, env?: Record<string, string>): Promise<Response> {
  return fetch(`${gw.url}/api/kernels`, { method: 'POST', body: JSON.stringify({ name, ...(env ? { env } : {}) }) });
}

let data: string;
before(async () => {
  if (skip) return;
  await buildKernelImage();
  await docker(['tag', KERNEL_IMAGE, ALT_IMAGE]);
  data = join(dirs.root, 'data');
  writeContainerKernelspec(data, 'py_docker', 'DockerProcessProxy', { image_name: KERNEL_IMAGE, network: 'host', mounts: MOUNTS });
  writeContainerKernelspec(data, 'py_swarm', 'DockerSwarmProcessProxy', { image_name: KERNEL_IMAGE, network: 'host', mounts: MOUNTS });
  writeContainerKernelspec(data, 'py_missing_image', 'DockerProcessProxy', { image_name: 'kg-test-no-such-image:1', network: 'host', mounts: MOUNTS });
});

after(() => dirs.cleanup());

function gatewayArgs(extra: string[] = []): string[] {
  return ['--KernelGatewayApp.response_ip=127.0.0.1', '--KernelGatewayApp.response_port=0', `--KernelGatewayApp.allowed_images=${ALT_IMAGE}`, '--KernelGatewayApp.kernel_launch_timeout=60', '--JupyterWebsocketPersonality.list_kernels=True', ...extra];
}

describe('docker-provisioner', { skip }, () => {
  let gw: GatewayProcess;
  before(async () => {
    gw = await startGateway(gatewayArgs(), { ...dirs.env, JUPYTER_PATH: data });
  });
  after(async () => {
    await gw?.stop();
  });

  test('the kernel runs in its own container and PID namespace; interrupt, restart into a new container, delete leaves nothing', async () => {
    const res = await start(gw, 'py_docker');
    assert.equal(res.status, 201, await res.clone().text());
    const kernel = (await res.json()) as { id: string; name: string; execution_state: string };
    assert.equal(kernel.name, 'py_docker');
    const [first] = await containerIds(kernel.id);
    assert.ok(first, 'a running container labelled with the kernel id');
    const model = (await (await fetch(`${gw.url}/api/kernels/${kernel.id}`)).json()) as { location?: { provisioner: string; container?: string } };
    assert.equal(model.location?.provisioner, 'docker-provisioner');
    assert.equal(model.location?.container, first!.slice(0, 12), 'the model says which container');
    const client = await RawKernelClient.connect(gw.url, kernel.id);
    try {
      const inside = streamText(await client.execute("import os\nprint(os.path.exists('/.dockerenv'), os.readlink('/proc/self/ns/pid'), open('/proc/1/cmdline').read().split('\\0')[0])"));
      const [dockerenv, pidNs, init] = inside.trim().split(' ');
      assert.equal(dockerenv, 'True', '/.dockerenv exists: a container');
      const { readlinkSync } = await import('node:fs');
      assert.notEqual(pidNs, readlinkSync('/proc/self/ns/pid'), 'its own PID namespace');
      assert.match(init!, /init/, 'PID 1 in there is the container init');

      const sleeping = client.request('execute_request', { code: 'import time\ntime.sleep(60)', silent: false, store_history: false, user_expressions: {}, allow_stdin: false, stop_on_error: true });
      await client.waitFor((m) => m.parent_header.msg_id === sleeping && m.header.msg_type === 'status' && m.content.execution_state === 'busy', 30_000);
      assert.equal((await fetch(`${gw.url}/api/kernels/${kernel.id}/interrupt`, { method: 'POST' })).status, 204);
      const reply = await client.waitFor((m) => m.parent_header.msg_id === sleeping && m.header.msg_type === 'execute_reply', 30_000);
      assert.equal(reply.content.ename, 'KeyboardInterrupt', 'interrupted through the launcher');

      assert.equal((await fetch(`${gw.url}/api/kernels/${kernel.id}/restart`, { method: 'POST' })).status, 200);
      const after = await containerIds(kernel.id);
      assert.equal(after.length, 1, 'one container after the restart');
      assert.notEqual(after[0], first, 'a new container');
      assert.equal((await leftovers(kernel.id)).length, 1, 'the old container is removed');
      assert.equal(streamText(await client.execute('print(6*7)')), '42\n', 'the websocket carries on after the restart');
    } finally {
      client.close();
    }
    assert.equal((await fetch(`${gw.url}/api/kernels/${kernel.id}`, { method: 'DELETE' })).status, 204);
    assert.deepEqual(await leftovers(kernel.id), [], 'no container left after delete');
  });

  test('a container that dies is replaced by a new one, as a local kernel is restarted', async () => {
    const kernel = (await (await start(gw, 'py_docker')).json()) as { id: string };
    const [first] = await containerIds(kernel.id);
    await docker(['kill', first!]);
    assert.ok(await waitFor(async () => {
      const ids = await containerIds(kernel.id);
      return ids.length === 1 && ids[0] !== first;
    }, 60_000, 500), 'a new container');
    const client = await RawKernelClient.connect(gw.url, kernel.id);
    try {
      assert.ok(await waitFor(async () => ((await (await fetch(`${gw.url}/api/kernels/${kernel.id}`)).json()) as { execution_state: string }).execution_state === 'idle', 60_000, 500));
      assert.equal(streamText(await client.execute('print(1+1)')), '2\n');
    } finally {
      client.close();
    }
    await fetch(`${gw.url}/api/kernels/${kernel.id}`, { method: 'DELETE' });
    assert.deepEqual(await leftovers(kernel.id), []);
  });

  test('KERNEL_IMAGE: an unlisted image is refused with 403 and starts nothing; a listed one runs', async () => {
    const refused = await start(gw, 'py_docker', { KERNEL_IMAGE: 'alpine:latest' });
    assert.equal(refused.status, 403);
    assert.match(((await refused.json()) as { message: string }).message, /KERNEL_IMAGE "alpine:latest" is not one of KernelGatewayApp.allowed_images/);
    assert.equal(await docker(['ps', '-aq', '--filter', 'ancestor=alpine:latest']), '');
    const allowed = await start(gw, 'py_docker', { KERNEL_IMAGE: ALT_IMAGE });
    assert.equal(allowed.status, 201);
    const kernel = (await allowed.json()) as { id: string };
    const image = await docker(['inspect', '--format', '{{.Config.Image}}', (await containerIds(kernel.id))[0]!]);
    assert.equal(image, ALT_IMAGE);
    await fetch(`${gw.url}/api/kernels/${kernel.id}`, { method: 'DELETE' });
    assert.deepEqual(await leftovers(kernel.id), []);
  });

  test('a launch that fails (no such image) is a 500 and leaves no container', async () => {
    const before = await docker(['ps', '-aq', '--filter', 'label=app=kernel-gateway']);
    const res = await start(gw, 'py_missing_image');
    assert.equal(res.status, 500);
    assert.match(((await res.json()) as { message: string }).message, /kg-test-no-such-image/);
    assert.equal(await docker(['ps', '-aq', '--filter', 'label=app=kernel-gateway']), before);
  });
});

describe('docker-swarm-provisioner', { skip: skipSwarm }, () => {
  test('the kernel runs as a one-replica service, executes and restarts; delete removes the service', async () => {
    const gw = await startGateway(gatewayArgs(), { ...dirs.env, JUPYTER_PATH: data });
    try {
      const res = await start(gw, 'py_swarm');
      assert.equal(res.status, 201, await res.clone().text());
      const kernel = (await res.json()) as { id: string };
      const services = await docker(['service', 'ls', '--filter', `label=kernel_id=${kernel.id}`, '--format', '{{.Name}} {{.Replicas}}']);
      assert.match(services, new RegExp(`^kg-${kernel.id} 1/1`));
      const client = await RawKernelClient.connect(gw.url, kernel.id);
      try {
        assert.equal(streamText(await client.execute("import os\nprint(os.path.exists('/.dockerenv'))")), 'True\n');
        assert.equal((await fetch(`${gw.url}/api/kernels/${kernel.id}/restart`, { method: 'POST' })).status, 200);
        assert.equal(streamText(await client.execute('print(2+3)')), '5\n');
      } finally {
        client.close();
      }
      assert.equal((await fetch(`${gw.url}/api/kernels/${kernel.id}`, { method: 'DELETE' })).status, 204);
      assert.ok(await waitFor(async () => (await leftovers(kernel.id)).length === 0, 30_000, 500), 'no service or container left');
    } finally {
      await gw.stop();
    }
  });
});

describe('what gateway ends leave behind', { skip }, () => {
  test('SIGTERM and culling remove their containers and services', async () => {
    const gw = await startGateway(gatewayArgs(['--KernelGatewayApp.cull_idle_timeout=3', '--KernelGatewayApp.cull_interval=1']), { ...dirs.env, JUPYTER_PATH: data });
    let culled: string;
    let kept: string[] = [];
    try {
      culled = ((await (await start(gw, 'py_docker')).json()) as { id: string }).id;
      assert.ok(await waitFor(async () => (await fetch(`${gw.url}/api/kernels/${culled}`)).status === 404, 60_000, 500), 'culled');
      assert.ok(await waitFor(async () => (await leftovers(culled)).length === 0, 30_000, 500), 'its container removed');
      const names = skipSwarm ? ['py_docker'] : ['py_docker', 'py_swarm'];
      kept = await Promise.all(names.map(async (n) => ((await (await start(gw, n)).json()) as { id: string }).id));
    } finally {
      assert.equal(await gw.stop('SIGTERM'), 0);
    }
    for (const id of kept) assert.ok(await waitFor(async () => (await leftovers(id)).length === 0, 30_000, 500), `nothing left of ${id} after SIGTERM`);
  });
});
