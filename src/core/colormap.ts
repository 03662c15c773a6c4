/** @file Colour scales shared by the dashboard's heatmaps (web/src/colormap.ts builds its lookup tables from these)
 * and the HTML report's SVG heatmaps, so a value has the same colour in both: viridis for sequential quantities, a
 * blue–white–red diverging scale for κ. */

export type Rgb = readonly [number, number, number];

/** Viridis, sampled at 9 anchors (perceptually uniform, readable by colour-blind users). */
export const VIRIDIS: Rgb[] = [
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
export const DIVERGING: Rgb[] = [
  [33, 102, 172],
  [103, 169, 207],
  [209, 229, 240],
  [247, 247, 247],
  [253, 219, 199],
  [239, 138, 98],
  [178, 24, 43],
];

/** Linear interpolation between evenly spaced anchors at t ∈ [0, 1] (clamped). */
export function interpolate(anchors: readonly Rgb[], t: number): Rgb {
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

export function cssColor(kind: "sequential" | "diverging", t: number): string {
  const [r, g, b] = interpolate(kind === "diverging" ? DIVERGING : VIRIDIS, t);
  return `rgb(${r},${g},${b})`;
}
