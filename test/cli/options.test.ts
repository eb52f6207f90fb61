// The option table and its loader: every form the original's command line, KG_* env vars and
// config files take, their precedence, and a clear refusal of anything else.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_FILE_NAME, loadConfig, parseArgv, parseConfigText } from '../../src/cli/config-loader.js';
import { configTemplate, helpText } from '../../src/cli/help.js';

import { OPTIONS, defaultValue, optionId, type OptionSpec } from '../../src/cli/options.js';
import { defaultConfig } from '../../src/cli/options.js';
import { jupyterDirs } from '../server/gateway-fixtures.js';
import { OptionError } from '../../src/errors.js';

const dirs = jupyterDirs();
after(() => dirs.cleanup());

/** Env with private config dirs (no config file unless a test writes one). */
function envWith(extra: NodeJS.ProcessEnv = {}, configDir = join(dirs.root, `none-${Math.random()}`)): NodeJS.ProcessEnv {
  return { JUPYTER_CONFIG_DIR: configDir, JUPYTER_CONFIG_PATH: join(dirs.root, 'nothing'), ...extra };
}

const load = (argv: string[], env: NodeJS.ProcessEnv = envWith()) => loadConfig(argv, env);
const app = (argv: string[], env?: NodeJS.ProcessEnv) => load(argv, env).config.KernelGatewayApp;

function refused(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof OptionError, `an OptionError, got ${String(err)}`);
    assert.match(err.message, pattern);
    assert.doesNotMatch(err.message, /\n/, 'one line');
    return true;
  });
}

describe('command-line forms', () => {
  test('--Section.name=value and --Section.name value', () => {
    assert.equal(app(['--KernelGatewayApp.port=9001']).port, 9001);
    assert.equal(app(['--KernelGatewayApp.port', '9002']).port, 9002);
    assert.equal(app(['--KernelGatewayApp.ip', '0.0.0.0']).ip, '0.0.0.0');
  });

  test("the original's aliases, with either - or _", () => {
    const cases: [string, string, string, unknown][] = [
      ['ip', '10.0.0.1', 'ip', '10.0.0.1'],
      ['port', '9003', 'port', 9003],
      ['port_retries', '3', 'port_retries', 3],
      ['port-retries', '4', 'port_retries', 4],
      ['api', 'notebook-http', 'api', 'notebook-http'],
      ['seed_uri', '/nb.ipynb', 'seed_uri', '/nb.ipynb'],
      ['keyfile', '/k.pem', 'keyfile', '/k.pem'],
      ['certfile', '/c.pem', 'certfile', '/c.pem'],
      ['client-ca', '/ca.pem', 'client_ca', '/ca.pem'],
      ['client_ca', '/ca2.pem', 'client_ca', '/ca2.pem'],
      ['ssl_version', '5', 'ssl_version', 5],
      ['log-level', 'debug', 'log_level', 'DEBUG'],
      ['log_level', '40', 'log_level', '40'],
    ];
    for (const [alias, value, name, expected] of cases) {
      assert.deepEqual((app([`--${alias}=${value}`]) as unknown as Record<string, unknown>)[name], expected, `--${alias}=${value}`);
      assert.deepEqual((app([`--${alias}`, value]) as unknown as Record<string, unknown>)[name], expected, `--${alias} ${value}`);
    }
  });

  test('flags: --debug, --generate-config, -y, --show-config, --help-all; `kernelgateway` subcommand skipped', () => {
    assert.equal(app(['--debug']).log_level, 'DEBUG');
    const { actions } = parseArgv(['kernelgateway', '--generate-config', '-y', '--show-config', '--help-all', '--version']);
    assert.deepEqual(actions, { help: false, helpAll: true, version: true, generateConfig: true, answerYes: true, showConfig: true, showConfigJson: false });
    assert.equal(parseArgv(['--KernelGatewayApp.answer_yes=True']).actions.answerYes, true);
    refused(() => parseArgv(['--debug=True']), /--debug takes no value/);
  });

  test('booleans: True/False in any case, 1/0, and a bare flag meaning True', () => {
    const list = (argv: string[]) => load(argv).config.JupyterWebsocketPersonality.list_kernels;
    assert.equal(list(['--JupyterWebsocketPersonality.list_kernels=True']), true);
    assert.equal(list(['--JupyterWebsocketPersonality.list_kernels=false']), false);
    assert.equal(list(['--JupyterWebsocketPersonality.list_kernels', '1']), true);
    assert.equal(list(['--JupyterWebsocketPersonality.list_kernels']), true);
    assert.equal(list(['--JupyterWebsocketPersonality.list_kernels', '--port=1']), true);
    refused(() => load(['--JupyterWebsocketPersonality.list_kernels=maybe']), /JupyterWebsocketPersonality\.list_kernels: expected True or False, got 'maybe'/);
  });

  test("lists: the option repeated, ['A','B'], or A,B; the command line replaces the env's list", () => {
    const procList = (argv: string[], env?: NodeJS.ProcessEnv) => load(argv, env).config.KernelGatewayApp.env_process_whitelist;
    assert.deepEqual(procList(['--KernelGatewayApp.env_process_whitelist=PATH', '--KernelGatewayApp.env_process_whitelist=HOME']), ['PATH', 'HOME']);
    assert.deepEqual(procList(["--KernelGatewayApp.env_process_whitelist=['A','B']"]), ['A', 'B']);
    assert.deepEqual(procList(['--KernelGatewayApp.env_process_whitelist', '["A", "B",]']), ['A', 'B']);
    assert.deepEqual(procList(['--KernelGatewayApp.env_process_whitelist=A,B']), ['A', 'B']);
    assert.deepEqual(procList([], envWith({ KG_ENV_PROCESS_WHITELIST: 'X,Y' })), ['X', 'Y']);
    assert.deepEqual(procList(['--KernelGatewayApp.env_process_whitelist=Z'], envWith({ KG_ENV_PROCESS_WHITELIST: 'X,Y' })), ['Z']);
    const ws = load(['--JupyterWebsocketPersonality.env_whitelist=A', "--JupyterWebsocketPersonality.env_whitelist=['B','C']"]).config.JupyterWebsocketPersonality;
    assert.deepEqual(ws.env_whitelist, ['A', 'B', 'C']);
    refused(() => load(["--KernelGatewayApp.env_process_whitelist=['A',"]), /env_process_whitelist: expected a list such as \['A','B'\]/);
    refused(() => load(['--KernelGatewayApp.env_process_whitelist=[1,2]']), /expected a list of strings/);
  });

  test("dicts: {'scala': '//'} with None keys, or key=value repeated", () => {
    const prefix = (argv: string[]) => load(argv).config.NotebookHTTPPersonality.comment_prefix;
    assert.deepEqual(prefix(["--NotebookHTTPPersonality.comment_prefix={None: '#', 'scala': '//'}"]), { '': '#', scala: '//' });
    assert.deepEqual(prefix(['--NotebookHTTPPersonality.comment_prefix', 'r=#', '--NotebookHTTPPersonality.comment_prefix=julia=#']), { r: '#', julia: '#' });
    refused(() => load(['--NotebookHTTPPersonality.comment_prefix=nothing']), /comment_prefix: expected a dict/);
  });

  test("warm_pool: name=count repeated or comma-separated, {'python3': 2}, KG_WARM_POOL, a JSON object of counts", () => {
    assert.deepEqual(app(['--KernelGatewayApp.warm_pool=python3=2', '--KernelGatewayApp.warm_pool=xpython=1']).warm_pool, { python3: 2, xpython: 1 });
    assert.deepEqual(app(["--KernelGatewayApp.warm_pool={'python3': 2, 'xpython': '1'}"]).warm_pool, { python3: 2, xpython: 1 });
    assert.deepEqual(app([], envWith({ KG_WARM_POOL: 'python3=2,xpython=1' })).warm_pool, { python3: 2, xpython: 1 });
    assert.deepEqual(app(['--KernelGatewayApp.warm_pool=python3=3'], envWith({ KG_WARM_POOL: 'xpython=1' })).warm_pool, { python3: 3 }, 'the command line replaces the env');
    assert.deepEqual(app([]).warm_pool, {});
    assert.deepEqual(app([]).warm_pool_ignored_env, ['KERNEL_USERNAME', 'KERNEL_WORKING_DIR', 'KERNEL_LAUNCH_TIMEOUT']);
    assert.deepEqual(app([], envWith({ KG_WARM_POOL_IGNORED_ENV: 'KERNEL_WORKING_DIR' })).warm_pool_ignored_env, ['KERNEL_WORKING_DIR']);
    refused(() => load(['--KernelGatewayApp.warm_pool=python3']), /warm_pool: expected entries such as python3=2/);
    refused(() => load(['--KernelGatewayApp.warm_pool=python3=-1']), /warm_pool: expected entries such as python3=2/);
    refused(() => load(["--KernelGatewayApp.warm_pool={'python3': 'two'}"]), /warm_pool: expected a dict of counts/);
    assert.match(helpText(true), /--KernelGatewayApp\.warm_pool=<Dict>\n    Default: \{\}/);
  });

  test('a scalar given twice is an error, also through an alias; empty values mean None where allowed', () => {
    refused(() => parseArgv(['--port=1', '--port=2']), /KernelGatewayApp\.port was given more than once/);
    refused(() => parseArgv(['--port=1', '--KernelGatewayApp.port', '2']), /KernelGatewayApp\.port was given more than once/);
    refused(() => parseArgv(['--config=a.json', '--KernelGatewayApp.config_file=b.json']), /config_file was given more than once/);
    assert.equal(app(['--KernelGatewayApp.seed_uri=']).seed_uri, null);
    assert.equal(app(['--KernelGatewayApp.max_kernels=None']).max_kernels, null);
  });

  test('unknown and unsupported options are warnings naming the closest option; malformed ones are refused', () => {
    const warned = (args: string[]): string[] => parseArgv(args).warnings;
    assert.deepEqual(warned(['--KernelGatewayApp.prot=1']), ['Ignoring unknown option --KernelGatewayApp.prot; did you mean --KernelGatewayApp.port?']);
    assert.match(warned(['--NotebookApp.port=1'])[0]!, /kernel-gateway has no NotebookApp settings; did you mean --KernelGatewayApp\.port\?/);
    assert.match(warned(['--ServerApp.token', 'abc'])[0]!, /Ignoring unknown option --ServerApp\.token/);
    assert.match(warned(['--bogus'])[0]!, /Ignoring unknown option --bogus \(see --help-all/);
    assert.match(warned(['--KernelGatewayApp.log_datefmt=%H'])[0]!, /no effect here/);
    // The unknown option's value goes with it; the known options around it still apply.
    const parsed = parseArgv(['--ServerApp.token', 'abc', '--port=9000']);
    assert.equal(parsed.warnings.length, 1);
    assert.deepEqual(parsed.settings.map((s) => s.text), ['9000']);
    assert.equal(load(['--KernelGatewayApp.prot=1', '--port=9000']).config.KernelGatewayApp.port, 9000);
    refused(() => parseArgv(['8888']), /Unexpected argument '8888'/);
    refused(() => parseArgv(['--port']), /--port needs a value/);
    refused(() => parseArgv(['--port', '--ip=1.2.3.4']), /--port needs a value/);
  });

  test("Kernel Gateway 3.0's class options: defaults silent, other values a warning", () => {
    const defaults = [
      '--KernelGatewayApp.kernel_manager_class=kernel_gateway.services.kernels.manager.SeedingMappingKernelManager',
      '--KernelGatewayApp.kernel_spec_manager_class=jupyter_client.kernelspec.KernelSpecManager',
      '--KernelGatewayApp.kernel_websocket_connection_class=jupyter_server.services.kernels.connection.channels.ZMQChannelsWebsocketConnection',
      '--KernelGatewayApp.authorizer_class=jupyter_server.auth.authorizer.AllowAllAuthorizer',
      '--KernelGatewayApp.identity_provider_class=kernel_gateway.auth.identity.GatewayIdentityProvider',
      '--KernelGatewayApp.cookie_secret_file=/run/user/0/jupyter/jupyter_cookie_secret',
      '--KernelGatewayApp.ws_ping_interval=10',
    ];
    assert.deepEqual(load(defaults).warnings.filter((w) => !/config/.test(w)), []);
    const custom = load(['--KernelGatewayApp.kernel_manager_class=my.Manager', '--KernelGatewayApp.authorizer_class=my.Authorizer']).warnings;
    assert.ok(custom.some((w) => /kernel_manager_class=my\.Manager has no effect here/.test(w)), custom.join('\n'));
    assert.ok(custom.some((w) => /authorizer_class=my\.Authorizer has no effect here/.test(w)));
  });

  test('bad values name the option and what was expected', () => {
    refused(() => load(['--port=abc']), /^KernelGatewayApp\.port: expected an integer, got 'abc'$/);
    refused(() => load(['--port=70000']), /KernelGatewayApp\.port: expected a port number from 0 to 65535, got '70000'/);
    refused(() => load(['--port_retries=-1']), /port_retries: expected a value of at least 0/);
    refused(() => load(['--KernelGatewayApp.max_kernels=2.5']), /max_kernels: expected an integer/);
    refused(() => load(['--KernelGatewayApp.prespawn_count=-2']), /prespawn_count: expected a value of at least 0/);
    refused(() => load(['--log-level=LOUD']), /log_level: expected one of 0, 10, 20, 30, 40, 50, DEBUG/);
    refused(() => load(['--ssl_version=9']), /ssl_version: expected one of Python's ssl.PROTOCOL_\* numbers/);
    refused(() => load(['--KernelGatewayApp.kernel_launch_timeout=0']), /kernel_launch_timeout: expected a number greater than 0/);
  });

  test("older names and Jupyter base classes' names reach the same options", () => {
    assert.equal(load(['--KernelGatewayApp.list_kernels=True']).config.JupyterWebsocketPersonality.list_kernels, true);
    assert.equal(load(['--KernelGatewayApp.allow_notebook_download=True']).config.NotebookHTTPPersonality.allow_notebook_download, true);
    assert.equal(app(['--MappingKernelManager.cull_idle_timeout=600']).cull_idle_timeout, 600);
    assert.equal(app(['--Application.log_level=ERROR']).log_level, 'ERROR');
    refused(() => parseArgv(['--KernelGatewayApp.list_kernels=True', '--JupyterWebsocketPersonality.list_kernels=False']), /list_kernels was given more than once/);
  });
});

/** A text and the value it must give, per option type. */
function sample(spec: OptionSpec): [string, unknown] {
  if (spec.choices) return [spec.choices.at(-1)!.toLowerCase(), spec.choices.at(-1)!];
  if (spec.name === 'ssl_version') return ['5', 5];
  if (spec.name === 'port') return ['4321', 4321];
  if (spec.name === 'port_range') return ['9000..10000', '9000..10000'];
  switch (spec.type) {
    case 'string':
    case 'nullable-string':
      return [`value-of-${spec.name}`, `value-of-${spec.name}`];
    case 'int':
    case 'nullable-int':
      return ['7', 7];
    case 'number':
      return ['2.5', 2.5];
    case 'bool':
      return ['True', true];
    case 'list':
      return ['A,B', ['A', 'B']];
    case 'dict':
      return ['k=v', { k: 'v' }];
    case 'count-dict':
      return ['python3=2,xpython=1', { python3: 2, xpython: 1 }];
  }
}

const valueOf = (config: ReturnType<typeof defaultConfig>, spec: OptionSpec): unknown => (config[spec.section] as unknown as Record<string, unknown>)[spec.name];

describe('KG_* env vars and precedence', () => {
  test('every option with an env var reads it', () => {
    const env: NodeJS.ProcessEnv = envWith();
    for (const spec of OPTIONS) if (spec.env) env[spec.env] = sample(spec)[0];
    const { config, sources } = load([], env);
    for (const spec of OPTIONS.filter((o) => o.env)) {
      assert.deepEqual(valueOf(config, spec), sample(spec)[1], spec.env);
      assert.equal(sources.get(optionId(spec)), `env ${spec.env}`);
    }
  });

  test("the original's env var names are all there", () => {
    const names = OPTIONS.map((o) => o.env).filter(Boolean);
    for (const name of ['KG_PORT', 'KG_PORT_RETRIES', 'KG_IP', 'KG_AUTH_TOKEN', 'KG_ALLOW_CREDENTIALS', 'KG_ALLOW_HEADERS', 'KG_ALLOW_METHODS', 'KG_ALLOW_ORIGIN', 'KG_EXPOSE_HEADERS', 'KG_MAX_AGE', 'KG_BASE_URL', 'KG_MAX_KERNELS', 'KG_SEED_URI', 'KG_PRESPAWN_COUNT', 'KG_FORCE_KERNEL_NAME', 'KG_DEFAULT_KERNEL_NAME', 'KG_KEYFILE', 'KG_CERTFILE', 'KG_CLIENT_CA', 'KG_SSL_VERSION', 'KG_TRUST_XHEADERS', 'KG_X_HEADERS', 'KG_ENV_PROCESS_WHITELIST', 'KG_API', 'KG_LIST_KERNELS', 'KG_ENV_WHITELIST', 'KG_ALLOW_NOTEBOOK_DOWNLOAD', 'KG_CELL_PARSER', 'KG_STATIC_PATH']) {
      assert.ok(names.includes(name), name);
    }
  });

  test("remote kernels' options: KG_* env vars, Enterprise Gateway's EG_* ones when KG_* is unset, port ranges checked", () => {
    assert.equal(app([]).response_port, 8877);
    assert.equal(app([]).port_range, '0..0');
    assert.equal(app([], envWith({ EG_RESPONSE_PORT: '9877', EG_RESPONSE_IP: '10.1.2.3', EG_PORT_RANGE: '40000..41000' })).response_port, 9877);
    const eg = load([], envWith({ EG_RESPONSE_IP: '10.1.2.3', EG_PORT_RANGE: '40000..41000' }));
    assert.equal(eg.config.KernelGatewayApp.response_ip, '10.1.2.3');
    assert.equal(eg.config.KernelGatewayApp.port_range, '40000..41000');
    assert.equal(eg.sources.get('KernelGatewayApp.response_ip'), 'env EG_RESPONSE_IP');
    assert.equal(app([], envWith({ KG_RESPONSE_PORT: '7000', EG_RESPONSE_PORT: '9877' })).response_port, 7000, 'KG_* first');
    assert.equal(app(['--KernelGatewayApp.port_range=50000..60000']).port_range, '50000..60000');
    refused(() => load(['--KernelGatewayApp.port_range=50000..50100']), /port_range: expected a port range of at least 1000 ports/);
    refused(() => load([], envWith({ EG_PORT_RANGE: 'many' })), /^EG_PORT_RANGE: KernelGatewayApp\.port_range: expected a port range 'lower\.\.upper'/);
  });

  test("availability_mode: KG_* or EG_*, any case, '' (the default) included; anything else is refused", () => {
    assert.equal(app([]).availability_mode, '');
    assert.equal(app([], envWith({ KG_AVAILABILITY_MODE: 'Standalone' })).availability_mode, 'standalone');
    assert.equal(app([], envWith({ EG_AVAILABILITY_MODE: 'replication' })).availability_mode, 'replication');
    assert.equal(app(['--KernelGatewayApp.availability_mode='], envWith({ KG_AVAILABILITY_MODE: 'standalone' })).availability_mode, '', 'an empty value is a choice');
    assert.equal(app(['--KernelGatewayApp.persistence_root=/srv/store']).persistence_root, '/srv/store');
    refused(() => load([], envWith({ KG_AVAILABILITY_MODE: 'active-active' })), /^KG_AVAILABILITY_MODE: KernelGatewayApp\.availability_mode: expected one of , standalone, replication/);
  });

  test('a bad env value names the variable', () => {
    refused(() => load([], envWith({ KG_PORT: 'abc' })), /^KG_PORT: KernelGatewayApp\.port: expected an integer, got 'abc'$/);
    refused(() => load([], envWith({ KG_LIST_KERNELS: 'sure' })), /^KG_LIST_KERNELS: .*expected True or False/);
  });

  test('defaults < env < config file < command line, for each option', () => {
    const configDir = join(dirs.root, 'precedence');
    mkdirSync(configDir, { recursive: true });
    writeFileSync(join(configDir, CONFIG_FILE_NAME), JSON.stringify({ KernelGatewayApp: { port: 2000, ip: '10.0.0.2' }, JupyterWebsocketPersonality: { list_kernels: true } }));
    const env = envWith({ KG_PORT: '1000', KG_IP: '10.0.0.1', KG_BASE_URL: '/env', KG_LIST_KERNELS: 'False' }, configDir);
    const { config, sources } = load(['--port=3000'], env);
    assert.equal(config.KernelGatewayApp.port, 3000, 'command line beats file and env');
    assert.equal(config.KernelGatewayApp.ip, '10.0.0.2', 'file beats env');
    assert.equal(config.KernelGatewayApp.base_url, '/env', 'env beats default');
    assert.equal(config.KernelGatewayApp.max_age, '', 'default');
    assert.equal(config.JupyterWebsocketPersonality.list_kernels, true);
    assert.equal(sources.get('KernelGatewayApp.port'), 'command line');
    assert.match(sources.get('KernelGatewayApp.ip')!, /^config file .*jupyter_kernel_gateway_config\.json$/);
  });
});

describe('config files', () => {
  const dir = join(dirs.root, 'files');
  mkdirSync(dir, { recursive: true });
  const file = (name: string, text: string): string => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };

  test('--config PATH (and --KernelGatewayApp.config_file) read that file only, with the same keys as the original', () => {
    const path = file('mine.json', JSON.stringify({ KernelGatewayApp: { port: 9000, max_kernels: 4, seed_uri: null, env_process_whitelist: ['HOME'] }, NotebookHTTPPersonality: { comment_prefix: { r: '#' } } }));
    for (const argv of [['--config', path], [`--config=${path}`], [`--KernelGatewayApp.config_file=${path}`], [`--JupyterApp.config_file=${path}`]]) {
      const { config, configFiles } = load(argv);
      assert.equal(config.KernelGatewayApp.port, 9000);
      assert.equal(config.KernelGatewayApp.max_kernels, 4);
      assert.deepEqual(config.KernelGatewayApp.env_process_whitelist, ['HOME']);
      assert.deepEqual(config.NotebookHTTPPersonality.comment_prefix, { r: '#' });
      assert.deepEqual(configFiles, [path]);
    }
  });

  test('warm_pool in a config file: an object of counts', () => {
    assert.deepEqual(app(['--config', file('pool.json', JSON.stringify({ KernelGatewayApp: { warm_pool: { python3: 2 } } }))]).warm_pool, { python3: 2 });
    refused(() => load(['--config', file('bad-pool.json', JSON.stringify({ KernelGatewayApp: { warm_pool: { python3: 1.5 } } }))]), /warm_pool: expected a dict of counts/);
  });

  test('the Jupyter config dirs are searched, the user dir winning over JUPYTER_CONFIG_PATH; config_file_name changes the name', () => {
    const user = join(dir, 'user');
    const system = join(dir, 'system');
    mkdirSync(user, { recursive: true });
    mkdirSync(system, { recursive: true });
    writeFileSync(join(system, CONFIG_FILE_NAME), JSON.stringify({ KernelGatewayApp: { port: 1111, ip: '10.1.1.1' } }));
    writeFileSync(join(user, CONFIG_FILE_NAME), JSON.stringify({ KernelGatewayApp: { port: 2222 } }));
    writeFileSync(join(user, 'other_config.json'), JSON.stringify({ KernelGatewayApp: { port: 3333 } }));
    const env = { JUPYTER_CONFIG_DIR: user, JUPYTER_CONFIG_PATH: system };
    const { config, configFiles } = load([], env);
    assert.equal(config.KernelGatewayApp.port, 2222);
    assert.equal(config.KernelGatewayApp.ip, '10.1.1.1');
    assert.equal(configFiles.length, 2);
    assert.equal(load(['--KernelGatewayApp.config_file_name=other_config'], env).config.KernelGatewayApp.port, 3333);
  });

  test('Python config files are not read: an error when named, a warning when found', () => {
    const py = file('legacy.py', 'c.KernelGatewayApp.port = 1\n');
    refused(() => load([`--config=${py}`]), /legacy\.py: Python config files are not read/);
    const user = join(dir, 'pyuser');
    mkdirSync(user, { recursive: true });
    writeFileSync(join(user, 'jupyter_kernel_gateway_config.py'), 'c.KernelGatewayApp.port = 1\n');
    const { warnings, config } = load([], { JUPYTER_CONFIG_DIR: user, JUPYTER_CONFIG_PATH: join(dir, 'none') });
    assert.equal(config.KernelGatewayApp.port, 8888);
    assert.match(warnings.join('\n'), /jupyter_kernel_gateway_config\.py is not read/);
  });

  test('a missing file, bad JSON and wrong types stop start-up with one line; unknown keys are warnings', () => {
    refused(() => load([`--config=${join(dir, 'absent.json')}`]), /absent\.json does not exist/);
    refused(() => load([`--config=${file('bad.json', '{"KernelGatewayApp": {port: 1}}')}`]), /bad\.json is not valid JSON/);
    const unknown = load([`--config=${file('unknown.json', '{"KernelGatewayApp": {"portt": 1, "ip": "0.0.0.0"}, "KernelSpecManager": {"whitelist": ["a"]}}')}`]);
    assert.equal(unknown.config.KernelGatewayApp.ip, '0.0.0.0', 'known options of the file still apply');
    assert.ok(unknown.warnings.some((w) => /unknown option KernelGatewayApp\.portt in config file .*unknown\.json; did you mean KernelGatewayApp\.port\?/.test(w)), unknown.warnings.join('\n'));
    assert.ok(unknown.warnings.some((w) => /unknown option KernelSpecManager\.whitelist .*has no KernelSpecManager settings/.test(w)));
    refused(() => load([`--config=${file('type.json', '{"KernelGatewayApp": {"port": "high"}}')}`]), /type\.json: KernelGatewayApp\.port: expected an integer, got 'high'/);
    refused(() => load([`--config=${file('bool.json', '{"JupyterWebsocketPersonality": {"list_kernels": "yes please"}}')}`]), /list_kernels: expected True or False/);
    refused(() => load([`--config=${file('list.json', '{"KernelGatewayApp": {"env_process_whitelist": [1]}}')}`]), /env_process_whitelist: expected a list of strings/);
    refused(() => load([`--config=${file('array.json', '[1]')}`]), /must hold a JSON object/);
  });

  test('comments and trailing commas are accepted without touching strings that look like them', () => {
    const text = [
      '// a leading comment line',
      '{',
      '  /* a block comment */',
      '  "KernelGatewayApp": {',
      '    "allow_methods": "GET, ]", // a trailing comment',
      '    "base_url": "http://x//y",',
      '    "allow_origin": "/* not a comment */ ,}",',
      '    "allow_headers": "a,\\n]",',
      '  },',
      '}',
    ].join('\n');
    const app = load([`--config=${file('jsonc.json', text)}`]).config.KernelGatewayApp;
    assert.equal(app.allow_methods, 'GET, ]');
    assert.equal(app.base_url, 'http://x//y');
    assert.equal(app.allow_origin, '/* not a comment */ ,}');
    assert.equal(app.allow_headers, 'a,\n]', 'an escaped newline in a string');
  });

  test('a malformed file names the problem and where it is', () => {
    refused(() => load([`--config=${file('unclosed.json', '{\n  "KernelGatewayApp": {\n    "port": 1\n')}`]), /unclosed\.json is not valid JSON: CloseBraceExpected at line 4 column 1/);
    refused(() => load([`--config=${file('comma.json', '{"KernelGatewayApp": {"port": 1 "ip": "x"}}')}`]), /comma\.json is not valid JSON: CommaExpected at line 1 column 33/);
    refused(() => load([`--config=${file('empty.json', '  // nothing but a comment\n')}`]), /empty\.json is not valid JSON: ValueExpected/);
  });

  test('the generated template reads back as all defaults, and each uncommented line as its default', () => {
    const template = configTemplate();
    const parsed = parseConfigText(template, 'template');
    assert.deepEqual(Object.keys(parsed), ['KernelGatewayApp', 'JupyterWebsocketPersonality', 'NotebookHTTPPersonality']);
    const path = file('template.json', template);
    assert.deepEqual(load([`--config=${path}`]).config, defaultConfig());
    const uncommented = template.replace(/^(\s*)\/\/ ("\w+":)/gm, '$1$2');
    const all = load([`--config=${file('uncommented.json', uncommented)}`]);
    assert.deepEqual(all.config, defaultConfig());
    assert.equal(all.sources.size, OPTIONS.length, 'every option is in the template');
  });
});

describe('--help-all', () => {
  test('lists every option with its type, default and env var', () => {
    const text = helpText(true);
    for (const spec of OPTIONS) {
      const at = text.indexOf(`--${optionId(spec)}=<`);
      assert.ok(at >= 0, optionId(spec));
      const entry = text.slice(at, text.indexOf('\n--', at + 1));
      const shown = defaultValue(spec);
      assert.match(entry, /\n {4}Default: /);
      if (typeof shown === 'number') assert.match(entry, new RegExp(`Default: ${shown}\\b`));
      if (spec.env) assert.match(entry.replace(/\s+/g, ' '), new RegExp(`\\(${spec.env} env var\\)`));
    }
    for (const flag of ['--debug', '--generate-config', '-y', '--config=', '--port=<Int> (KernelGatewayApp.port)', '--client-ca=<Unicode> (KernelGatewayApp.client_ca)']) assert.ok(text.includes(flag), flag);
  });

  test('--help lists the aliases but not every option', () => {
    const text = helpText(false);
    assert.ok(text.includes('--seed_uri=<Unicode> (KernelGatewayApp.seed_uri)'));
    assert.ok(!text.includes('--KernelGatewayApp.max_age='));
  });
});
