/**
 * GitHub's published REST description (@octokit/openapi), as a checker for the requests the Action makes against
 * the local test server: the method and path must be a documented operation, the body must hold its required
 * fields, name only documented properties, and respect their enums.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

interface Schema {
  required?: string[];
  properties?: Record<string, { enum?: unknown[] }>;
}
interface Operation {
  requestBody?: { content?: Record<string, { schema?: Schema }> };
}
interface Spec {
  paths: Record<string, Record<string, Operation>>;
}

let cached: { template: string; method: string; pattern: RegExp; operation: Operation }[] | undefined;

function operations() {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  const file = require.resolve('@octokit/openapi/generated/api.github.com.deref.json');
  const spec = JSON.parse(readFileSync(file, 'utf8')) as Spec;
  cached = Object.entries(spec.paths).flatMap(([template, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({
      template,
      method: method.toUpperCase(),
      pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`),
      operation,
    })),
  );
  return cached;
}

/** Returns the documented path template the request matches, or throws saying what is wrong. */
export function checkRequest(method: string, url: string, body: unknown): string {
  const pathname = new URL(url, 'http://x').pathname;
  const candidates = operations().filter((o) => o.method === method && o.pattern.test(pathname));
  // The most specific template (fewest parameters) wins, as GitHub's router does.
  const match = candidates.sort(
    (a, b) => (a.template.match(/\{/g)?.length ?? 0) - (b.template.match(/\{/g)?.length ?? 0),
  )[0];
  if (!match) throw new Error(`${method} ${pathname} is not a documented GitHub REST operation`);
  const schema = match.operation.requestBody?.content?.['application/json']?.schema;
  if (schema && method !== 'GET') {
    const data = (body ?? {}) as Record<string, unknown>;
    for (const field of schema.required ?? []) {
      if (!(field in data)) throw new Error(`${method} ${match.template}: required body field ${field} is missing`);
    }
    for (const [key, value] of Object.entries(data)) {
      const property = schema.properties?.[key];
      if (!property) throw new Error(`${method} ${match.template}: body field ${key} is not documented`);
      if (property.enum && !property.enum.includes(value))
        throw new Error(
          `${method} ${match.template}: ${key}=${JSON.stringify(value)} is not one of ${JSON.stringify(property.enum)}`,
        );
    }
  }
  return match.template;
}

interface WebhookSchema {
  type?: string | string[];
  nullable?: boolean;
  properties?: Record<string, WebhookSchema>;
  items?: WebhookSchema;
  allOf?: WebhookSchema[];
  anyOf?: WebhookSchema[];
  oneOf?: WebhookSchema[];
}

/** One schema's properties with those of its allOf/anyOf/oneOf parts: a field documented in any of them counts. */
function alternatives(schema: WebhookSchema): WebhookSchema[] {
  return [schema, ...[...(schema.allOf ?? []), ...(schema.anyOf ?? []), ...(schema.oneOf ?? [])].flatMap(alternatives)];
}

function checkValue(schema: WebhookSchema, value: unknown, at: string): void {
  const parts = alternatives(schema);
  if (value === null) {
    const typed = parts.filter((p) => p.type !== undefined);
    if (typed.length > 0 && !typed.some((p) => p.nullable || p.type === 'null' || p.type?.includes('null')))
      throw new Error(`${at}: null where GitHub never sends null`);
    return;
  }
  const types = new Set(parts.flatMap((p) => (p.type === undefined ? [] : [p.type].flat())));
  const kind = Array.isArray(value) ? 'array' : Number.isInteger(value) ? 'integer' : typeof value;
  const fits = types.size === 0 || types.has(kind) || (kind === 'integer' && types.has('number'));
  if (!fits) throw new Error(`${at}: a ${kind} where GitHub sends ${[...types].join(' or ')}`);
  if (Array.isArray(value)) {
    const items = parts.find((p) => p.items)?.items;
    value.forEach((item, i) => items && checkValue(items, item, `${at}[${i}]`));
  } else if (typeof value === 'object') {
    for (const [key, field] of Object.entries(value)) {
      if (field === undefined) continue; // JSON leaves it out: GitHub did not send it
      const property = parts.find((p) => p.properties?.[key])?.properties?.[key];
      if (!property) throw new Error(`${at}.${key} is not a documented field`);
      checkValue(property, field, `${at}.${key}`);
    }
  }
}

/**
 * Checks a test's webhook payload against GitHub's published description of that webhook (x-webhooks, e.g.
 * `pull-request-synchronize`, `workflow-run-completed`): every field the test sets is one GitHub documents, with its
 * type and nullability. Returns the payload, so a test builds and checks it in one expression. Required fields are
 * not demanded: the tests leave out the dozens of URLs tr118 never reads.
 */
type Webhooks = Record<string, { post?: { requestBody?: { content?: Record<string, { schema?: WebhookSchema }> } } }>;
let webhooks: Webhooks | undefined;

export function checkWebhookPayload<T>(webhook: string, payload: T): T {
  if (!webhooks) {
    const file = createRequire(import.meta.url).resolve('@octokit/openapi/generated/api.github.com.deref.json');
    webhooks = (JSON.parse(readFileSync(file, 'utf8')) as { 'x-webhooks': Webhooks })['x-webhooks'];
  }
  const schema = webhooks[webhook]?.post?.requestBody?.content?.['application/json']?.schema;
  if (!schema) throw new Error(`${webhook} is not a webhook GitHub documents`);
  checkValue(schema, payload, webhook);
  return payload;
}
