// The package's public entry point (`import ... from 'kernel-gateway'`): the plug-in contract a
// personality module implements, what it is handed, and a way to embed the gateway.
export type { CreatePersonality, Personality, PersonalityContext, PersonalityOptions, WebsocketRoute } from './personalities/personality.js';
export type { GatewayConfig, KernelGatewayAppConfig, PersonalitySections } from './config/gateway-config.js';
export type { OptionSpec, OptionType } from './config/option-spec.js';
export type { JupyterWebsocketPersonalityConfig } from './personalities/jupyter-websocket/options.js';
export type { NotebookHTTPPersonalityConfig } from './personalities/notebook-http/options.js';
export type { KernelManager, StartRequest } from './kernels/kernel-manager.js';
export type { KernelModel, RunningKernel } from './kernels/running-kernel.js';
export type { KernelSpecManager } from './kernels/kernelspecs.js';
export type { Logger } from './kernels/logger.js';
export type { Notebook } from './kernels/notebook.js';
export { executeCode, type ExecutionError, type ExecutionOutcome } from './kernels/execute.js';
export * from './errors.js';
export { defaultConfig } from './cli/options.js';
export { startGateway, VERSION, type Gateway } from './server/gateway.js';
