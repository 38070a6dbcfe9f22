// Types of scripts/release-check.mjs for the TypeScript that imports it (test/unit/release-check.test.ts).
export declare function tagProblem(tag: string, version: string): string | undefined;
export declare function changelogEntry(changelog: string, version: string): string | undefined;
export declare function distProblem(root: string, build: () => void): string | undefined;
export declare function releaseProblems(
  tag: string,
  root: string,
  build: (() => void) | undefined,
): { problems: string[]; notes: string | undefined };
