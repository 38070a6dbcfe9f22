/**
 * ONNX Runtime's profile (a Chrome trace: a JSON array of events) → where each graph node ran. Every node that ran
 * writes a `Node` event named `<node name>_kernel_time` whose args carry `provider` and `op_name` (seen from Node and
 * Python, CPU and CUDA; other Node events, e.g. `_fence_before`, are skipped). A node is counted once however many
 * events it wrote. Pure: the worker reads the file.
 */
import { z } from 'zod';
import type { SessionInfo } from '../../backends/protocol.js';

const eventSchema = z.looseObject({
  cat: z.string().optional(),
  name: z.string().optional(),
  args: z.looseObject({ provider: z.string().optional(), op_name: z.string().optional() }).optional(),
});

const KERNEL_SUFFIX = '_kernel_time';

export function placementFromProfile(profile: unknown): NonNullable<SessionInfo['placement']> {
  if (!Array.isArray(profile)) throw new Error('an ONNX Runtime profile is a JSON array of events');
  const seen = new Set<string>();
  const counts = new Map<string, { provider: string; opType: string; count: number }>();
  for (const raw of profile) {
    const parsed = eventSchema.safeParse(raw);
    if (!parsed.success) continue;
    const { cat, name, args } = parsed.data;
    if (cat !== 'Node' || !name?.endsWith(KERNEL_SUFFIX) || !args?.provider || !args.op_name) continue;
    const node = name.slice(0, -KERNEL_SUFFIX.length);
    if (seen.has(node)) continue;
    seen.add(node);
    const key = `${args.provider}\u0000${args.op_name}`;
    const entry = counts.get(key) ?? { provider: args.provider, opType: args.op_name, count: 0 };
    entry.count++;
    counts.set(key, entry);
  }
  return { nodes: [...counts.values()] };
}
