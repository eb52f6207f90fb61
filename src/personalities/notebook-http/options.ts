// The notebook-http personality's own options (section NotebookHTTPPersonality): their type,
// defaults and declarations, which the cli adds to the one option table.
import { atLeast, type OptionSpec } from '../../config/option-spec.js';

export interface NotebookHTTPPersonalityConfig {
  allow_notebook_download: boolean;
  cell_parser: string;
  comment_prefix: Record<string, string>;
  static_path: string | null;
  /** Seconds one endpoint request may run in its kernel before it is interrupted (0: no limit). */
  execution_timeout: number;
}

declare module '../../config/gateway-config.js' {
  interface PersonalitySections {
    NotebookHTTPPersonality: NotebookHTTPPersonalityConfig;
  }
}

export const notebookHttpDefaults = (): NotebookHTTPPersonalityConfig => ({
  allow_notebook_download: false,
  cell_parser: 'kernel_gateway.notebook_http.cell.parser',
  comment_prefix: { '': '#', scala: '//' },
  static_path: null,
  execution_timeout: 0,
});

const N = 'NotebookHTTPPersonality' as const;

export const NOTEBOOK_HTTP_OPTIONS: OptionSpec[] = [
  { section: N, name: 'allow_notebook_download', type: 'bool', env: 'KG_ALLOW_NOTEBOOK_DOWNLOAD', alternates: ['KernelGatewayApp.allow_notebook_download'], help: 'Optional API to download the notebook source code in notebook-http mode, defaults to not allow.' },
  { section: N, name: 'cell_parser', type: 'string', env: 'KG_CELL_PARSER', help: "Determines which module is used to parse the notebook for endpoints and documentation. Valid module names include 'kernel_gateway.notebook_http.cell.parser' and 'kernel_gateway.notebook_http.swagger.parser'." },
  { section: N, name: 'comment_prefix', type: 'dict', help: "Maps kernel language to code comment syntax: {'scala': '//'} or, repeated on the command line, scala=//." },
  { section: N, name: 'execution_timeout', type: 'number', env: 'KG_EXECUTION_TIMEOUT', check: atLeast(0), help: 'Seconds an endpoint request may run in its kernel; past it the kernel is interrupted and the request answered 504 (0: no limit).' },
  { section: N, name: 'static_path', type: 'nullable-string', env: 'KG_STATIC_PATH', help: 'Serve static files on disk in the given path as /public, defaults to not serve.' },
];
