// The jupyter-websocket personality's own options (section JupyterWebsocketPersonality): their
// type, defaults and declarations, which the cli adds to the one option table.
import type { OptionSpec } from '../../config/option-spec.js';

export interface JupyterWebsocketPersonalityConfig {
  list_kernels: boolean;
  /** Request env variables (besides KERNEL_*) that may reach kernels this personality starts. */
  env_whitelist: string[];
}

declare module '../../config/gateway-config.js' {
  interface PersonalitySections {
    JupyterWebsocketPersonality: JupyterWebsocketPersonalityConfig;
  }
}

export const jupyterWebsocketDefaults = (): JupyterWebsocketPersonalityConfig => ({ list_kernels: false, env_whitelist: [] });

const W = 'JupyterWebsocketPersonality' as const;

export const JUPYTER_WEBSOCKET_OPTIONS: OptionSpec[] = [
  { section: W, name: 'env_whitelist', type: 'list', env: 'KG_ENV_WHITELIST', help: 'Environment variables allowed to be set when a client requests a new kernel (besides KERNEL_*; a comma-separated list in the env var).' },
  { section: W, name: 'list_kernels', type: 'bool', env: 'KG_LIST_KERNELS', alternates: ['KernelGatewayApp.list_kernels'], help: 'Permits listing of the running kernels using API endpoints /api/kernels and /api/sessions. Note: Jupyter Notebook allows this by default but kernel gateway does not.' },
];
