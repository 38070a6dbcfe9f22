/**
 * native/'s protocol.schema.json is what the zod schemas of src/ generate (npm run protocol-schema): the Python worker
 * checks requests against the same definition the TypeScript side builds them from.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PROTOCOL_SCHEMA_FILE, protocolSchemaText } from '../../scripts/protocol-schema.js';
import { FAMILIES } from '../../src/engines/registry.js';

describe('protocol.schema.json', () => {
  it('is current: the committed file is what the zod schemas generate (run npm run protocol-schema)', () => {
    expect(readFileSync(PROTOCOL_SCHEMA_FILE, 'utf8')).toBe(protocolSchemaText());
  });

  it("holds every engine family's spec and every one-shot job", () => {
    const schema = JSON.parse(protocolSchemaText()) as { specs: object; jobs: object };
    expect(Object.keys(schema.specs)).toEqual(FAMILIES.map((f) => f.name));
    expect(Object.keys(schema.jobs)).toEqual(['export', 'probe', 'build', 'derive']);
  });
});
