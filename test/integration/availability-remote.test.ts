// availability_mode standalone with remote kernels (a real dockerd and one-node swarm, real
// sshd's on loopback, Enterprise Gateway's unmodified launchers): a gateway stopped by SIGTERM
// or killed by SIGKILL leaves its containers, services and remote processes running, and the
// next gateway on the same store serves the very same ones again with their state; a kernel
// whose container or process died while no gateway ran is dropped at start-up, and nothing of
// it is left (container, service, process, record).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { processesMentioning, scratchDir, startGateway, waitFor, type GatewayProcess } from '../helpers/gateway-process.js';
import { RawKernelClient } from '../helpers/raw-kernel-client.js';
import { buildKernelImage, DEBIAN_PYTHON, docker, dockerUnavailable, KERNEL_IMAGE, KERNEL_IMAGE_MOUNTS, launcherUnavailable, sshUnavailable, startSshHosts, swarmUnavailable, writeContainerKernelspec, writeDistributedKernelspec, type SshHosts } from '../helpers/engines.js';
import { jupyterDirs } from '../server/gateway-fixtures.js';

const MOUNTS = KERNEL_IMAGE_MOUNTS.map((m) => `${m.source}:${m.target}:ro`);
const launcher = await launcherUnavailable();
const skipDocker = launcher ?? (await dockerUnavailable());
const skipSwarm = skipDocker ?? (await swarmUnavailable());
const skipSsh = launcher ?? (await sshUnavailable());
const dirs = jupyterDirs();
const data = join(dirs.root, 'data');
let ssh: SshHosts | undefined;

before(async () => {
  if (!skipDocker) {
    await buildKernelImage();
    writeContainerKernelspec(data, 'py_docker', 'DockerProcessProxy', { image_name: KERNEL_IMAGE, network: 'host', mounts: MOUNTS });
    writeContainerKernelspec(data, 'py_swarm', 'DockerSwarmProcessProxy', { image_name: KERNEL_IMAGE, network: 'host', mounts: MOUNTS });
  }
  if (!skipSsh) {
    ssh = await startSshHosts(1);
    writeDistributedKernelspec(data);
  }
});

after(async () => {
  await ssh?.stop();
  dirs.cleanup();
});

/** One engine: how its kernels are told apart, killed behind the gateway's back, and found left over. */
interface Engine {
  spec: string;
  gatewayArgs: string[];
  env: NodeJS.ProcessEnv;
  /** What runs the kernel (container ids, a service id, remote pids): the same before and after a restart. */
  identity(kernelId: string): Promise<string[]>;
  /** Ends the kernel's container or process while no gateway runs. */
  kill(kernelId: string): Promise<void>;
  /** Whatever of the kernel is still there, running or not. */
  leftovers(kernelId: string): Promise<string[]>;
}

const lines = (out: string): string[] => out.split('\n').filter(Boolean).sort();

const containerEngine = (spec: string, swarm: boolean): Engine => ({
  spec,
  gatewayArgs: ['--KernelGatewayApp.response_ip=127.0.0.1', '--KernelGatewayApp.response_port=0'],
  env: {},
  identity: async (id) => lines(swarm ? await docker(['service', 'ls', '-q', '--filter', `label=kernel_id=${id}`]) : await docker(['ps', '-q', '--no-trunc', '--filter', `label=kernel_id=${id}`])),
  kill: async (id) => {
    for (const c of lines(await docker(['ps', '-q', '--filter', `label=kernel_id=${id}`]))) await docker(['kill', c]);
  },
  leftovers: async (id) => [...lines(await docker(['ps', '-aq', '--filter', `label=kernel_id=${id}`])), ...(swarm ? lines(await docker(['service', 'ls', '-q', '--filter', `label=kernel_id=${id}`])) : [])],
});

/** The launcher's processes on the SSH host (the ssh client, its shell and setsid come and go with each gateway). */
const launcherPids = (id: string): number[] =>
  processesMentioning(id).filter((pid) => {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      return argv[0] === DEBIAN_PYTHON && argv.some((a) => a.endsWith('launch_ipykernel.py'));
    } catch {
      return false;
    }
  });

const sshEngine = (): Engine => ({
  spec: 'py_distributed',
  gatewayArgs: ['--KernelGatewayApp.response_ip=127.0.0.1', '--KernelGatewayApp.response_port=0', `--KernelGatewayApp.ssh_port=${ssh!.port}`, `--KernelGatewayApp.ssh_identity_file=${ssh!.keyPath}`, `--KernelGatewayApp.ssh_known_hosts_file=${ssh!.knownHostsPath}`],
  env: { KG_REMOTE_HOSTS: ssh!.hosts.join(',') },
  identity: async (id) => launcherPids(id).map(String),
  kill: async (id) => {
    for (const pid of launcherPids(id)) process.kill(pid, 'SIGKILL');
  },
  leftovers: async (id) => processesMentioning(id).map(String),
});

async function survives(engine: Engine): Promise<void> {
  const store = scratchDir('kg-store-');
  const records = (): string[] => readdirSync(join(store, 'kernels')).sort();
  const gateway = (): Promise<GatewayProcess> =>
    startGateway(['--KernelGatewayApp.availability_mode=standalone', `--KernelGatewayApp.persistence_root=${store}`, '--KernelGatewayApp.kernel_launch_timeout=60', '--JupyterWebsocketPersonality.list_kernels=True', ...engine.gatewayArgs], { ...dirs.env, JUPYTER_PATH: data, ...engine.env });
  const listed = async (gw: GatewayProcess): Promise<string[]> => ((await (await fetch(`${gw.url}/api/kernels`)).json()) as { id: string }[]).map((k) => k.id).sort();

  let gw = await gateway();
  const ids: string[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${gw.url}/api/kernels`, { method: 'POST', body: JSON.stringify({ name: engine.spec }) });
      assert.equal(res.status, 201, await res.clone().text());
      ids.push(((await res.json()) as { id: string }).id);
    }
    const [kept, victim] = ids as [string, string];
    const identities = new Map<string, string[]>();
    for (const id of ids) {
      const identity = await engine.identity(id);
      assert.ok(identity.length > 0, `kernel ${id} runs in something we can see`);
      identities.set(id, identity);
    }
    assert.deepEqual(records(), [...ids].sort().map((id) => `${id}.json`));

    const sessionQuery = `?session_id=${randomUUID()}`;
    let client = await RawKernelClient.connect(gw.url, kept, sessionQuery);
    const first = await client.run('x = 41', 60_000);
    client.close();

    for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
      const code = await gw.stop(signal);
      if (signal === 'SIGTERM') assert.equal(code, 0, gw.logs());
      for (const id of ids) assert.deepEqual(await engine.identity(id), identities.get(id), `kernel ${id} outlived the gateway's ${signal}`);

      gw = await gateway();
      assert.match(gw.logs(), /re-adopted 2 kernel\(s\)/, gw.logs());
      assert.deepEqual(await listed(gw), [...ids].sort());
      for (const id of ids) assert.deepEqual(await engine.identity(id), identities.get(id), `kernel ${id} is the same one after the gateway's ${signal}`);
      client = await RawKernelClient.connect(gw.url, kept, sessionQuery);
      try {
        const next = await client.run('x + 1', 60_000);
        assert.equal(next.result, '42', `the state is kept across the gateway's ${signal}`);
        assert.ok(next.count > first.count, `execution_count goes on (${first.count} then ${next.count})`);
        // The launcher's comm port is reached again: an interrupt gets through.
        // Interrupted once the cell runs: a SIGINT that lands before it (after `busy`) is
        // reported outside the cell and the sleep would go on.
        const sleeping = client.request('execute_request', { code: "import time\nprint('sleeping', flush=True)\ntime.sleep(60)", silent: false, store_history: false, user_expressions: {}, allow_stdin: false, stop_on_error: true });
        await client.waitFor((m) => m.parent_header.msg_id === sleeping && m.header.msg_type === 'stream' && String(m.content.text).includes('sleeping'), 30_000);
        assert.equal((await fetch(`${gw.url}/api/kernels/${kept}/interrupt`, { method: 'POST' })).status, 204);
        const interrupted = await client.waitFor((m) => m.parent_header.msg_id === sleeping && m.header.msg_type === 'execute_reply', 30_000);
        assert.equal(interrupted.content.ename, 'KeyboardInterrupt', `interrupted through the launcher after the gateway's ${signal}`);
      } finally {
        client.close();
      }
    }

    // Killed while no gateway runs: dropped at the next start, with what it left.
    assert.equal(await gw.stop('SIGTERM'), 0, gw.logs());
    await engine.kill(victim);
    gw = await gateway();
    assert.match(gw.logs(), /re-adopted 1 kernel\(s\).*dropped 1/, gw.logs());
    assert.deepEqual(await listed(gw), [kept]);
    assert.deepEqual(records(), [`${kept}.json`]);
    assert.ok(await waitFor(async () => (await engine.leftovers(victim)).length === 0, 60_000, 500), `nothing left of the dead kernel: ${(await engine.leftovers(victim)).join(' ')}`);

    // Shutdown through the API ends the re-adopted one and everything of it.
    assert.equal((await fetch(`${gw.url}/api/kernels/${kept}`, { method: 'DELETE' })).status, 204);
    assert.deepEqual(records(), []);
    assert.ok(await waitFor(async () => (await engine.leftovers(kept)).length === 0, 60_000, 500), `nothing left after delete: ${(await engine.leftovers(kept)).join(' ')}`);
  } finally {
    await gw.stop('SIGKILL');
    // A failed run must not leave kernels for the next test.
    for (const id of ids) {
      await engine.kill(id).catch(() => undefined);
      for (const c of await engine.leftovers(id).catch(() => [])) {
        if (/^\d+$/.test(c)) process.kill(Number(c), 'SIGKILL');
        else await docker(['rm', '-f', c]).catch(() => docker(['service', 'rm', c]).catch(() => undefined));
      }
    }
  }
}

describe('standalone with remote kernels', () => {
  test('docker: the same containers after SIGTERM and SIGKILL of the gateway, state kept; a dead one is dropped and removed', { skip: skipDocker, timeout: 300_000 }, () => survives(containerEngine('py_docker', false)));
  test('swarm: the same services after SIGTERM and SIGKILL of the gateway, state kept; a dead one is dropped and removed', { skip: skipSwarm, timeout: 300_000 }, () => survives(containerEngine('py_swarm', true)));
  test('ssh: the same remote processes after SIGTERM and SIGKILL of the gateway, state kept; a dead one is dropped and nothing is left', { skip: skipSsh, timeout: 300_000 }, () => survives(sshEngine()));
});
