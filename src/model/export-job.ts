/**
 * The native worker's `export` job (backends/one-shot.ts): a Hugging Face checkpoint to ONNX, no `open` before it.
 * model.onnx (and model.onnx.data past 2 GiB of weights) written into outPath, checked with onnx.checker, and its
 * ONNX Runtime (CPU) logits compared with PyTorch's on the probe batch. The one definition of these messages;
 * native/README.md documents them for the Python side.
 */
import { z } from 'zod';
import { EXPORTERS } from '../config/load.js';

export const exportRequestSchema = z.object({
  type: z.literal('export'),
  checkpointPath: z.string(),
  /** A folder the caller owns (the artifact store's temporary folder); created if missing. */
  outPath: z.string(),
  /** torch.onnx.export(dynamo=True) or the TorchScript tracer (dynamo=False): model.export.exporter. */
  exporter: z.enum(EXPORTERS),
  opset: z.int().min(7),
  /** Dynamic batch and sequence axes; false fixes them at the probe's shape. */
  dynamic: z.boolean(),
  /** int32 input_ids and attention_mask (cast to int64 inside the graph) instead of int64. */
  int32Inputs: z.boolean(),
  trustPickle: z.boolean(),
  /** Weight names (shell patterns) the checkpoint may lack, add or reshape (model.allowed_weight_differences). */
  allowedWeightDifferences: z.array(z.string()),
  /** Largest |ONNX Runtime − PyTorch| logit allowed on the probe; the worker's default is 1e-4 (fp32, CPU). */
  toleranceAbs: z.number().nonnegative().optional(),
  probe: z.object({ batch: z.int().min(1), seqLen: z.int().min(1), inputIds: z.array(z.int().min(0)) }),
});
export type ExportRequest = z.infer<typeof exportRequestSchema>;

export const exportedReplySchema = z.object({
  type: z.literal('exported'),
  id: z.int(),
  /** In outPath: model.onnx, then model.onnx.data when the weights went to external data. */
  files: z.array(z.object({ name: z.string().min(1), bytes: z.int().min(0) })).min(1),
  externalData: z.boolean(),
  /** Loading the checkpoint, the exporter call, onnx.checker, the probe (ONNX Runtime session + both passes). */
  loadMs: z.number().nonnegative(),
  exportMs: z.number().nonnegative(),
  checkMs: z.number().nonnegative(),
  probeMs: z.number().nonnegative(),
  opset: z.int(),
  /** The exporter that ran: the one asked for (never the other one silently). */
  exporter: z.enum(EXPORTERS),
  versions: z.object({
    torch: z.string(),
    transformers: z.string(),
    onnx: z.string(),
    onnxruntime: z.string(),
    python: z.string(),
  }),
  probeMaxAbsDiff: z.number().nonnegative(),
  /** probeMaxAbsDiff over the largest |PyTorch logit| of the probe. */
  probeMaxRelDiff: z.number().nonnegative(),
});
export type ExportedReply = z.infer<typeof exportedReplySchema>;
