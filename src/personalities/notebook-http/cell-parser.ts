// The default notebook API parser ('kernel_gateway.notebook_http.cell.parser'): a code cell whose
// first line is `<comment> <VERB> <path>` is an endpoint, `<comment> ResponseInfo <VERB> <path>`
// sets that endpoint's response metadata. Cells with the same annotation are concatenated in
// notebook order.
import {
  escapeRegExp,
  pathParamNames,
  sortEndpoints,
  swaggerPath,
  type Endpoint,
  type HttpVerb,
  type NotebookApiParser,
  type SwaggerDocument,
  type VerbSources,
} from './endpoints.js';

export interface Annotation {
  verb: HttpVerb;
  path: string;
}

export class AnnotatedCellParser implements NotebookApiParser {
  private readonly endpointPattern: RegExp;
  private readonly responsePattern: RegExp;

  constructor(commentPrefix: string) {
    // Verbs are matched case-sensitively, as the original does: `# get /x` is a plain comment.
    const prefix = escapeRegExp(commentPrefix);
    this.endpointPattern = new RegExp(`^${prefix}\\s+(GET|PUT|POST|DELETE)\\s+(/.*)`);
    this.responsePattern = new RegExp(`^${prefix}\\s+ResponseInfo\\s+(GET|PUT|POST|DELETE)\\s+(/.*)`);
  }

  endpointAnnotation(source: string): Annotation | undefined {
    return annotationOf(this.endpointPattern.exec(source));
  }

  responseInfoAnnotation(source: string): Annotation | undefined {
    return annotationOf(this.responsePattern.exec(source));
  }

  isEndpointCell(source: string): boolean {
    return this.endpointPattern.test(source);
  }

  isResponseInfoCell(source: string): boolean {
    return this.responsePattern.test(source);
  }

  endpoints(codeCells: string[]): Endpoint[] {
    const byPath = new Map<string, Endpoint>();
    const entry = (path: string): Endpoint => {
      let e = byPath.get(path);
      if (!e) byPath.set(path, (e = { path, sources: {}, responseSources: {} }));
      return e;
    };
    for (const source of codeCells) {
      const api = this.endpointAnnotation(source);
      if (api) append(entry(api.path).sources, api.verb, source);
      const info = this.responseInfoAnnotation(source);
      if (info) append(entry(info.path).responseSources, info.verb, source);
    }
    // A ResponseInfo cell without an endpoint of its own serves nothing.
    return sortEndpoints([...byPath.values()].filter((e) => Object.keys(e.sources).length > 0));
  }

  swaggerSpec(codeCells: string[]): SwaggerDocument {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const source of codeCells) {
      const api = this.endpointAnnotation(source);
      if (!api) continue;
      const operations = (paths[swaggerPath(api.path)] ??= {});
      const params = pathParamNames(api.path);
      operations[api.verb.toLowerCase()] = {
        ...(params.length ? { parameters: params.map((name) => ({ name, in: 'path', required: true, type: 'string' })) } : {}),
        responses: { '200': { description: 'Success' } },
      };
    }
    return { swagger: '2.0', paths, info: { version: '0.0.0' } };
  }
}

function annotationOf(match: RegExpExecArray | null): Annotation | undefined {
  if (!match) return undefined;
  return { verb: match[1] as HttpVerb, path: match[2]!.trim() };
}

function append(sources: VerbSources, verb: HttpVerb, source: string): void {
  sources[verb] = (sources[verb] ?? '') + source + '\n';
}
