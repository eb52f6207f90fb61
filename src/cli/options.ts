// The one table of every option: section, name, type, KG_* env var, CLI alias and help.
// CLI parsing, env reading, the config file, --help-all and --generate-config all read it.
import { defaultConfig, type GatewayConfig } from '../server/gateway-config.js';

export type Section = keyof GatewayConfig;
export type OptionType = 'string' | 'nullable-string' | 'int' | 'nullable-int' | 'number' | 'bool' | 'list' | 'dict';

export interface OptionSpec {
  section: Section;
  name: string;
  type: OptionType;
  env?: string;
  aliases?: string[];
  choices?: string[];
  help: string;
}

const K = 'KernelGatewayApp' as const;
const W = 'JupyterWebsocketPersonality' as const;
const N = 'NotebookHTTPPersonality' as const;

export const OPTIONS: OptionSpec[] = [
  { section: K, name: 'allow_credentials', type: 'string', env: 'KG_ALLOW_CREDENTIALS', help: 'Sets the Access-Control-Allow-Credentials header.' },
  { section: K, name: 'allow_headers', type: 'string', env: 'KG_ALLOW_HEADERS', help: 'Sets the Access-Control-Allow-Headers header.' },
  { section: K, name: 'allow_methods', type: 'string', env: 'KG_ALLOW_METHODS', help: 'Sets the Access-Control-Allow-Methods header.' },
  { section: K, name: 'allow_origin', type: 'string', env: 'KG_ALLOW_ORIGIN', help: 'Sets the Access-Control-Allow-Origin header.' },
  { section: K, name: 'api', type: 'string', env: 'KG_API', aliases: ['api'], help: "Controls which API to expose, that of a Jupyter notebook server, the seed notebook's, or one provided by another module, respectively using values 'kernel_gateway.jupyter_websocket', 'kernel_gateway.notebook_http', or another module (a path or package name exporting createPersonality)." },
  { section: K, name: 'auth_token', type: 'string', env: 'KG_AUTH_TOKEN', help: 'Authorization token required for all requests.' },
  { section: K, name: 'base_url', type: 'string', env: 'KG_BASE_URL', help: 'The base path for mounting all API resources.' },
  { section: K, name: 'certfile', type: 'nullable-string', env: 'KG_CERTFILE', aliases: ['certfile'], help: 'The full path to an SSL/TLS certificate file.' },
  { section: K, name: 'client_ca', type: 'nullable-string', env: 'KG_CLIENT_CA', aliases: ['client-ca'], help: 'The full path to a certificate authority certificate for SSL/TLS client authentication.' },
  { section: K, name: 'default_kernel_name', type: 'string', env: 'KG_DEFAULT_KERNEL_NAME', help: 'Default kernel name when spawning a kernel.' },
  { section: K, name: 'env_process_whitelist', type: 'list', env: 'KG_ENV_PROCESS_WHITELIST', help: 'Environment variables allowed to be inherited from the gateway process by a new kernel.' },
  { section: K, name: 'expose_headers', type: 'string', env: 'KG_EXPOSE_HEADERS', help: 'Sets the Access-Control-Expose-Headers header.' },
  { section: K, name: 'force_kernel_name', type: 'string', env: 'KG_FORCE_KERNEL_NAME', help: 'Override any kernel name specified in a notebook or request.' },
  { section: K, name: 'ip', type: 'string', env: 'KG_IP', aliases: ['ip'], help: 'IP address on which to listen.' },
  { section: K, name: 'keyfile', type: 'nullable-string', env: 'KG_KEYFILE', aliases: ['keyfile'], help: 'The full path to a private key file for usage with SSL/TLS.' },
  { section: K, name: 'log_level', type: 'string', aliases: ['log-level'], choices: ['0', '10', '20', '30', '40', '50', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL'], help: 'Set the log level by value or name.' },
  { section: K, name: 'max_age', type: 'string', env: 'KG_MAX_AGE', help: 'Sets the Access-Control-Max-Age header.' },
  { section: K, name: 'max_kernels', type: 'nullable-int', env: 'KG_MAX_KERNELS', help: 'Limits the number of kernel instances allowed to run by this gateway. Unbounded by default.' },
  { section: K, name: 'port', type: 'int', env: 'KG_PORT', aliases: ['port'], help: 'Port on which to listen.' },
  { section: K, name: 'port_retries', type: 'int', env: 'KG_PORT_RETRIES', aliases: ['port_retries'], help: 'Number of ports to try if the specified port is not available.' },
  { section: K, name: 'prespawn_count', type: 'nullable-int', env: 'KG_PRESPAWN_COUNT', help: 'Number of kernels to prespawn using the default language. No prespawn by default.' },
  { section: K, name: 'seed_uri', type: 'nullable-string', env: 'KG_SEED_URI', aliases: ['seed_uri'], help: 'Runs the notebook (.ipynb) at the given URI on every kernel launched. No seed by default.' },
  { section: K, name: 'x_headers', type: 'string', env: 'KG_X_HEADERS', help: 'Use X-Forwarded-* / X-Real-Ip header values for the remote address (behind a proxy).' },
  { section: K, name: 'kernel_launch_timeout', type: 'number', env: 'KG_KERNEL_LAUNCH_TIMEOUT', help: 'Seconds a new kernel may take to answer kernel_info_request before its start fails. A request may ask for less with KERNEL_LAUNCH_TIMEOUT in its env.' },
  { section: K, name: 'cull_idle_timeout', type: 'number', env: 'KG_CULL_IDLE_TIMEOUT', help: 'Seconds a kernel may stay idle before it is shut down (0: never).' },
  { section: K, name: 'cull_interval', type: 'number', env: 'KG_CULL_INTERVAL', help: 'Seconds between checks for idle kernels.' },
  { section: K, name: 'cull_connected', type: 'bool', env: 'KG_CULL_CONNECTED', help: 'Whether kernels with open websockets may be culled.' },
  { section: K, name: 'cull_busy', type: 'bool', env: 'KG_CULL_BUSY', help: 'Whether busy kernels may be culled.' },
  { section: K, name: 'max_body_size', type: 'int', env: 'KG_MAX_BODY_SIZE', help: 'Largest request body or websocket message accepted, in bytes (413 past it).' },
  { section: W, name: 'env_whitelist', type: 'list', env: 'KG_ENV_WHITELIST', help: 'Environment variables allowed to be set when a client requests a new kernel.' },
  { section: W, name: 'list_kernels', type: 'bool', env: 'KG_LIST_KERNELS', help: 'Permits listing of the running kernels using API endpoints /api/kernels and /api/sessions. Note: Jupyter Notebook allows this by default but kernel gateway does not.' },
  { section: N, name: 'allow_notebook_download', type: 'bool', env: 'KG_ALLOW_NOTEBOOK_DOWNLOAD', help: 'Optional API to download the notebook source code in notebook-http mode, defaults to not allow.' },
  { section: N, name: 'cell_parser', type: 'string', env: 'KG_CELL_PARSER', help: "Determines which module is used to parse the notebook for endpoints and documentation. Valid module names include 'kernel_gateway.notebook_http.cell.parser' and 'kernel_gateway.notebook_http.swagger.parser'." },
  { section: N, name: 'comment_prefix', type: 'dict', help: 'Maps kernel language to code comment syntax.' },
  { section: N, name: 'static_path', type: 'nullable-string', env: 'KG_STATIC_PATH', help: 'Serve static files on disk in the given path as /public, defaults to not serve.' },
];

export function findOption(section: string, name: string): OptionSpec | undefined {
  return OPTIONS.find((o) => o.section === section && o.name === name);
}

export function defaultValue(spec: OptionSpec): unknown {
  return (defaultConfig()[spec.section] as unknown as Record<string, unknown>)[spec.name];
}
