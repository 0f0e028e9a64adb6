import { declaredFieldSpec } from './field-rules.js';
import {
  LOG_FIELDS,
  type LogFieldDeclarations,
  type LogFieldName,
  type LogFieldSpec,
} from './schema.js';

/** The JSON Schema draft this module writes. */
export const JSON_SCHEMA_DIALECT = 'https://json-schema.org/draft/2020-12/schema';

type JsonSchema = Record<string, unknown>;

function property(spec: LogFieldSpec): JsonSchema {
  if (spec.ref !== undefined) {
    const ref = { $ref: `#/$defs/${spec.ref}` };
    return spec.type === 'array'
      ? { type: 'array', items: ref, description: spec.description }
      : { ...ref, description: spec.description };
  }
  const out: JsonSchema = { type: spec.type };
  if (spec.format !== undefined) out['format'] = spec.format;
  if (spec.enum !== undefined) out['enum'] = [...spec.enum];
  if (spec.pattern !== undefined) out['pattern'] = spec.pattern;
  if (spec.minimum !== undefined) out['minimum'] = spec.minimum;
  if (spec.maximum !== undefined) out['maximum'] = spec.maximum;
  out['description'] = spec.description;
  return out;
}

function objectSchema(entries: Array<[string, LogFieldSpec]>): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const [name, spec] of entries) {
    properties[name] = property(spec);
    if (spec.required) required.push(name);
  }
  return { type: 'object', properties, required, additionalProperties: false };
}

/**
 * Builds the JSON Schema (draft 2020-12) of one log line from `LOG_FIELDS`.
 * Dotted fields (`error.code`) become the properties of a `$defs` entry named
 * by their prefix, referenced by the field that carries `ref`. Every other
 * key is rejected (`additionalProperties: false`): the logger moves unknown
 * keys under `extra`, so a line that fails this schema is a logger bug.
 *
 * `fields`, a service's own fields (`logging.fields`, already checked), are
 * top-level properties too, after the schema's own (`stacklight log-schema`
 * prints this with them).
 *
 * `src/logging/log-schema.json` is this function's output without declared
 * fields, checked in; a test keeps it equal.
 */
export function buildLogJsonSchema(fields: LogFieldDeclarations = {}): JsonSchema {
  const top: Array<[string, LogFieldSpec]> = [];
  const nested = new Map<string, Array<[string, LogFieldSpec]>>();
  for (const name of Object.keys(LOG_FIELDS) as LogFieldName[]) {
    const spec: LogFieldSpec = LOG_FIELDS[name];
    const dot = name.indexOf('.');
    if (dot === -1) {
      top.push([name, spec]);
      continue;
    }
    const group = name.slice(0, dot);
    const members = nested.get(group) ?? [];
    members.push([name.slice(dot + 1), spec]);
    nested.set(group, members);
  }
  for (const [name, type] of Object.entries(fields)) top.push([name, declaredFieldSpec(type)]);
  const $defs: Record<string, JsonSchema> = {};
  for (const [group, members] of nested) $defs[group] = objectSchema(members);
  return {
    $schema: JSON_SCHEMA_DIALECT,
    title: 'stacklight log line',
    description:
      'One NDJSON line written by the stacklight logger (spec 09, "Logging (JSON schema)").',
    ...objectSchema(top),
    $defs,
  };
}
