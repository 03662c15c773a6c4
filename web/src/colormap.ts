/** @file Colour scales for the heatmap as 256-entry lookup tables of packed RGBA (ready to store into an
 * ImageData's Uint32 view), plus the value → [0, 1] mappings. κ uses a diverging scale centred on 1 (the zero
 * predictor's κ: blue = more predictable than predicting nothing, red = worse); ranks and norms a sequential one. */
import { DIVERGING, interpolate, type Rgb, VIRIDIS } from "../../src/core/colormap.ts";

export { cssColor, type Rgb } from "../../src/core/colormap.ts";

export const NAN_RGB: Rgb = [205, 205, 205];

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function pack([r, g, b]: Rgb, a = 255): number {
  return littleEndian
    ? ((a << 24) | (b << 16) | (g << 8) | r) >>> 0
    : ((r << 24) | (g << 16) | (b << 8) | a) >>> 0;
}

export function unpack(c: number): Rgb {
  return littleEndian
    ? [c & 255, (c >>> 8) & 255, (c >>> 16) & 255]
    : [c >>> 24, (c >>> 16) & 255, (c >>> 8) & 255];
}

export function lut(kind: "sequential" | "diverging"): Uint32Array {
  const anchors = kind === "diverging" ? DIVERGING : VIRIDIS;
  return Uint32Array.from({ length: 256 }, (_, i) => pack(interpolate(anchors, i / 255)));
}

/** How values map to the colour axis. */
export interface ColorScale {
  readonly kind: "sequential" | "diverging";
  readonly log: boolean;
  readonly lo: number;
  readonly hi: number;
  /** Diverging scales: the value drawn white (each side of it is stretched to its half of the colours). */
  readonly center?: number;
}

/** κ: diverging over [0, 2] centred on 1 (wider if the data demand); others: sequential over [min, max]. */
export function scaleFor(metric: string, min: number | null, max: number | null): ColorScale {
  if (metric === "kappa")
    return { kind: "diverging", log: false, lo: 0, hi: Math.max(2, max ?? 2), center: 1 };
  const lo = min ?? 0;
  const hiRaw = max ?? 1;
  // Gradient norms span orders of magnitude across layers: a log axis keeps small layers visible.
  if (metric === "gradNorm" && lo > 0)
    return { kind: "sequential", log: true, lo, hi: Math.max(hiRaw, lo * 1.000001) };
  return { kind: "sequential", log: false, lo, hi: hiRaw > lo ? hiRaw : lo + 1 };
}

/** Value → position on the colour axis in [0, 1] (clamped); NaN stays NaN. */
export function toUnit(scale: ColorScale): (v: number) => number {
  if (scale.log) {
    const a = Math.log(scale.lo);
    const k = 1 / (Math.log(scale.hi) - a);
    return (v) =>
      v > 0 ? Math.min(1, Math.max(0, (Math.log(v) - a) * k)) : Number.isNaN(v) ? Number.NaN : 0;
  }
  const { lo, hi, center } = scale;
  if (center !== undefined && center > lo && center < hi) {
    const below = 0.5 / (center - lo);
    const above = 0.5 / (hi - center);
    return (v) => Math.min(1, Math.max(0, v <= center ? (v - lo) * below : 0.5 + (v - center) * above));
  }
  const k = 1 / (hi - lo);
  return (v) => Math.min(1, Math.max(0, (v - lo) * k));
}
