/** @file Colour scales for the heatmap as 256-entry lookup tables of packed RGBA (ready to store into an
 * ImageData's Uint32 view), plus the value → [0, 1] mappings. κ uses a diverging scale centred on 1 (the zero
 * predictor's κ: blue = more predictable than predicting nothing, red = worse); ranks and norms a sequential one. */

export type Rgb = readonly [number, number, number];

/** Viridis, sampled at 9 anchors (perceptually uniform, readable by colour-blind users). */
const VIRIDIS: Rgb[] = [
  [68, 1, 84],
  [72, 40, 120],
  [62, 74, 137],
  [49, 104, 142],
  [38, 130, 142],
  [31, 158, 137],
  [53, 183, 121],
  [109, 205, 89],
  [253, 231, 37],
];

/** ColorBrewer RdBu reversed: blue below the centre, white at it, red above. */
const DIVERGING: Rgb[] = [
  [33, 102, 172],
  [103, 169, 207],
  [209, 229, 240],
  [247, 247, 247],
  [253, 219, 199],
  [239, 138, 98],
  [178, 24, 43],
];

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

function interpolate(anchors: readonly Rgb[], t: number): Rgb {
  const x = Math.min(1, Math.max(0, t)) * (anchors.length - 1);
  const i = Math.min(anchors.length - 2, Math.floor(x));
  const f = x - i;
  const a = anchors[i];
  const b = anchors[i + 1];
  return [
    Math.round(a[0] + f * (b[0] - a[0])),
    Math.round(a[1] + f * (b[1] - a[1])),
    Math.round(a[2] + f * (b[2] - a[2])),
  ];
}

export function lut(kind: "sequential" | "diverging"): Uint32Array {
  const anchors = kind === "diverging" ? DIVERGING : VIRIDIS;
  return Uint32Array.from({ length: 256 }, (_, i) => pack(interpolate(anchors, i / 255)));
}

export function cssColor(kind: "sequential" | "diverging", t: number): string {
  const [r, g, b] = interpolate(kind === "diverging" ? DIVERGING : VIRIDIS, t);
  return `rgb(${r},${g},${b})`;
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
