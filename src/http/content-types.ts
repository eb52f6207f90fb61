// Content types by file extension, for every file the gateway serves (kernelspec resources,
// notebook-http's /public files): the mime-types package (the mime-db table), which includes
// .ipynb; anything it does not know is served as bytes. The table costs about 3 MiB of RSS once
// loaded, so it is loaded on the first file served rather than at start.
import { createRequire } from 'node:module';

type Lookup = (path: string) => string | false;
let lookup: Lookup | undefined;

export function contentTypeFor(path: string): string {
  lookup ??= (createRequire(import.meta.url)('mime-types') as { lookup: Lookup }).lookup;
  return lookup(path) || 'application/octet-stream';
}
