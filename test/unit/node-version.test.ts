/** The Node.js version check both entries run first (src/node-version.ts), against package.json's engines range. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import semver from 'semver';
import { describe, expect, it } from 'vitest';
import { NODE_ENGINES, nodeVersionProblem } from '../../src/node-version.js';
import { ROOT } from '../helpers/fixture.js';

const ENGINES = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } })
  .engines.node;

describe('nodeVersionProblem', () => {
  it("checks package.json's engines range (the constant is that range, written out for the bundles)", () => {
    expect(NODE_ENGINES).toBe(ENGINES);
  });

  it.each([
    ['20.20.2', false],
    ['v20.20.2', false],
    ['22.12.0', false],
    ['22.13.0', true],
    ['22.20.1', true],
    ['23.11.0', false],
    ['24.0.0', true],
    ['25.1.0', true],
    ['18.19.0', false],
  ])('Node.js %s: runs %s', (version, runs) => {
    expect(nodeVersionProblem(version) === undefined).toBe(runs);
  });

  it('one line naming the running version and the range it needs', () => {
    expect(nodeVersionProblem('20.20.2')).toBe(
      'this is Node.js 20.20.2; tr118 needs Node.js ^22.13.0 || >=24: install one (nodejs.org, or nvm install 22)',
    );
    expect(nodeVersionProblem('23.11.0')).toContain('this is Node.js 23.11.0; tr118 needs Node.js ^22.13.0 || >=24');
  });

  it('agrees with npm (semver) on the engines range for any version', () => {
    const version = fc
      .tuple(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 30 }))
      .map((v) => v.join('.'));
    fc.assert(
      fc.property(version, (v) => {
        expect(nodeVersionProblem(v, ENGINES) === undefined).toBe(semver.satisfies(v, ENGINES));
      }),
      { numRuns: 2000 },
    );
    for (const v of ['22.13.0', '22.12.99', '23.99.0', '24.0.0', '21.99.99'])
      expect(nodeVersionProblem(v, ENGINES) === undefined).toBe(semver.satisfies(v, ENGINES));
  });

  it('a range it cannot read stops every version and says so, rather than let one through', () => {
    expect(nodeVersionProblem('22.13.0', 'twenty-two or later')).toBe(
      'this is Node.js 22.13.0; tr118 cannot read its own engines range twenty-two or later (a bug: please report it)',
    );
    expect(nodeVersionProblem('not a version')).toMatch(/^cannot read the Node\.js version "not a version"/);
  });
});
