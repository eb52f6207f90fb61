// Kernels on SSH hosts: real sshd's on 127.0.0.2 and 127.0.0.3 (keys made at test time),
// Enterprise Gateway's unmodified launch_ipykernel.py as the python_distributed kernelspec runs
// it. Round-robin and least-connection place kernels (seen from inside the kernel through
// SSH_CONNECTION); interrupt, restart and death behave as for local kernels; a host that is
// down is skipped; shell metacharacters in KERNEL_* values stay data; nothing is left behind
// after delete, culling and SIGTERM.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { processesMentioning, startGateway, waitFor, type GatewayProcess } from '../helpers/gateway-process.js';
import { RawKernelClient, type WireMsg } from '../helpers/raw-kernel-client.js';
import { launcherUnavailable, sshUnavailable, startSshHosts, writeDistributedKernelspec, type SshHosts } from '../helpers/engines.js';
import { jupyterDirs } from '../server/gateway-fixtures.js';

const streamText = (msgs: WireMsg[]): string => msgs.filter((m) => m.header.msg_type === 'stream').map((m) => String(m.content.text)).join('');
const skip = (await sshUnavailable()) ?? (await launcherUnavailable());
const dirs = jupyterDirs();
let ssh: SshHosts;
let data: string;

before(async () => {
  if (skip) return;
  ssh = await startSshHosts(2);
  data = join(dirs.root, 'data');
  writeDistributedKernelspec(data);
});

after(async () => {
  await ssh?.stop();
  dirs.cleanup();
});

function gateway(extra: string[] = []): Promise<GatewayProcess> {
  return startGateway(
    ['--KernelGatewayApp.response_ip=127.0.0.1', '--KernelGatewayApp.response_port=0', `--KernelGatewayApp.ssh_port=${ssh.port}`, `--KernelGatewayApp.ssh_identity_file=${ssh.keyPath}`, `--KernelGatewayApp.ssh_known_hosts_file=${ssh.knownHostsPath}`, '--KernelGatewayApp.kernel_launch_timeout=60', ...extra],
    { ...dirs.env, JUPYTER_PATH: data, KG_REMOTE_HOSTS: ssh.hosts.join(',') },
  );
}

async function start(gw: GatewayProcess, env?: Record<string, string>): Promise<string> {
  const res = await fetch(`${gw.url}/api/kernels`, { method: 'POST', body: JSON.stringify({ name: 'py_distributed', ...(env ? { env } : {}) }) });
  assert.equal(res.status, 201, await res.clone().text());
  return ((await res.json()) as { id: string }).id;
}

/** The SSH server address the kernel's session came in on, as the kernel sees it. */
async function hostOf(gw: GatewayProcess, id: string): Promise<string> {
  const client = await RawKernelClient.connect(gw.url, id);
  try {
    return streamText(await client.execute("import os\nprint(os.environ['SSH_CONNECTION'].split()[2])")).trim();
  } finally {
    client.close();
  }
}

async function remove(gw: GatewayProcess, id: string): Promise<void> {
  assert.equal((await fetch(`${gw.url}/api/kernels/${id}`, { method: 'DELETE' })).status, 204);
  assert.ok(await waitFor(() => processesMentioning(id).length === 0, 20_000, 200), `no process of kernel ${id} left`);
}

describe('distributed-provisioner', { skip }, () => {
  test('round-robin over the hosts; interrupt, restart and a death as for local kernels', async () => {
    const gw = await gateway();
    try {
      const a = await start(gw);
      const b = await start(gw);
      assert.deepEqual([await hostOf(gw, a), await hostOf(gw, b)], ssh.hosts, 'one host each, in turn');
      const client = await RawKernelClient.connect(gw.url, a);
      try {
        const sleeping = client.request('execute_request', { code: 'import time\ntime.sleep(60)', silent: false, store_history: false, user_expressions: {}, allow_stdin: false, stop_on_error: true });
        await client.waitFor((m) => m.parent_header.msg_id === sleeping && m.header.msg_type === 'status' && m.content.execution_state === 'busy', 30_000);
        assert.equal((await fetch(`${gw.url}/api/kernels/${a}/interrupt`, { method: 'POST' })).status, 204);
        const reply = await client.waitFor((m) => m.parent_header.msg_id === sleeping && m.header.msg_type === 'execute_reply', 30_000);
        assert.equal(reply.content.ename, 'KeyboardInterrupt');
        assert.equal((await fetch(`${gw.url}/api/kernels/${a}/restart`, { method: 'POST' })).status, 200);
        assert.equal(streamText(await client.execute('print(6*7)')), '42\n', 'restarted');
        // A death: the launcher's whole process group is killed on its host.
        const pgid = Number(streamText(await client.execute('import os\nprint(os.getpgid(0))')).trim());
        process.kill(-pgid, 'SIGKILL');
        // Seen as a death (its SSH session ended), then restarted, as a local kernel would be.
        assert.ok(await waitFor(() => new RegExp(`Kernel ${a} restarted in`).test(gw.logs()), 60_000, 200), 'restarted after its death');
        assert.match(gw.logs(), new RegExp(`Kernel ${a} \\(py_distributed\\) died`));
        assert.equal(streamText(await client.execute('print(1+1)')), '2\n');
      } finally {
        client.close();
      }
      await remove(gw, a);
      await remove(gw, b);
    } finally {
      await gw.stop();
    }
  });

  test('least-connection: the host running the fewest kernels', async () => {
    const gw = await gateway(['--KernelGatewayApp.load_balancing_algorithm=least-connection']);
    try {
      const k1 = await start(gw);
      const k2 = await start(gw);
      const k3 = await start(gw);
      assert.deepEqual([await hostOf(gw, k1), await hostOf(gw, k2), await hostOf(gw, k3)], [ssh.hosts[0], ssh.hosts[1], ssh.hosts[0]]);
      await remove(gw, k1);
      await remove(gw, k3);
      // Round-robin would go to the second host now; the first runs none.
      const k4 = await start(gw);
      assert.equal(await hostOf(gw, k4), ssh.hosts[0]);
      await remove(gw, k2);
      await remove(gw, k4);
    } finally {
      await gw.stop();
    }
  });

  test('KERNEL_* values with shell metacharacters reach the kernel as data and run nothing', async () => {
    const gw = await gateway();
    const marks = [join(dirs.root, 'pwned-quote'), join(dirs.root, 'pwned-subst'), join(dirs.root, 'pwned-tick')];
    const env = { KERNEL_USERNAME: `x'; touch ${marks[0]}; echo '`, KERNEL_EXTRA: `$(touch ${marks[1]})`, KERNEL_TICK: `\`touch ${marks[2]}\` "; ls \\` };
    try {
      const id = await start(gw, env);
      const client = await RawKernelClient.connect(gw.url, id);
      try {
        const seen = JSON.parse(streamText(await client.execute("import os, json\nprint(json.dumps({k: os.environ.get(k) for k in ['KERNEL_USERNAME', 'KERNEL_EXTRA', 'KERNEL_TICK']}))"))) as Record<string, string>;
        assert.deepEqual(seen, env, 'the values arrive unchanged');
      } finally {
        client.close();
      }
      for (const m of marks) assert.equal(existsSync(m), false, `${m} was not created`);
      await remove(gw, id);
    } finally {
      await gw.stop();
    }
  });

  test('a host that is down is skipped with a warning; SIGTERM and culling leave nothing behind', async () => {
    const gw = await gateway(['--KernelGatewayApp.cull_idle_timeout=4', '--KernelGatewayApp.cull_interval=1']);
    const ids: string[] = [];
    try {
      await ssh.stopHost(ssh.hosts[0]!);
      for (let i = 0; i < 2; i++) ids.push(await start(gw));
      for (const id of ids) assert.equal(await hostOf(gw, id), ssh.hosts[1], 'all on the host that is up');
      assert.match(gw.logs(), new RegExp(`WARN.*SSH host ${ssh.hosts[0]!.replaceAll('.', '\\.')} cannot be reached`));
      assert.ok(await waitFor(async () => (await fetch(`${gw.url}/api/kernels/${ids[0]}`)).status === 404, 60_000, 500), 'culled');
      assert.ok(await waitFor(() => processesMentioning(ids[0]!).length === 0, 20_000, 200), 'nothing left of the culled kernel');
      ids.push(await start(gw));
    } finally {
      assert.equal(await gw.stop('SIGTERM'), 0);
    }
    for (const id of ids) assert.ok(await waitFor(() => processesMentioning(id).length === 0, 20_000, 200), `nothing left of ${id} after SIGTERM`);
  });
});
