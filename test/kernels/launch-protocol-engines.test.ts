// Proof of feasibility on real engines: Enterprise Gateway's unmodified launchers started in a
// Docker container (its bootstrap-kernel.sh as the image's CMD), as a one-replica swarm service,
// and over SSH on sshd's started here, each reporting back through our ResponseListener and
// driven over our ZeroMQ channels and its comm_port. Nothing is left behind. Skips (saying why)
// only where dockerd, the swarm or sshd cannot run; scripts/ci/engines.sh sets them up.
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { listenerGone, shutdownLauncher, signalKernel } from '../../src/kernels/launch-protocol/comm-port.js';
import { ResponseListener, type ExpectedLaunch, type LaunchResponse } from '../../src/kernels/launch-protocol/response-listener.js';
import type { Logger } from '../../src/kernels/logger.js';
import { DirectKernelClient } from '../helpers/direct-kernel-client.js';
import { distributedKernelArgv } from '../helpers/eg-launcher.js';
import { buildKernelImage, docker, dockerUnavailable, kernelImageServiceMounts, kernelImageVolumes, launcherUnavailable, sshUnavailable, startSshHosts, swarmUnavailable, type SshHosts } from '../helpers/engines.js';

const log: Logger = { debug: () => undefined, info: () => undefined, warn: (m) => console.warn(m), error: (m) => console.error(m) };
const noLauncher = await launcherUnavailable();
const noDocker = noLauncher ?? (await dockerUnavailable());
const noSwarm = noLauncher ?? (await swarmUnavailable());
const noSsh = noLauncher ?? (await sshUnavailable());

/** What the kernel sees of where it runs. */
const WHERE = "import os, json; print(json.dumps({'dockerenv': os.path.exists('/.dockerenv'), 'pidns': os.readlink('/proc/self/ns/pid'), 'pid': os.getpid(), 'ssh': os.environ.get('SSH_CONNECTION', '')}))";

interface Where {
  dockerenv: boolean;
  pidns: string;
  pid: number;
  ssh: string;
}

async function where(client: DirectKernelClient): Promise<Where> {
  const id = await client.startExecute(WHERE);
  const out = await client.waitFor((r) => r.channel === 'iopub' && r.msg.msgType === 'stream' && r.msg.parentMsgId === id, 30_000, 'the where output');
  return JSON.parse(String(out.msg.contentJson().text)) as Where;
}

/** Launch env as Enterprise Gateway's launch_docker.py passes it. */
function launchEnv(kernelId: string, expected: ExpectedLaunch): string[] {
  return ['-e', `KERNEL_ID=${kernelId}`, '-e', `RESPONSE_ADDRESS=${expected.responseAddress}`, '-e', `PUBLIC_KEY=${expected.publicKey}`, '-e', 'PORT_RANGE=0..0', '-e', 'KERNEL_LANGUAGE=python', '-e', 'LOG_LEVEL=INFO'];
}

async function untilTrue(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Interrupt through comm_port, then Enterprise Gateway's shutdown order. */
async function interruptAndShutDown(client: DirectKernelClient, response: LaunchResponse): Promise<void> {
  const comm = { host: response.host, port: response.commPort };
  // ipykernel ignores SIGINT until the code runs: interrupt once it has printed.
  const sleeping = await client.startExecute("import time; print('sleeping', flush=True); time.sleep(120)");
  await client.waitFor((r) => r.channel === 'iopub' && r.msg.msgType === 'stream' && r.msg.parentMsgId === sleeping, 30_000, 'the sleeping output');
  await signalKernel(comm, 2);
  const reply = await client.waitFor((r) => r.channel === 'shell' && r.msg.msgType === 'execute_reply' && r.msg.parentMsgId === sleeping, 30_000, 'the interrupted reply');
  assert.equal(reply.msg.contentJson().ename, 'KeyboardInterrupt');
  await client.shutdownRequest();
  client.close();
  await shutdownLauncher(comm).catch((err: unknown) => assert.ok(listenerGone(err), String(err)));
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

describe('the launcher on real engines', () => {
  const listener = new ResponseListener({ ip: '127.0.0.1', port: 0, log });
  const clients: DirectKernelClient[] = [];
  before(() => listener.start());
  after(async () => {
    for (const c of clients) c.close();
    await listener.close();
  });

  async function awaitKernel(expected: ExpectedLaunch, logs: () => Promise<string> | string): Promise<{ response: LaunchResponse; client: DirectKernelClient }> {
    const response = await expected.response.catch(async (err: Error) => {
      throw new Error(`${err.message}\nlauncher output:\n${await logs()}`);
    });
    const client = new DirectKernelClient(response.connection);
    clients.push(client);
    await client.ready();
    return { response, client };
  }

  describe('docker', { skip: noDocker }, () => {
    let image = '';
    const label = `kg-test-run=${randomUUID()}`;
    before(async () => {
      image = await buildKernelImage();
    });
    after(async () => {
      const left = await docker(['ps', '-aq', '--filter', `label=${label}`]);
      if (left) await docker(['rm', '-f', ...left.split('\n')]);
    });

    test('a container runs the kernel: /.dockerenv, its own PID namespace, interrupt, shutdown, nothing left', async (t: TestContext) => {
      const kernelId = randomUUID();
      const expected = await listener.expect(kernelId, 60_000);
      const started = Date.now();
      const name = `kg-test-${kernelId}`;
      await docker(['run', '-d', '--name', name, '--label', label, '--label', `kernel_id=${kernelId}`, '--network', 'host', ...kernelImageVolumes(), ...launchEnv(kernelId, expected), image]);
      const { response, client } = await awaitKernel(expected, () => docker(['logs', name]).catch((e: Error) => e.message));
      t.diagnostic(`docker run to a kernel answering kernel_info: ${seconds(Date.now() - started)}`);

      const seen = await where(client);
      assert.equal(seen.dockerenv, true, 'inside a container');
      assert.notEqual(seen.pidns, readlinkSync('/proc/self/ns/pid'), 'its own PID namespace');
      assert.equal(seen.pid, response.pid, 'the launcher reports its pid inside the container');
      assert.equal((await client.execute('1+1')).result, '2');

      await interruptAndShutDown(client, response);
      await untilTrue('the container exits', async () => (await docker(['inspect', '--format', '{{.State.Running}}', name])) === 'false');
      await docker(['rm', name]);
      assert.equal(await docker(['ps', '-aq', '--filter', `label=kernel_id=${kernelId}`]), '');
    });
  });

  describe('docker swarm', { skip: noSwarm }, () => {
    let image = '';
    const label = `kg-test-run=${randomUUID()}`;
    before(async () => {
      image = await buildKernelImage();
    });
    after(async () => {
      const left = await docker(['service', 'ls', '-q', '--filter', `label=${label}`]);
      if (left) await docker(['service', 'rm', ...left.split('\n')]);
    });

    test('a one-replica service runs the kernel; removing it leaves no task container', async (t: TestContext) => {
      const kernelId = randomUUID();
      const expected = await listener.expect(kernelId, 90_000);
      const started = Date.now();
      const name = `kg-test-${kernelId}`;
      await docker(['service', 'create', '-d', '--no-resolve-image', '--name', name, '--label', label, '--label', `kernel_id=${kernelId}`, '--container-label', `kernel_id=${kernelId}`, '--restart-condition', 'none', '--replicas', '1', '--network', 'host', ...kernelImageServiceMounts(), ...launchEnv(kernelId, expected), image]);
      const { response, client } = await awaitKernel(expected, () => docker(['service', 'ps', '--no-trunc', name]).catch((e: Error) => e.message));
      t.diagnostic(`docker service create to a kernel answering kernel_info: ${seconds(Date.now() - started)}`);

      const seen = await where(client);
      assert.equal(seen.dockerenv, true, 'inside a container');
      assert.notEqual(seen.pidns, readlinkSync('/proc/self/ns/pid'), 'its own PID namespace');
      const task = await docker(['ps', '-q', '--filter', `label=kernel_id=${kernelId}`]);
      assert.notEqual(task, '', 'the task container carries the kernel id');
      assert.equal((await client.execute('1+1')).result, '2');

      await interruptAndShutDown(client, response);
      await docker(['service', 'rm', name]);
      await untilTrue('the task container is gone', async () => (await docker(['ps', '-aq', '--filter', `label=kernel_id=${kernelId}`])) === '');
      assert.equal(await docker(['service', 'ls', '-q', '--filter', `label=kernel_id=${kernelId}`]), '');
    });
  });

  describe('ssh hosts', { skip: noSsh }, () => {
    let ssh: SshHosts;
    before(async () => {
      ssh = await startSshHosts(2);
    });
    after(() => ssh?.stop());

    /** Processes on this machine whose command line names `kernelId`. */
    const processesOf = (kernelId: string): number[] =>
      readdirSync('/proc')
        .filter((p) => /^\d+$/.test(p))
        .filter((p) => {
          try {
            return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(kernelId);
          } catch {
            return false;
          }
        })
        .map(Number)
        .filter((p) => p !== process.pid);

    const quote = (arg: string): string => `'${arg.replace(/'/g, `'\\''`)}'`;

    test('the distributed kernelspec runs on each host in turn over ssh; nothing is left after shutdown', async (t: TestContext) => {
      for (const host of ssh.hosts) {
        const kernelId = randomUUID();
        const expected = await listener.expect(kernelId, 60_000);
        const started = Date.now();
        const argv = distributedKernelArgv({ kernelId, responseAddress: expected.responseAddress, publicKey: expected.publicKey });
        const child = spawn('ssh', [...ssh.sshArgs(host), argv.map(quote).join(' ')], { stdio: ['ignore', 'pipe', 'pipe'] });
        let output = '';
        child.stdout.on('data', (c: Buffer) => (output += c.toString()));
        child.stderr.on('data', (c: Buffer) => (output += c.toString()));
        const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
        try {
          const { response, client } = await awaitKernel(expected, () => output);
          t.diagnostic(`ssh ${host} to a kernel answering kernel_info: ${seconds(Date.now() - started)}`);
          const seen = await where(client);
          assert.equal(seen.ssh.split(' ')[2], host, `started through the sshd on ${host}`);
          assert.equal((await client.execute('1+1')).result, '2');
          await interruptAndShutDown(client, response);
          assert.equal(await exited, 0, `the remote command ended: ${output}`);
          await untilTrue(`no process of kernel ${kernelId} is left`, () => processesOf(kernelId).length === 0);
        } finally {
          child.kill('SIGKILL');
          // Without a pty, a killed ssh client leaves the remote command running: end it here.
          for (const pid of processesOf(kernelId)) process.kill(pid, 'SIGKILL');
        }
      }
    });
  });
});
