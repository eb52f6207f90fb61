// The alternative parser ('kernel_gateway.notebook_http.swagger.parser'): the API is declared by
// a Swagger 2.0 document in the notebook (a cell whose first ``` block is JSON with a "swagger"
// key), and code cells implement its operations with `<comment> operationId: <id>` (and
// `<comment> ResponseInfo operationId: <id>` for response metadata).
//
// Differences from the original, on purpose: verbs match whatever their case in the document
// (the original's lower-case verbs could only ever answer 405), ResponseInfo cells apply (the
// original never ran them), `{name}` path templates become path parameters, and only parameters
// that are in the path (or say nowhere where they are, as the original assumes) become `/:name`
// segments.
import type { Logger } from '../../kernels/logger.js';
import { cellSource, type NotebookCell } from '../../kernels/notebook.js';
import { asVerb, escapeRegExp, sortEndpoints, type Endpoint, type HttpVerb, type NotebookApiParser, type SwaggerDocument, type VerbSources } from './endpoints.js';

/** The JSON document in a cell's first ``` block (or the whole cell), if it has a "swagger" key. */
export function swaggerletOf(source: string): SwaggerDocument | undefined {
  let lines = source.split(/\r\n|\r|\n/);
  if (lines.length > 2) {
    const open = lines.findIndex((l) => l.startsWith('```'));
    if (open >= 0) lines = lines.slice(open + 1);
    const close = lines.findIndex((l) => l.startsWith('```'));
    if (close >= 0) lines = lines.slice(0, close);
  }
  try {
    const doc: unknown = JSON.parse(lines.join(''));
    if (doc && typeof doc === 'object' && !Array.isArray(doc) && 'swagger' in doc) return doc as SwaggerDocument;
  } catch {
    /* not a swaggerlet */
  }
  return undefined;
}

interface Operation {
  path: string;
  verb: HttpVerb;
  operationId: string;
}

export class SwaggerCellParser implements NotebookApiParser {
  readonly swagger: SwaggerDocument = {};
  private readonly operationPattern: RegExp;
  private readonly responsePattern: RegExp;

  constructor(commentPrefix: string, cells: NotebookCell[], log?: Logger) {
    const prefix = escapeRegExp(commentPrefix);
    this.operationPattern = new RegExp(`^${prefix}\\s*operationId:\\s*(.*)`);
    this.responsePattern = new RegExp(`^${prefix}\\s*ResponseInfo\\s+operationId:\\s*(.*)`);
    const referenced = new Set<string>();
    for (const cell of cells) {
      const source = cellSource(cell);
      const doc = swaggerletOf(source);
      if (doc) Object.assign(this.swagger, doc);
      if (cell.cell_type === 'code') {
        const id = this.operationId(source);
        if (id !== undefined) referenced.add(id);
      }
    }
    if (Object.keys(this.swagger).length === 0) {
      log?.warn('No Swagger documentation found in the notebook');
      return;
    }
    const declared = new Set(this.operations().map((op) => op.operationId));
    for (const id of declared) if (!referenced.has(id)) log?.warn(`Operation ${id} was declared but not referenced in a cell`);
    for (const id of referenced) if (!declared.has(id)) log?.warn(`Operation ${id} was referenced in a cell but not declared`);
  }

  private operationId(source: string): string | undefined {
    const m = this.operationPattern.exec(source);
    return m ? m[1]!.trim() : undefined;
  }

  private responseOperationId(source: string): string | undefined {
    const m = this.responsePattern.exec(source);
    return m ? m[1]!.trim() : undefined;
  }

  isEndpointCell(source: string): boolean {
    return this.operationPattern.test(source);
  }

  isResponseInfoCell(source: string): boolean {
    return this.responsePattern.test(source);
  }

  /** Every declared operation with an operationId, with its routing path (`:name` parameters). */
  operations(): Operation[] {
    const ops: Operation[] = [];
    const paths = this.swagger.paths;
    if (!paths || typeof paths !== 'object') return ops;
    for (const [declaredPath, item] of Object.entries(paths)) {
      if (!item || typeof item !== 'object') continue;
      for (const [verbKey, op] of Object.entries(item)) {
        const verb = asVerb(verbKey);
        if (!verb || !op || typeof op !== 'object') continue;
        const operationId = (op as { operationId?: unknown }).operationId;
        if (typeof operationId !== 'string') continue;
        ops.push({ path: routingPath(declaredPath, (op as { parameters?: unknown }).parameters), verb, operationId });
      }
    }
    return ops;
  }

  endpoints(codeCells: string[]): Endpoint[] {
    const code = new Map<string, string>();
    const responseCode = new Map<string, string>();
    for (const source of codeCells) {
      const id = this.operationId(source);
      if (id !== undefined) code.set(id, (code.get(id) ?? '') + source + '\n');
      const rid = this.responseOperationId(source);
      if (rid !== undefined) responseCode.set(rid, (responseCode.get(rid) ?? '') + source + '\n');
    }
    const byPath = new Map<string, Endpoint>();
    for (const op of this.operations()) {
      const source = code.get(op.operationId);
      if (source === undefined) continue;
      let endpoint = byPath.get(op.path);
      if (!endpoint) byPath.set(op.path, (endpoint = { path: op.path, sources: {} as VerbSources, responseSources: {} as VerbSources }));
      endpoint.sources[op.verb] = source;
      const response = responseCode.get(op.operationId);
      if (response !== undefined) endpoint.responseSources[op.verb] = response;
    }
    return sortEndpoints([...byPath.values()]);
  }

  swaggerSpec(): SwaggerDocument {
    if (Object.keys(this.swagger).length === 0) return { swagger: '2.0', paths: {}, info: { version: '0.0.0' } };
    const doc = structuredClone(this.swagger);
    // Swagger keys operations by lower-case verb; a document written with `POST` is served as `post`.
    for (const item of Object.values(doc.paths ?? {})) {
      if (!item || typeof item !== 'object') continue;
      for (const key of Object.keys(item)) {
        const verb = asVerb(key);
        if (verb && key !== verb.toLowerCase() && !(verb.toLowerCase() in item)) {
          item[verb.toLowerCase()] = item[key];
          delete item[key];
        }
      }
    }
    return doc;
  }
}

/** `/people/{id}` -> `/people/:id`, plus a `/:name` segment per path parameter not templated. */
function routingPath(declared: string, parameters: unknown): string {
  let path = declared.replace(/\{([^/}]+)\}/g, ':$1');
  if (Array.isArray(parameters)) {
    for (const p of parameters) {
      if (!p || typeof p !== 'object') continue;
      const { name, in: where } = p as { name?: unknown; in?: unknown };
      if (typeof name !== 'string' || name === '') continue;
      if (where !== undefined && where !== 'path') continue;
      if (path.split('/').includes(`:${name}`)) continue;
      path = `${path.replace(/\/+$/, '')}/:${name}`;
    }
  }
  return path.startsWith('/') ? path : `/${path}`;
}
