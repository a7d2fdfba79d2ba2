// Colours of attention weights: viridis for weights (perceptually uniform, opaque, so it reads the same on the light
// and the dark theme) and a diverging red–blue map for differences (red: more attention, blue: less).
import { rgb } from 'd3-color'
import { interpolateRdBu, interpolateViridis } from 'd3-scale-chromatic'

type Rgb = readonly [number, number, number]

function table(interpolate: (t: number) => string): Rgb[] {
  return Array.from({ length: 256 }, (_, i) => {
    const c = rgb(interpolate(i / 255))
    return [Math.round(c.r), Math.round(c.g), Math.round(c.b)] as const
  })
}

const weightColours = table(interpolateViridis)
// RdBu runs red → blue; reversed so that positive (more attention) is red.
const differenceColours = table((t) => interpolateRdBu(1 - t))

const clamp = (value: number, low: number, high: number) => Math.max(low, Math.min(high, Number.isFinite(value) ? value : 0))

/** A weight in [0, 1], or (difference) a signed change in [-1, 1], as RGB bytes. */
export function colourBytes(value: number, difference = false): Rgb {
  if (difference) return differenceColours[Math.round(((clamp(value, -1, 1) + 1) / 2) * 255)]!
  return weightColours[Math.round(clamp(value, 0, 1) * 255)]!
}

export function colourCss(value: number, difference = false): string {
  const [r, g, b] = colourBytes(value, difference)
  return `rgb(${r}, ${g}, ${b})`
}

/** CSS gradient of the map, for a legend. */
export function legendGradient(difference = false): string {
  const stops = Array.from({ length: 9 }, (_, i) => colourCss(difference ? -1 + i / 4 : i / 8, difference))
  return `linear-gradient(to right, ${stops.join(', ')})`
}
