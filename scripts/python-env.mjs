// Makes the project's Python environment (.venv) hold one of native/'s locked sets, installing only when the lock
// changed: `light` (numpy, onnx, onnxruntime, tokenizers, pytest, ruff: ~370 MB, seconds) or `torch` (light plus torch
// and transformers: ~4.4 GB, minutes). The torch set includes the light one, so a .venv with torch serves both.
// Used by the test scripts of package.json (npm test installs `torch`); prints nothing when nothing changes.
//   node scripts/python-env.mjs light|torch
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const SETS = {
  light: ['native/requirements-light.txt'],
  torch: ['native/requirements-light.txt', 'native/requirements-torch.txt'],
};
const wanted = process.argv[2];
if (!(wanted in SETS)) {
  console.error(`usage: node scripts/python-env.mjs light|torch (got ${JSON.stringify(wanted ?? '')})`);
  process.exit(2);
}
const venv = '.venv';
const python = path.join(venv, 'bin/python');
// What is installed, by set, with the digest of its lock files: a changed lock installs again.
const stampFile = path.join(venv, 'tr118-python-sets.json');
const digest = (set) => {
  const hash = createHash('sha256');
  for (const file of SETS[set]) hash.update(readFileSync(file));
  return hash.digest('hex');
};
const readStamp = () => {
  try {
    return JSON.parse(readFileSync(stampFile, 'utf8'));
  } catch {
    return {};
  }
};
const stamp = readStamp();
const satisfied = (set) => stamp[set] === digest(set) || (set === 'light' && stamp.torch === digest('torch'));
if (existsSync(python) && satisfied(wanted)) process.exit(0);

const run = (cmd, args) => execFileSync(cmd, args, { stdio: 'inherit' });
if (!existsSync(python)) run('python3', ['-m', 'venv', venv]);
const lock = SETS[wanted].at(-1);
console.error(`python-env: installing the ${wanted} set into ${venv} (${lock})`);
// --no-deps: the lock is the whole set; --no-cache-dir: the ~3 GB of torch wheels are not kept a second time.
run(python, ['-m', 'pip', 'install', '-q', '--disable-pip-version-check', '--no-cache-dir', '--no-deps', '-r', lock]);
writeFileSync(stampFile, JSON.stringify({ ...stamp, [wanted]: digest(wanted) }, null, 2) + '\n');
