// The kernel-gateway command itself, run as a process: --help-all, --version, --generate-config
// (-y), --show-config, and bad options or settings stopping start-up with one clear line and a
// non-zero exit before any kernel starts.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OPTIONS, optionId } from '../../src/cli/options.js';
import { jupyterDirs, launchGateway, runCommand, writeNotebook } from '../server/gateway-fixtures.js';

const dirs = jupyterDirs();
after(() => dirs.cleanup());

/** The one line a refused start-up prints (log prefix and timestamp removed). */
function errorLine(stderr: string): string {
  const lines = stderr.trim().split('\n').filter((l) => !/ (INFO|DEBUG) /.test(l));
  assert.equal(lines.length, 1, `one error line, got:\n${stderr}`);
  return lines[0]!.replace(/^\[KernelGateway\] \S+ \S+ ERROR /, '');
}

describe('informational commands', () => {
  test('--help-all lists every option; --help the aliases; --version the version', async () => {
    const all = await runCommand(['--help-all'], dirs.env);
    assert.equal(all.code, 0);
    for (const spec of OPTIONS) assert.ok(all.stdout.includes(`--${optionId(spec)}=<`), optionId(spec));
    const help = await runCommand(['--help'], dirs.env);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--port=<Int> \(KernelGatewayApp\.port\)\n {4}Default: 8888/);
    const version = await runCommand(['--version'], dirs.env);
    assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
  });

  test('--generate-config writes the template into JUPYTER_CONFIG_DIR, refuses to overwrite without -y', async () => {
    const env = { ...dirs.env, JUPYTER_CONFIG_DIR: join(dirs.root, 'generated') };
    const path = join(env.JUPYTER_CONFIG_DIR!, 'jupyter_kernel_gateway_config.json');
    const first = await runCommand(['--generate-config'], env);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout.trim(), `Writing default config to: ${path}`);
    const template = readFileSync(path, 'utf8');
    assert.match(template, /^\/\/ /);
    assert.match(template, /\/\/ "port": 8888,/);
    writeFileSync(path, template.replace('// "port": 8888,', '"port": 8999,'));
    const again = await runCommand(['--generate-config'], env);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /exists and was left as it is; pass -y to overwrite it/);
    assert.match(readFileSync(path, 'utf8'), /"port": 8999,/);
    const shown = await runCommand(['--show-config'], env);
    assert.match(shown.stdout, /\.port = 8999 {2}# from config file .*jupyter_kernel_gateway_config\.json/);
    const forced = await runCommand(['--generate-config', '-y'], env);
    assert.equal(forced.code, 0);
    assert.equal(readFileSync(path, 'utf8'), template);
  });

  test('--show-config-json shows the effective settings, token masked', async () => {
    const res = await runCommand(['--show-config-json', '--KernelGatewayApp.auth_token=s3cret', '--port_retries=3'], { ...dirs.env, KG_MAX_KERNELS: '5' });
    assert.equal(res.code, 0, res.stderr);
    const shown = JSON.parse(res.stdout);
    assert.equal(shown.KernelGatewayApp.port_retries, 3);
    assert.equal(shown.KernelGatewayApp.max_kernels, 5);
    assert.equal(shown.KernelGatewayApp.auth_token, '[secret]');
    assert.ok(!res.stdout.includes('s3cret'));
  });
});

describe('options the gateway does not know', () => {
  test('an unknown option (a typo, or another app\'s) is a warning with a suggestion, and the gateway starts', async () => {
    const gw = await launchGateway(['--port=0', '--KernelGatewayApp.porrt=1', '--ServerApp.token', 'abc', '--KernelGatewayApp.kernel_manager_class=my.Manager'], dirs.env);
    try {
      assert.equal((await fetch(`${gw.url}/api`)).status, 200);
      assert.match(gw.logs(), /WARNING Ignoring unknown option --KernelGatewayApp\.porrt; did you mean --KernelGatewayApp\.port\?/);
      assert.match(gw.logs(), /WARNING Ignoring unknown option --ServerApp\.token/);
      assert.match(gw.logs(), /WARNING KernelGatewayApp\.kernel_manager_class=my\.Manager has no effect here/);
    } finally {
      await gw.stop();
    }
  });
});

describe('refused start-ups', () => {
  test('bad option and env values: exit 2, one line naming the option', async () => {
    const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
      [['--port=abc'], {}, /^kernel-gateway: KernelGatewayApp\.port: expected an integer, got 'abc'$/],
      [['--port=1', '--port', '2'], {}, /^kernel-gateway: Option KernelGatewayApp\.port was given more than once/],
      [[], { KG_MAX_KERNELS: 'many' }, /^kernel-gateway: KG_MAX_KERNELS: KernelGatewayApp\.max_kernels: expected an integer \(or None\), got 'many'$/],
      [['--config=/no/such/file.json'], {}, /^kernel-gateway: Config file \/no\/such\/file\.json does not exist$/],
    ];
    const results = await Promise.all(cases.map(([args, env]) => runCommand(args, { ...dirs.env, ...env })));
    for (const [i, [args, , pattern]] of cases.entries()) {
      const res = results[i]!;
      assert.equal(res.code, 2, `${args.join(' ')}: ${res.stderr}`);
      assert.match(res.stderr.trim(), pattern);
      assert.equal(res.stderr.trim().split('\n').length, 1);
    }
  });

  test('settings that cannot work: exit 1 with one error line, no kernel started', async () => {
    const nbDir = join(dirs.root, 'notebooks');
    mkdirSync(nbDir, { recursive: true });
    const cases: [string[], RegExp][] = [
      [['--api=no_such_personality_module'], /^API module no_such_personality_module not found/],
      [['--api=./no/such/file.js'], /^API module \.\/no\/such\/file\.js not found/],
      [['--KernelGatewayApp.prespawn_count=3', '--KernelGatewayApp.max_kernels=2'], /^Cannot prespawn 3 kernels; more than max_kernels 2$/],
      [['--seed_uri=/no/such/notebook.ipynb'], /^Could not read notebook \/no\/such\/notebook\.ipynb: ENOENT$/],
      [[`--seed_uri=${writeNotebook(nbDir, 'unknown-kernel.ipynb', 'no-such-kernel', ['x = 1'])}`], /^No such kernel named no-such-kernel/],
      [['--certfile=/no/such/cert.pem'], /^Could not read the certfile \/no\/such\/cert\.pem: ENOENT$/],
      [['--keyfile=/some/key.pem'], /^TLS needs certfile/],
    ];
    const results = await Promise.all(cases.map(([args]) => runCommand(['--port=0', ...args], dirs.env)));
    for (const [i, [args, pattern]] of cases.entries()) {
      const res = results[i]!;
      assert.equal(res.code, 1, `${args.join(' ')}: ${res.stderr}`);
      assert.match(errorLine(res.stderr), pattern, args.join(' '));
    }
    const runtime = dirs.env.JUPYTER_RUNTIME_DIR!;
    assert.deepEqual(existsSync(runtime) ? readdirSync(runtime).filter((f) => f.startsWith('kernel-')) : [], [], 'no kernel was started');
  });
});
