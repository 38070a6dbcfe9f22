/** The artifact key of an ONNX export of a Hugging Face checkpoint (model.hf). Pure. */
import { artifactKey, byName, type ArtifactKey } from '../cache/keys.js';

/** The artifact store's kind (folder) of ONNX exports. */
export const EXPORT_KIND = 'onnx-export';

export interface KeyedFile {
  /** The file's name inside the checkpoint folder (config.json, model.safetensors, model-00001-of-00002.safetensors). */
  readonly path: string;
  readonly sha256: string;
  readonly bytes: number;
}

/**
 * What an ONNX export's bytes depend on. The checkpoint counts by config.json and its weight files only (as
 * checkCheckpoint lists them): the exported graph returns logits, so the tokenizer and generation_config files,
 * which change neither the graph nor the weights, do not change the key.
 */
export interface ExportKeyInputs {
  readonly checkpointFiles: readonly KeyedFile[];
  readonly settings: {
    readonly opset: number;
    readonly dynamic: boolean;
    readonly int32Inputs: boolean;
    /** e.g. `torchscript` or `dynamo`: the two write different graphs from one model. */
    readonly exporter: string;
    /**
     * The weight differences the export was allowed to pass over (model.allowed_weight_differences, sorted): an
     * export made before its loading was checked, or under another allowance, is not this one.
     */
    readonly allowedWeightDifferences: readonly string[];
  };
  /** onnxscript only for the dynamo exporter (it writes that exporter's graph): TorchScript keys stay as they were. */
  readonly versions: {
    readonly torch: string;
    readonly transformers: string;
    readonly onnx: string;
    readonly onnxscript?: string;
  };
}

/** The export key. The files are sorted by name: the order they were listed in does not change the key. */
export function exportKey(inputs: ExportKeyInputs): ArtifactKey {
  return artifactKey(EXPORT_KIND, {
    checkpointFiles: [...inputs.checkpointFiles]
      .map((f) => ({ path: f.path, sha256: f.sha256, bytes: f.bytes }))
      .sort(byName((f) => f.path)),
    settings: { ...inputs.settings, allowedWeightDifferences: [...inputs.settings.allowedWeightDifferences].sort() },
    versions: { ...inputs.versions },
  });
}
