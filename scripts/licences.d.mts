// Types of scripts/licences.mjs for the TypeScript that imports it (test/unit/licences.test.ts).
import type { Metafile } from 'esbuild';

export declare const LICENCE_FILE: string;
export declare function packageDirOf(input: string): string | undefined;
export declare function bundledPackageDirs(metafile: Metafile | undefined, cwd?: string): string[];
export declare function dependencyTreeDirs(names: readonly string[], from: string): string[];
export declare function thirdPartyLicences(dirs: readonly string[]): string;
