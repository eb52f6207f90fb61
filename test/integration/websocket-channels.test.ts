// The Jupyter kernel protocol over /api/kernels/{id}/channels, driven by JupyterLab's own
// client library (@jupyterlab/services) against real kernels, in both websocket formats.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type * as Services from '@jupyterlab/services';
import type { Kernel, KernelMessage } from '@jupyterlab/services';
import { startGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { services, serverSettings } from '../helpers/jupyterlab-client.js';

let gw: GatewayProcess;

before(async () => {
  gw = await startGateway();
});
after(async () => {
  await gw.stop();
});

async function run(kernel: Kernel.IKernelConnection, code: string): Promise<{ reply: KernelMessage.IExecuteReplyMsg; iopub: KernelMessage.IIOPubMessage[] }> {
  const iopub: KernelMessage.IIOPubMessage[] = [];
  const future = kernel.requestExecute({ code });
  future.onIOPub = (msg) => void iopub.push(msg);
  const reply = (await future.done) as KernelMessage.IExecuteReplyMsg;
  return { reply, iopub };
}

function stdout(iopub: KernelMessage.IIOPubMessage[]): string {
  return iopub.filter((m) => m.header.msg_type === 'stream').map((m) => (m.content as { text: string }).text).join('');
}

for (const format of ['v1', 'json'] as const) {
  describe(`@jupyterlab/services with the ${format} websocket format`, () => {
    let manager: Services.KernelManager;
    let kernel: Kernel.IKernelConnection;

    before(async () => {
      manager = new services.KernelManager({ serverSettings: serverSettings(gw.url, format) });
      await manager.ready;
      kernel = await manager.startNew({ name: 'python3' });
    });
    after(async () => {
      await kernel.shutdown().catch(() => undefined);
      manager.dispose();
    });

    test('the subprotocol is the one asked for', async () => {
      await kernel.info;
      const ws = (kernel as unknown as { _ws: { protocol: string } })._ws;
      assert.equal(ws.protocol, format === 'v1' ? 'v1.kernel.websocket.jupyter.org' : '');
    });

    test('kernel_info and execute with stdout, execute_result and status flow', async () => {
      const info = await kernel.requestKernelInfo();
      assert.equal(info!.content.status, 'ok');
      const { reply, iopub } = await run(kernel, 'print("hello"); 6*7');
      assert.equal(reply.content.status, 'ok');
      assert.equal(stdout(iopub), 'hello\n');
      const result = iopub.find((m) => m.header.msg_type === 'execute_result');
      assert.deepEqual((result!.content as { data: unknown }).data, { 'text/plain': '42' });
      const states = iopub.filter((m) => m.header.msg_type === 'status').map((m) => (m.content as { execution_state: string }).execution_state);
      assert.deepEqual(states, ['busy', 'idle']);
    });

    test('stdin: input() is answered through the websocket', async () => {
      const future = kernel.requestExecute({ code: 'name = input("who? ")\nprint("hi", name)', allow_stdin: true });
      const out: string[] = [];
      future.onStdin = (msg) => {
        if (msg.header.msg_type === 'input_request') kernel.sendInputReply({ status: 'ok', value: 'ada' }, msg.header as KernelMessage.IHeader<'input_request'>);
      };
      future.onIOPub = (msg) => {
        if (msg.header.msg_type === 'stream') out.push((msg.content as { text: string }).text);
      };
      const reply = await future.done;
      assert.equal(reply!.content.status, 'ok');
      assert.equal(out.join(''), 'hi ada\n');
    });

    test('comms: open and message a kernel-side comm target', async () => {
      await run(kernel, [
        'def _target(comm, open_msg):',
        '    comm.send({"opened": open_msg["content"]["data"]})',
        '    @comm.on_msg',
        '    def _echo(msg):',
        '        comm.send({"echo": msg["content"]["data"]})',
        'get_ipython().kernel.comm_manager.register_target("gw_test", _target)',
      ].join('\n'));
      const comm = kernel.createComm('gw_test');
      const received: unknown[] = [];
      comm.onMsg = (msg) => void received.push(msg.content.data);
      await comm.open({ a: 1 }).done;
      await comm.send({ b: 2 }).done;
      const deadline = Date.now() + 5000;
      while (received.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(received, [{ opened: { a: 1 } }, { echo: { b: 2 } }]);
      comm.close();
    });

    test('interrupt stops a running time.sleep', async () => {
      const future = kernel.requestExecute({ code: 'import time; time.sleep(30)' });
      let busy = false;
      future.onIOPub = (msg) => {
        if (msg.header.msg_type === 'status' && (msg.content as { execution_state: string }).execution_state === 'busy') busy = true;
      };
      while (!busy) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 200));
      const t0 = Date.now();
      await kernel.interrupt();
      const reply = await future.done.catch((e: { content?: unknown }) => e);
      assert.ok(Date.now() - t0 < 10_000);
      assert.equal((reply as KernelMessage.IExecuteReplyMsg).content.status, 'error');
      assert.equal(((reply as KernelMessage.IExecuteReplyMsg).content as { ename: string }).ename, 'KeyboardInterrupt');
    });

    test('restart keeps the id, clears state, and the connection keeps working', async () => {
      await run(kernel, 'kept = 1');
      const id = kernel.id;
      await kernel.restart();
      assert.equal(kernel.id, id);
      const { reply, iopub } = await run(kernel, 'print("kept" in globals())');
      assert.equal(reply.content.status, 'ok');
      assert.equal(stdout(iopub), 'False\n');
    });
  });
}

test('xpython works through the websocket too', async () => {
  const manager = new services.KernelManager({ serverSettings: serverSettings(gw.url, 'v1') });
  await manager.ready;
  const kernel = await manager.startNew({ name: 'xpython' });
  try {
    const { reply, iopub } = await run(kernel, 'print(sum(range(10)))');
    assert.equal(reply.content.status, 'ok');
    assert.equal(stdout(iopub), '45\n');
  } finally {
    await kernel.shutdown();
    manager.dispose();
  }
});
