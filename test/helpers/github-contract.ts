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
