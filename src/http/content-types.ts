// Content types by file extension, for every file the gateway serves (kernelspec resources,
// notebook-http's /public files): the mime-types package (the mime-db table), which includes
// .ipynb; anything it does not know is served as bytes.
import { lookup } from 'mime-types';

export function contentTypeFor(path: string): string {
  return lookup(path) || 'application/octet-stream';
}
