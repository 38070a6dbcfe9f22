// Types of scripts/bundle.mjs for the TypeScript that imports it (test/helpers/test-bundle.ts).
import type { BuildOptions, BuildResult } from 'esbuild';

export declare const ENTRY_POINTS: { readonly index: string; readonly cli: string; readonly 'ort-worker': string };
export declare function bundle(
  entryPoints: Record<string, string>,
  outdir: string,
  options?: BuildOptions,
): Promise<BuildResult>;
