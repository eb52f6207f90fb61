// The REST model of a session, as Jupyter Server has it: its JSON Schema (documented in
// /api/swagger.json) and the type derived from it (json-schema-to-ts, types only).
import type { FromSchema } from 'json-schema-to-ts';
import type { KERNEL_MODEL, KernelModel } from '../kernels/rest-models.js';

export const SESSION_MODEL = {
  $id: 'Session',
  type: 'object',
  description: 'A session: a path (e.g. a notebook) bound to a kernel.',
  properties: {
    id: { type: 'string', format: 'uuid', description: 'The session id.' },
    path: { type: 'string', description: 'The path the session is for.' },
    name: { type: 'string', description: 'The session name.' },
    type: { type: 'string', description: "The session type, e.g. 'notebook' or 'console'." },
    kernel: { $ref: 'Kernel#', description: 'The kernel of the session (null when it has ended).', 'x-nullable': true },
    notebook: {
      type: 'object',
      description: 'Jupyter Server 5 compatibility: {path, name}.',
      properties: { path: { type: 'string' }, name: { type: 'string' } },
      required: ['path', 'name'],
      additionalProperties: false,
    },
  },
  required: ['id', 'path', 'name', 'type', 'kernel', 'notebook'],
  additionalProperties: false,
} as const;

// Swagger 2.0 has no null type (x-nullable says it to readers), so the kernel's type is stated here.
export type SessionModel = Omit<FromSchema<typeof SESSION_MODEL, { references: [typeof KERNEL_MODEL] }>, 'kernel'> & { kernel: KernelModel | null };
