// The image config: Env, Labels, Cmd/Entrypoint and history created_by (build args show there as
// `RUN |1 NAME=value ...`). History entries that made a layer are linked to it, in order, as
// reference/scanning.md §3.6 describes (empty_layer entries have none).
import { detectCredentials } from '../detectors.js';
import type { Finding } from '../types.js';

export interface ImageConfig {
  config?: {
    Env?: string[];
    Labels?: Record<string, string> | null;
    Cmd?: string[] | null;
    Entrypoint?: string[] | null;
  };
  rootfs?: { diff_ids?: string[] };
  history?: { created_by?: string; empty_layer?: boolean }[];
}

export interface LayerRef {
  index: number;
  digest: string;
}

export function scanImageConfig(cfg: ImageConfig, image: string, layers: LayerRef[]): Finding[] {
  const out: Finding[] = [];
  const scanPart = (text: string, part: string, where: string, layer?: LayerRef): void => {
    for (const f of detectCredentials(text, { base: { path: `image/${image}/${part}`, image } })) {
      if (layer) f.location.layer = layer;
      out.push({ ...f, message: `${f.message} ${where}` });
    }
  };
  scanPart((cfg.config?.Env ?? []).join('\n'), 'config/Env', 'in the image config Env');
  scanPart(
    Object.entries(cfg.config?.Labels ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join('\n'),
    'config/Labels',
    'in an image label',
  );
  scanPart(
    [...(cfg.config?.Entrypoint ?? []), ...(cfg.config?.Cmd ?? [])].join('\n'),
    'config/Cmd',
    'in the image command',
  );
  let layerIndex = 0;
  (cfg.history ?? []).forEach((h, i) => {
    const layer = h.empty_layer === true ? undefined : layers[layerIndex++];
    scanPart(
      h.created_by ?? '',
      `history/${i + 1}`,
      `in the image history (step ${i + 1}${layer ? `, layer ${layer.index}` : ''}: build args and ENV values show here)`,
      layer,
    );
  });
  return out;
}
