// notebook-http with the Swagger cell parser (and force_kernel_name over a notebook whose
// kernelspec does not exist), plus the start-up failures of the mode.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { startGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { tempDir, writeNotebook } from './notebook-http-fixtures.js';

const SPEC = {
  swagger: '2.0',
  info: { version: '1.0.0' },
  paths: {
    '/greet/{name}': { GET: { operationId: 'greet', parameters: [{ name: 'name', in: 'path', required: true, type: 'string' }, { name: 'shout', in: 'query', type: 'string' }] } },
    '/items': { post: { operationId: 'addItem', summary: 'Adds an item' }, get: { operationId: 'listItems' } },
  },
};

let gw: GatewayProcess;
let dir: string;

before(async () => {
  dir = tempDir('kg-nbhttp-swagger');
  const nb = writeNotebook(
    dir,
    'shop.ipynb',
    [
      { markdown: 'The API:\n```json\n' + JSON.stringify(SPEC, null, 1) + '\n```\n' },
      'import json\nitems = []',
      "# operationId: greet\nreq = json.loads(REQUEST)\nname = req['path']['name']\nprint(('HELLO ' + name.upper()) if req['args'].get('shout') else 'hello ' + name)",
      "# ResponseInfo operationId: greet\nprint(json.dumps({'status': 202, 'headers': {'X-Greeted': name}}))",
      "# operationId: addItem\nitems.append(json.loads(REQUEST)['body'])\nprint(json.dumps(items))",
      '# operationId: listItems\nprint(json.dumps(items))',
    ],
    { kernelspec: { name: 'no-such-kernel', language: 'python', display_name: 'gone' } },
  );
  gw = await startGateway([
    '--KernelGatewayApp.api=notebook-http',
    `--KernelGatewayApp.seed_uri=${nb}`,
    '--KernelGatewayApp.force_kernel_name=python3',
    '--NotebookHTTPPersonality.cell_parser=kernel_gateway.notebook_http.swagger.parser',
  ]);
});

after(async () => {
  await gw?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('swagger cell parser', () => {
  test('operations answer at their declared paths, whatever the case of the verb, with ResponseInfo applied', async () => {
    const res = await fetch(`${gw.url}/greet/ada?shout=1`);
    assert.equal(res.status, 202);
    assert.equal(res.headers.get('x-greeted'), 'ada');
    assert.equal(await res.text(), 'HELLO ADA\n');
    assert.equal(await (await fetch(`${gw.url}/greet/bob`)).text(), 'hello bob\n');
  });

  test('POST and GET of one path, 405 for others, 404 for undeclared paths', async () => {
    const add = await fetch(`${gw.url}/items`, { method: 'POST', body: '{"sku": 1}', headers: { 'Content-Type': 'application/json' } });
    assert.equal(add.status, 200);
    assert.deepEqual(await add.json(), [{ sku: 1 }]);
    assert.deepEqual(await (await fetch(`${gw.url}/items`)).json(), [{ sku: 1 }]);
    assert.equal((await fetch(`${gw.url}/items`, { method: 'DELETE' })).status, 405);
    assert.equal((await fetch(`${gw.url}/nothing`)).status, 404);
  });

  test('swagger.json is the notebook\'s document, titled after the notebook, verbs lower-case', async () => {
    const spec = await (await fetch(`${gw.url}/_api/spec/swagger.json`)).json();
    assert.deepEqual(spec.info, { version: '1.0.0', title: 'shop' });
    assert.deepEqual(Object.keys(spec.paths['/greet/{name}']), ['get']);
    assert.equal(spec.paths['/items'].post.summary, 'Adds an item');
  });
});

describe('start-up failures', () => {
  const fails = async (args: string[]): Promise<string> => {
    const err = await startGateway(['--KernelGatewayApp.api=notebook-http', ...args], {}, 60_000).then(
      async (g) => {
        await g.stop();
        assert.fail('the gateway started');
      },
      (e: Error) => e.message,
    );
    assert.match(err, /gateway exited \([1-9]\d*\) before listening/);
    return err;
  };

  test('no seed_uri: a clear message and a non-zero exit', async () => {
    assert.match(await fails([]), /seed_uri/);
  });

  test('a notebook without annotated cells', async () => {
    const nb = writeNotebook(dir, 'plain.ipynb', ['x = 1', '# just a comment']);
    assert.match(await fails([`--KernelGatewayApp.seed_uri=${nb}`]), /No endpoints were discovered/);
  });

  test('an unknown cell_parser', async () => {
    const nb = writeNotebook(dir, 'ok.ipynb', ['# GET /x\nprint(1)']);
    assert.match(await fails([`--KernelGatewayApp.seed_uri=${nb}`, '--NotebookHTTPPersonality.cell_parser=nope']), /cell_parser/);
  });
});
