// The one table of every option: section, name, type, KG_* env var, CLI aliases, the other
// names the original accepted for it, value checks and help. CLI parsing, env reading, the
// config file, --help, --help-all, --show-config and --generate-config all read this table.
// The gateway's own options (KernelGatewayApp) are declared here; each built-in personality
// declares its section in its own options.ts, and the table is their union. The cli is the one
// layer that knows every part, so this is where the whole config is put together.
import { defaultKernelGatewayAppConfig, type GatewayConfig } from '../config/gateway-config.js';
import { atLeast, portNumber, positive, type OptionSpec, type OptionType, type Section } from '../config/option-spec.js';
import type { PersonalityOptions } from '../personalities/personality.js';
import { OptionError } from '../errors.js';
import { JUPYTER_WEBSOCKET_OPTIONS, jupyterWebsocketDefaults } from '../personalities/jupyter-websocket/options.js';
import { NOTEBOOK_HTTP_OPTIONS, notebookHttpDefaults } from '../personalities/notebook-http/options.js';
import { portRangeProblem } from '../kernels/launch-protocol/port-range.js';

export type { OptionSpec, OptionType, Section } from '../config/option-spec.js';

/** The defaults of plug-in personalities' sections added with addOptionSection. */
const pluginDefaults = new Map<string, () => object>();

/** Every option's default: the gateway's, each built-in personality's and a plug-in's. */
export function defaultConfig(): GatewayConfig {
  const config: GatewayConfig = { KernelGatewayApp: defaultKernelGatewayAppConfig(), JupyterWebsocketPersonality: jupyterWebsocketDefaults(), NotebookHTTPPersonality: notebookHttpDefaults() };
  for (const [section, defaults] of pluginDefaults) (config as unknown as Record<string, unknown>)[section] = defaults();
  return config;
}

/** Settings of the command itself (which file to read, what to do) rather than of the gateway. */
export interface LaunchSettingSpec {
  name: 'config_file' | 'config_file_name' | 'generate_config' | 'answer_yes' | 'show_config' | 'show_config_json';
  type: 'string' | 'bool';
  aliases?: string[];
  help: string;
}

const K = 'KernelGatewayApp' as const;


/** Python's ssl.PROTOCOL_* numbers, as the original's ssl_version takes them. */
export const SSL_VERSIONS: Record<number, string> = { 2: 'TLS (any version)', 3: 'TLSv1', 4: 'TLSv1.1', 5: 'TLSv1.2', 17: 'TLS server (any version)' };

const GATEWAY_OPTIONS: OptionSpec[] = [
  { section: K, name: 'allow_credentials', type: 'string', env: 'KG_ALLOW_CREDENTIALS', help: 'Sets the Access-Control-Allow-Credentials header.' },
  { section: K, name: 'allow_headers', type: 'string', env: 'KG_ALLOW_HEADERS', help: 'Sets the Access-Control-Allow-Headers header.' },
  { section: K, name: 'allow_methods', type: 'string', env: 'KG_ALLOW_METHODS', help: 'Sets the Access-Control-Allow-Methods header.' },
  { section: K, name: 'allow_origin', type: 'string', env: 'KG_ALLOW_ORIGIN', help: 'Sets the Access-Control-Allow-Origin header; also the origin (or * for any) allowed past the cross-origin guard.' },
  { section: K, name: 'api', type: 'string', env: 'KG_API', aliases: ['api'], help: "Controls which API to expose, that of a Jupyter notebook server, the seed notebook's, or one provided by another module, respectively using values 'kernel_gateway.jupyter_websocket' (or 'jupyter-websocket'), 'kernel_gateway.notebook_http' (or 'notebook-http'), or another module: a path or package name exporting createPersonality." },
  { section: K, name: 'auth_token', type: 'string', env: 'KG_AUTH_TOKEN', help: 'Authorization token required for all requests, as the header `Authorization: token <value>` or the query parameter `?token=<value>`.' },
  { section: K, name: 'base_url', type: 'string', env: 'KG_BASE_URL', help: 'The base path for mounting all API resources.' },
  { section: K, name: 'certfile', type: 'nullable-string', env: 'KG_CERTFILE', aliases: ['certfile'], help: 'The full path to an SSL/TLS certificate file.' },
  { section: K, name: 'client_ca', type: 'nullable-string', env: 'KG_CLIENT_CA', aliases: ['client-ca'], help: 'The full path to a certificate authority certificate for SSL/TLS client authentication.' },
  { section: K, name: 'default_kernel_name', type: 'string', env: 'KG_DEFAULT_KERNEL_NAME', help: 'Default kernel name when spawning a kernel.' },
  { section: K, name: 'env_process_whitelist', type: 'list', env: 'KG_ENV_PROCESS_WHITELIST', help: 'Environment variables allowed to be inherited from the gateway process by a new kernel whose start request names an env (a comma-separated list in the env var).' },
  { section: K, name: 'expose_headers', type: 'string', env: 'KG_EXPOSE_HEADERS', help: 'Sets the Access-Control-Expose-Headers header.' },
  { section: K, name: 'force_kernel_name', type: 'string', env: 'KG_FORCE_KERNEL_NAME', help: 'Override any kernel name specified in a notebook or request.' },
  { section: K, name: 'ip', type: 'string', env: 'KG_IP', aliases: ['ip'], help: 'IP address on which to listen.' },
  { section: K, name: 'keyfile', type: 'nullable-string', env: 'KG_KEYFILE', aliases: ['keyfile'], help: 'The full path to a private key file for usage with SSL/TLS.' },
  { section: K, name: 'log_level', type: 'string', env: 'KG_LOG_LEVEL', aliases: ['log-level'], alternates: ['Application.log_level', 'JupyterApp.log_level'], choices: ['0', '10', '20', '30', '40', '50', 'DEBUG', 'INFO', 'WARN', 'WARNING', 'ERROR', 'CRITICAL'], help: 'Set the log level by value or name.' },
  { section: K, name: 'max_age', type: 'string', env: 'KG_MAX_AGE', help: 'Sets the Access-Control-Max-Age header.' },
  { section: K, name: 'max_kernels', type: 'nullable-int', env: 'KG_MAX_KERNELS', check: atLeast(0), help: 'Limits the number of kernel instances allowed to run by this gateway. Unbounded by default.' },
  { section: K, name: 'port', type: 'int', env: 'KG_PORT', aliases: ['port'], check: portNumber, help: 'Port on which to listen.' },
  { section: K, name: 'port_retries', type: 'int', env: 'KG_PORT_RETRIES', aliases: ['port_retries'], check: atLeast(0), help: 'Number of ports to try if the specified port is not available.' },
  { section: K, name: 'prespawn_count', type: 'nullable-int', env: 'KG_PRESPAWN_COUNT', check: atLeast(0), help: 'Number of kernels to prespawn using the default language. No prespawn by default.' },
  {
    section: K,
    name: 'warm_pool',
    type: 'count-dict',
    env: 'KG_WARM_POOL',
    help: "Ready kernels to keep per kernelspec: {'python3': 2} or, repeated on the command line, python3=2 (python3=2,xpython=1 in the env var). A start of that kernelspec whose request env holds nothing but warm_pool_ignored_env variables (after env_whitelist and the KERNEL_* rule), and a ready kernel of its env flavour (started with or without an env, as the request), gets one at once, seeded like any other; the pool refills in the background (docs/warm-pool.md). Pool kernels count against max_kernels. Empty by default.",
  },
  { section: K, name: 'warm_pool_ignored_env', type: 'list', env: 'KG_WARM_POOL_IGNORED_ENV', help: 'Request env variables that a kernel from the warm pool may be handed out without (it was started before the request): any other kept variable makes the start a cold one. The default holds what Jupyter Server\'s --gateway-url client sends (KERNEL_LAUNCH_TIMEOUT too: its own setting, a limit a ready kernel meets). A comma-separated list in the env var.' },
  { section: K, name: 'seed_uri', type: 'nullable-string', env: 'KG_SEED_URI', aliases: ['seed_uri'], help: 'Runs the notebook (.ipynb) at the given URI on every kernel launched. No seed by default.' },
  {
    section: K,
    name: 'ssl_version',
    type: 'nullable-int',
    env: 'KG_SSL_VERSION',
    aliases: ['ssl_version'],
    check: (v) => (v === null || SSL_VERSIONS[v as number] ? undefined : `one of Python's ssl.PROTOCOL_* numbers: ${Object.entries(SSL_VERSIONS).map(([n, s]) => `${n} (${s})`).join(', ')}`),
    help: "Pins the SSL/TLS protocol version, as a Python ssl.PROTOCOL_* number: 3 (TLSv1), 4 (TLSv1.1), 5 (TLSv1.2), 2 or 17 (any). By default TLS 1.2 and 1.3 are offered.",
  },
  { section: K, name: 'trust_xheaders', type: 'bool', env: 'KG_TRUST_XHEADERS', help: 'Use X-Real-Ip / X-Forwarded-For header values for the remote address (in the access log), useful when the gateway is behind a proxy.' },
  { section: K, name: 'x_headers', type: 'string', env: 'KG_X_HEADERS', help: "Older name of trust_xheaders: 'true' trusts X-Real-Ip / X-Forwarded-For header values for the remote address." },
  { section: K, name: 'kernel_launch_timeout', type: 'number', env: 'KG_KERNEL_LAUNCH_TIMEOUT', check: positive, help: 'Seconds a new kernel may take to answer kernel_info_request before its start fails. A request may ask for less with KERNEL_LAUNCH_TIMEOUT in its env.' },
  { section: K, name: 'cull_idle_timeout', type: 'number', env: 'KG_CULL_IDLE_TIMEOUT', alternates: ['MappingKernelManager.cull_idle_timeout'], check: atLeast(0), help: 'Seconds a kernel may stay idle before it is shut down (0: never).' },
  { section: K, name: 'cull_interval', type: 'number', env: 'KG_CULL_INTERVAL', alternates: ['MappingKernelManager.cull_interval'], check: positive, help: 'Seconds between checks for idle kernels.' },
  { section: K, name: 'cull_connected', type: 'bool', env: 'KG_CULL_CONNECTED', alternates: ['MappingKernelManager.cull_connected'], help: 'Whether kernels with open websockets may be culled.' },
  { section: K, name: 'cull_busy', type: 'bool', env: 'KG_CULL_BUSY', alternates: ['MappingKernelManager.cull_busy'], help: 'Whether busy kernels may be culled.' },
  { section: K, name: 'restart_limit', type: 'int', env: 'KG_RESTART_LIMIT', alternates: ['KernelRestarter.restart_limit'], check: atLeast(0), help: 'Automatic restarts of a kernel that died, allowed within restart_window seconds; past that the kernel is declared dead and removed (0: never restart).' },
  { section: K, name: 'restart_window', type: 'number', env: 'KG_RESTART_WINDOW', check: positive, help: 'Seconds over which restart_limit counts automatic restarts.' },
  { section: K, name: 'heartbeat_interval', type: 'number', env: 'KG_HEARTBEAT_INTERVAL', alternates: ['KernelRestarter.time_to_dead'], check: atLeast(0), help: 'Seconds between heartbeat checks of each kernel; a kernel that misses three in a row is treated as dead (0: off).' },
  { section: K, name: 'replay_buffer_bytes', type: 'int', env: 'KG_REPLAY_BUFFER_BYTES', check: atLeast(0), help: 'Bytes of kernel messages kept for a websocket session_id that disconnected, replayed in order when it reconnects (0: no replay).' },
  { section: K, name: 'replay_buffer_seconds', type: 'number', env: 'KG_REPLAY_BUFFER_SECONDS', check: positive, help: 'Seconds a disconnected session_id is waited for before its buffered messages are dropped.' },
  { section: K, name: 'max_body_size', type: 'int', env: 'KG_MAX_BODY_SIZE', check: positive, help: 'Largest request body accepted, in bytes (413 past it); websocket messages have ws_max_message_size.' },
  { section: K, name: 'ws_max_message_size', type: 'int', env: 'KG_WS_MAX_MESSAGE_SIZE', check: positive, help: 'Largest websocket message a client may send, in bytes, all its fragments counted; past it the connection is closed (1009).' },
  { section: K, name: 'ws_ping_interval', type: 'number', env: 'KG_WS_PING_INTERVAL_SECS', check: atLeast(0), help: 'Seconds between pings of every websocket; a client that for three intervals answers no ping, sends nothing and reads nothing is disconnected (0: no pings).' },
  { section: K, name: 'http_headers_timeout', type: 'number', env: 'KG_HTTP_HEADERS_TIMEOUT', check: positive, help: 'Seconds a client may take to send the headers of a request (408 past it).' },
  { section: K, name: 'http_request_timeout', type: 'number', env: 'KG_HTTP_REQUEST_TIMEOUT', check: positive, help: 'Seconds a client may take to send a whole request, headers and body (408 past it).' },
  { section: K, name: 'http_keep_alive_timeout', type: 'number', env: 'KG_HTTP_KEEP_ALIVE_TIMEOUT', check: positive, help: 'Seconds an idle keep-alive connection is kept open.' },
  { section: K, name: 'authenticate_prometheus', type: 'bool', env: 'KG_AUTHENTICATE_PROMETHEUS', alternates: ['ServerApp.authenticate_prometheus'], help: 'Require the auth token for /metrics (set False to let a Prometheus server scrape without it).' },
  { section: K, name: 'log_format', type: 'string', env: 'KG_LOG_FORMAT', alternates: ['Application.log_format'], help: "'json' writes one JSON object per log line (time, level, message, and kernel_id or the request's method, path, status and duration where there is one); otherwise the readable lines. A Python logging format string is taken as the readable format." },
  // Remote kernels: Enterprise Gateway's launch protocol (its EG_* variables are read too).
  { section: K, name: 'response_ip', type: 'string', env: 'KG_RESPONSE_IP', envAlternates: ['EG_RESPONSE_IP'], help: "IP address on which remote kernels' launchers send their connection info back, and which they are told ({response_address}). Empty: this machine's first external IPv4 address (127.0.0.1 if it has none)." },
  { section: K, name: 'response_port', type: 'int', env: 'KG_RESPONSE_PORT', envAlternates: ['EG_RESPONSE_PORT'], check: portNumber, help: "Port on which remote kernels' launchers send their connection info back; if taken, the next 10 ports up are tried (0: any free port)." },
  { section: K, name: 'port_range', type: 'string', env: 'KG_PORT_RANGE', envAlternates: ['EG_PORT_RANGE'], check: portRangeProblem, help: "Ports remote kernels may bind, as 'lower..upper' (at least 1000 ports, within 1024..65535), passed to their launchers as {port_range}; 0..0: any port." },
  { section: K, name: 'allowed_images', type: 'list', env: 'KG_ALLOWED_IMAGES', help: "Container images a start request may ask for with KERNEL_IMAGE (docker and swarm kernelspecs); any other is refused with 403. None by default: kernels run the kernelspec's config.image_name. A comma-separated list in the env var." },
  { section: K, name: 'remote_hosts', type: 'list', env: 'KG_REMOTE_HOSTS', envAlternates: ['EG_REMOTE_HOSTS'], help: "SSH hosts on which distributed kernels (distributed-provisioner, Enterprise Gateway's DistributedProcessProxy) are launched. A comma-separated list in the env var." },
  { section: K, name: 'load_balancing_algorithm', type: 'string', env: 'KG_LOAD_BALANCING_ALGORITHM', envAlternates: ['EG_LOAD_BALANCING_ALGORITHM'], choices: ['round-robin', 'least-connection'], help: "How a distributed kernel's host is chosen among remote_hosts: 'round-robin' (in turn) or 'least-connection' (the one running the fewest of this gateway's kernels). A host that cannot be reached is skipped." },
  { section: K, name: 'remote_user', type: 'string', env: 'KG_REMOTE_USER', envAlternates: ['EG_REMOTE_USER'], help: "The user distributed kernels run as on remote_hosts (key authentication only; empty: the gateway's own user)." },
  { section: K, name: 'ssh_port', type: 'int', env: 'KG_SSH_PORT', envAlternates: ['EG_SSH_PORT'], check: portNumber, help: 'The port of the SSH servers on remote_hosts.' },
  { section: K, name: 'ssh_identity_file', type: 'string', env: 'KG_SSH_IDENTITY_FILE', help: "The private key for remote_hosts (empty: ssh's own default keys and config)." },
  { section: K, name: 'ssh_known_hosts_file', type: 'string', env: 'KG_SSH_KNOWN_HOSTS_FILE', help: "The known_hosts file holding remote_hosts' keys (empty: ssh's own); a host whose key is not there is refused." },
  // Kernels that outlive the gateway (Enterprise Gateway's availability modes, for every provisioner).
  { section: K, name: 'availability_mode', type: 'string', env: 'KG_AVAILABILITY_MODE', envAlternates: ['EG_AVAILABILITY_MODE'], choices: ['', 'standalone', 'replication'], help: "Kernels that outlive the gateway: 'standalone' (a restarted gateway re-adopts the kernels the previous one left: SIGTERM and SIGINT leave them running) or 'replication' (gateways sharing one persistence_root serve each other's kernels); empty: kernels end with the gateway." },
  { section: K, name: 'persistence_root', type: 'string', env: 'KG_PERSISTENCE_ROOT', envAlternates: ['EG_PERSISTENCE_ROOT'], help: "Directory of the kernel store of availability_mode: one 0600 record per kernel and per session (they hold kernel keys). Empty: kernel-gateway/store under the Jupyter data dir." },
  // Kernel Gateway 3.0's Python class options: the classes they name are built in here.
  { section: K, name: 'kernel_manager_class', type: 'string', help: 'The kernel manager class to use (Kernel Gateway 3.0; built in here).', inert: { why: 'kernel-gateway manages kernels itself; Python classes cannot be loaded' } },
  { section: K, name: 'kernel_spec_manager_class', type: 'string', help: 'The kernel spec manager class to use (Kernel Gateway 3.0; built in here).', inert: { why: 'kernelspecs are read from the Jupyter data dirs; Python classes cannot be loaded' } },
  { section: K, name: 'kernel_websocket_connection_class', type: 'string', help: 'The kernel websocket connection class to use (Kernel Gateway 3.0; built in here).', inert: { why: 'the websocket protocol is built in; Python classes cannot be loaded' } },
  { section: K, name: 'authorizer_class', type: 'string', help: 'The authorizer class to use (Kernel Gateway 3.0; built in here: every authenticated request is allowed).', inert: { why: 'authorization is auth_token alone; Python classes cannot be loaded' } },
  { section: K, name: 'identity_provider_class', type: 'string', help: 'The identity provider class to use (Kernel Gateway 3.0; built in here: auth_token).', inert: { why: 'identity is auth_token alone; Python classes cannot be loaded' } },
  {
    section: K,
    name: 'cookie_secret_file',
    type: 'string',
    help: 'The file where the cookie secret is stored (Kernel Gateway 3.0; no cookies are used here).',
    inert: { why: 'no cookies are used', isDefault: (v) => v === '' || v.endsWith('jupyter_cookie_secret') },
  },
];

export const OPTIONS: OptionSpec[] = [...GATEWAY_OPTIONS, ...JUPYTER_WEBSOCKET_OPTIONS, ...NOTEBOOK_HTTP_OPTIONS];

export const LAUNCH_SETTINGS: LaunchSettingSpec[] = [
  { name: 'answer_yes', type: 'bool', help: 'Answer yes to any prompts (-y).' },
  { name: 'config_file', type: 'string', aliases: ['config'], help: 'Full path of a config file (JSON). Without it, jupyter_kernel_gateway_config.json is read from the Jupyter config dirs.' },
  { name: 'config_file_name', type: 'string', help: 'Name of the config file looked for in the Jupyter config dirs (default jupyter_kernel_gateway_config.json).' },
  { name: 'generate_config', type: 'bool', help: 'Generate default config file (--generate-config).' },
  { name: 'show_config', type: 'bool', help: 'Print the settings that differ from the defaults, and where each came from, then exit (--show-config).' },
  { name: 'show_config_json', type: 'bool', help: 'Print the whole effective configuration as JSON, then exit (--show-config-json).' },
];

/** Options of the original that cannot work here, with the reason given (in a warning) when one is set. */
export const UNSUPPORTED: Record<string, string> = {
  'KernelGatewayApp.log_datefmt': 'log lines have a fixed format',
  'KernelGatewayApp.logging_config': 'it is a Python logging.config dict',
};

/** The sections a config file or `--Section.name` may use. */
export const SECTIONS: Section[] = [...new Set(OPTIONS.map((o) => o.section))];

const OPTION_TYPES: OptionType[] = ['string', 'nullable-string', 'int', 'nullable-int', 'number', 'bool', 'list', 'dict'];

/**
 * Adds a plug-in personality's section to the table (see PersonalityOptions). Its module is
 * third-party JavaScript, so the declaration is checked before anything uses it.
 */
export function addOptionSection(decl: PersonalityOptions): void {
  const where = `personalityOptions of the --api module`;
  if (typeof decl !== 'object' || decl === null || typeof decl.section !== 'string' || !/^[A-Za-z_]\w*$/.test(decl.section)) throw new OptionError(`${where}: section must be a name such as 'MyPersonality'`);
  if ((SECTIONS as string[]).includes(decl.section)) throw new OptionError(`${where}: section ${decl.section} is the gateway's own`);
  if (typeof decl.defaults !== 'function' || !Array.isArray(decl.options)) throw new OptionError(`${where}: needs defaults() and an options list`);
  const defaults = decl.defaults();
  const section = decl.section as Section; // a section of the config from now on (defaultConfig adds it)
  for (const o of decl.options) {
    if (typeof o?.name !== 'string' || !/^[A-Za-z_]\w*$/.test(o.name) || !OPTION_TYPES.includes(o.type) || typeof o.help !== 'string') throw new OptionError(`${where}: each option needs a name, one of the types ${OPTION_TYPES.join(', ')} and help`);
    if (!(o.name in defaults)) throw new OptionError(`${where}: ${decl.section}.${o.name} has no default`);
    OPTIONS.push({ ...o, section });
  }
  SECTIONS.push(section);
  pluginDefaults.set(decl.section, decl.defaults);
}

export function optionId(spec: OptionSpec): string {
  return `${spec.section}.${spec.name}`;
}

/** The option a full name (`Section.name`, or one of the original's other names) means. */
export function findOption(section: string, name: string): OptionSpec | undefined {
  const full = `${section}.${name}`;
  return OPTIONS.find((o) => (o.section === section && o.name === name) || o.alternates?.includes(full));
}

function sameAlias(a: string, b: string): boolean {
  return a.replace(/-/g, '_') === b.replace(/-/g, '_');
}

export function findAlias(alias: string): OptionSpec | undefined {
  return OPTIONS.find((o) => o.aliases?.some((a) => sameAlias(a, alias)));
}

export function findLaunchSetting(section: string, name: string, alias?: string): LaunchSettingSpec | undefined {
  if (alias !== undefined) return LAUNCH_SETTINGS.find((s) => s.aliases?.some((a) => sameAlias(a, alias)));
  if (!['KernelGatewayApp', 'JupyterApp', 'Application'].includes(section)) return undefined;
  return LAUNCH_SETTINGS.find((s) => s.name === name);
}

export function defaultValue(spec: OptionSpec): unknown {
  return (defaultConfig()[spec.section] as unknown as Record<string, unknown>)[spec.name];
}
