/**
 * What a run built before the matrix and what the artifact cache gave it: one line — every artifact hit (and the
 * time that saved) or what this run made — and the tables: the seed's "Export Overhead" here, and each engine
 * family's own for what it prepared (TensorRT's "Build Overhead": engines/<family>/), as plain text cells; report.md
 * and report.html escape and lay them out. Pure.
 */
import type { ArtifactTable } from '../engines/family.js';
import { artifactsIn } from '../engines/registry.js';
import type { Results } from '../results/schema.js';
import { num } from '../format.js';

export interface ArtifactTables {
  readonly line: string;
  readonly tables: readonly ArtifactTable[];
}

type Cache = 'hit' | 'restored' | 'built';

function cacheCell(cache: Cache, ms: number): string {
  return cache === 'built' ? 'miss' : `${cache} (saved ${num(ms / 1000)} s)`;
}

/** Null when the run made and used no artifact (model.onnx given, no tensorrt backend). */
export function artifactTables(results: Results): ArtifactTables | null {
  const ex = results.export;
  const prepared = artifactsIn(results);
  if (!ex && prepared.length === 0) return null;
  const artifacts: { what: string; cache: Cache; ms: number; corrupt: string | null }[] = [
    ...(ex ? [{ what: 'the ONNX export of model.hf', cache: ex.cache, ms: ex.exportMs, corrupt: ex.corrupt }] : []),
    ...prepared.flatMap(({ family, records }) =>
      records.map((r) => ({
        what: family.artifacts?.describe(r) ?? r.backend,
        cache: r.cache,
        ms: r.buildMs,
        corrupt: r.corrupt,
      })),
    ),
  ];
  const made = artifacts.filter((a) => a.cache === 'built');
  let line: string;
  if (made.length === 0) {
    const saved = artifacts.reduce((sum, a) => sum + a.ms, 0);
    const restored = artifacts.filter((a) => a.cache === 'restored').length;
    const local = artifacts.length - restored;
    const from =
      restored === 0
        ? 'the local artifact cache'
        : local === 0
          ? 'the Actions cache'
          : `the local artifact cache (${local}) and the Actions cache (${restored})`;
    const nothing = [ex ? 'exported' : undefined, prepared.length > 0 ? 'built' : undefined]
      .filter(Boolean)
      .join(' or ');
    line = `Every artifact hit the cache: nothing was ${nothing} (${artifacts.length} from ${from}; saved ${num(saved / 1000)} s).`;
  } else {
    const said = made.map((a) => `${a.what}${a.corrupt ? ` (the cached one was unusable: ${a.corrupt})` : ''}`);
    const hits = artifacts.length - made.length;
    line = `Made by this run (artifact cache miss): ${said.join('; ')}.${hits > 0 ? ` ${hits} other artifact${hits === 1 ? '' : 's'} hit the cache.` : ''}`;
  }
  const tables: ArtifactTable[] = [];
  if (ex) {
    tables.push({
      title: 'ONNX export',
      header: [
        'Checkpoint',
        'ONNX file',
        'MB',
        'opset',
        'exporter',
        'dynamic axes',
        'export s',
        'probe max abs Δ',
        'cache',
        'versions',
      ],
      rows: [
        [
          ex.checkpoint,
          ex.onnxPath,
          num(ex.bytes / 1e6),
          String(ex.opset),
          ex.exporter,
          ex.dynamic ? 'batch, sequence' : 'none',
          num(ex.exportMs / 1000),
          ex.probeMaxAbsDiff === null ? '— (cached)' : ex.probeMaxAbsDiff.toExponential(2),
          cacheCell(ex.cache, ex.exportMs),
          Object.entries(ex.versions)
            .map(([k, v]) => `${k} ${v}`)
            .join(', '),
        ],
      ],
    });
  }
  for (const { family, records } of prepared) {
    const table = family.artifacts?.table(records);
    if (table) tables.push(table);
  }
  return { line, tables };
}
