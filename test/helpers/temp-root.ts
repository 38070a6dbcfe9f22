/**
 * vitest globalSetup: every temporary file of a test run goes under one folder, removed when the run ends.
 *
 * Tests make temp folders freely (a fresh npm ci of the Action is 1.2 GB; a stored GPT-2 export, the Actions cache
 * stand-in's blobs); one run left ~6 GB behind and a machine that ran the suite a few times filled its disk. Setting
 * TMPDIR here, before vitest starts its workers, reaches every os.tmpdir() in them and in the CLI, npm and Python
 * processes they start, so nothing each test would have to remember.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export default function setup(): () => void {
  const root = mkdtempSync(path.join(os.tmpdir(), 'tr118-vitest-'));
  // /tmp's mode (everyone may write, only the owner may delete): some tests run the CLI as another user (nobody),
  // which reaches its files under here and makes its own temporary files here too
  chmodSync(root, 0o1777);
  process.env.TMPDIR = root;
  return () => {
    if (process.env.TR118_KEEP_TEMP) console.log(`temporary files kept in ${root} (TR118_KEEP_TEMP)`);
    else rmSync(root, { recursive: true, force: true });
  };
}
