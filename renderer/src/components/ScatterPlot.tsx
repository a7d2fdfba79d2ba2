// A WebGL scatter plot of many points in 2-D or 3-D (three.js: one draw call for 100k points; pan and zoom, and in
// 3-D rotate, with the mouse or the arrow keys), with text labels for the points that matter (highlighted, hovered)
// drawn on a canvas above it. No eval: it runs under the app's strict Content-Security-Policy.
import { useEffect, useRef } from 'react'
import * as THREE from 'three'
import { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js'
import { prepareCanvas } from './AttentionHeatmap.tsx'

export interface ScatterPoints {
  /** [n, dims] row-major positions in [−1, 1]. */
  coords: Float32Array
  dims: 2 | 3
  /** Per point: a category (cluster, metadata label; −1: other) or a value in [0, 1] (e.g. frequency), or nothing. */
  colour: { kind: 'category'; values: Int32Array } | { kind: 'value'; values: Float32Array } | null
}

interface Props {
  points: ScatterPoints
  labels: readonly string[]
  /** Points drawn large and labelled (the chosen word and its neighbours, or search matches). */
  highlighted: readonly number[]
  /** Only these points are shown (null: all). */
  visible: readonly number[] | null
  onPick: (index: number | null) => void
  height: number
}

const categoryColours = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#bcbd22', '#17becf', '#393b79', '#637939', '#8c6d31', '#843c39', '#7b4173', '#3182bd']
const otherColour = '#b0b0b0'

/** The colour of category i (negative: the "other" grey); legends use it too. */
export function categoryColour(i: number): string {
  return i < 0 ? otherColour : categoryColours[i % categoryColours.length]!
}

/** How many categories get a colour of their own before they repeat. */
export const distinctCategoryColours = categoryColours.length
// viridis, low to high
const valueColours = ['#440154', '#482878', '#3e4989', '#31688e', '#26828e', '#1f9e89', '#35b779', '#6ece58', '#b5de2b', '#fde725']
const highlightColour = new THREE.Color('#ff2d55')

const vertexShader = `
attribute vec3 colour;
attribute float size;
attribute float alpha;
varying vec3 vColour;
varying float vAlpha;
void main() {
  vColour = colour;
  vAlpha = alpha;
  gl_Position = projectionMatrix * modelViewMatrix * vec4(position, 1.0);
  gl_PointSize = size;
}`
const fragmentShader = `
varying vec3 vColour;
varying float vAlpha;
void main() {
  vec2 at = gl_PointCoord - vec2(0.5);
  if (dot(at, at) > 0.25 || vAlpha < 0.01) discard;
  gl_FragColor = vec4(vColour, vAlpha);
}`

function colourOf(points: ScatterPoints, i: number, target: THREE.Color): THREE.Color {
  const colour = points.colour
  if (colour?.kind === 'category') return target.set(categoryColour(colour.values[i]!))
  if (colour?.kind === 'value') return target.set(valueColours[Math.min(valueColours.length - 1, Math.floor(colour.values[i]! * valueColours.length))]!)
  return target.set('#3a7bd5')
}

interface Scene {
  renderer: THREE.WebGLRenderer
  scene: THREE.Scene
  camera: THREE.OrthographicCamera | THREE.PerspectiveCamera
  controls: OrbitControls
  geometry: THREE.BufferGeometry
  render: () => void
}

export function ScatterPlot({ points, labels, highlighted, visible, onPick, height }: Props) {
  const host = useRef<HTMLDivElement>(null)
  const canvas = useRef<HTMLCanvasElement>(null)
  const overlay = useRef<HTMLCanvasElement>(null)
  const view = useRef<Scene | null>(null)
  const hovered = useRef<number | null>(null)
  const latest = useRef({ points, labels, highlighted, visible, onPick })
  latest.current = { points, labels, highlighted, visible, onPick }

  /** Screen position of every point (CSS pixels), for picking and labels. */
  const screenOf = (index: number): [number, number] | null => {
    const scene = view.current
    const { coords, dims } = latest.current.points
    if (!scene || !host.current) return null
    const v = new THREE.Vector3(coords[index * dims]!, coords[index * dims + 1]!, dims === 3 ? coords[index * dims + 2]! : 0).project(scene.camera)
    if (v.z > 1 || v.z < -1) return null
    const { width } = host.current.getBoundingClientRect()
    return [((v.x + 1) / 2) * width, ((1 - v.y) / 2) * height]
  }

  const drawLabels = () => {
    if (!host.current) return
    const { width } = host.current.getBoundingClientRect()
    const context = prepareCanvas(overlay.current, width, height)
    if (!context) return
    const dark = document.documentElement.dataset.theme === 'dark' || (document.documentElement.dataset.theme !== 'light' && window.matchMedia?.('(prefers-color-scheme: dark)').matches)
    context.font = '12px system-ui, sans-serif'
    context.textBaseline = 'middle'
    const shown = [...latest.current.highlighted.slice(0, 60), ...(hovered.current === null ? [] : [hovered.current])]
    for (const index of shown) {
      if (latest.current.visible && !latest.current.visible.includes(index)) continue
      const at = screenOf(index)
      if (!at) continue
      const text = latest.current.labels[index] ?? ''
      context.fillStyle = dark ? 'rgba(20,20,20,0.8)' : 'rgba(255,255,255,0.85)'
      context.fillRect(at[0] + 5, at[1] - 8, context.measureText(text).width + 4, 16)
      context.fillStyle = dark ? '#eee' : '#111'
      context.fillText(text, at[0] + 7, at[1])
    }
  }

  /** The visible point nearest to a screen position, within 8 px. */
  const nearest = (x: number, y: number): number | null => {
    const { coords, dims } = latest.current.points
    const allowed = latest.current.visible ? new Set(latest.current.visible) : null
    let best: number | null = null
    let bestDistance = 64
    const n = coords.length / dims
    for (let i = 0; i < n; i++) {
      if (allowed && !allowed.has(i)) continue
      const at = screenOf(i)
      if (!at) continue
      const distance = (at[0] - x) ** 2 + (at[1] - y) ** 2
      if (distance < bestDistance) {
        bestDistance = distance
        best = i
      }
    }
    return best
  }

  // One scene per dimensionality: a flat orthographic view (pan, zoom) or a perspective one (also rotate).
  useEffect(() => {
    if (!canvas.current || !host.current) return
    const width = host.current.getBoundingClientRect().width || 800
    const renderer = new THREE.WebGLRenderer({ canvas: canvas.current, antialias: true, alpha: true, preserveDrawingBuffer: true })
    renderer.setPixelRatio(window.devicePixelRatio || 1)
    renderer.setSize(width, height, false)
    const scene = new THREE.Scene()
    const aspect = width / height
    const camera = points.dims === 3 ? new THREE.PerspectiveCamera(45, aspect, 0.01, 100) : new THREE.OrthographicCamera(-1.1 * aspect, 1.1 * aspect, 1.1, -1.1, -10, 10)
    camera.position.set(0, 0, points.dims === 3 ? 3.2 : 5)
    const controls = new OrbitControls(camera, canvas.current)
    controls.enableRotate = points.dims === 3
    if (points.dims === 2) controls.mouseButtons = { LEFT: THREE.MOUSE.PAN, MIDDLE: THREE.MOUSE.DOLLY, RIGHT: THREE.MOUSE.PAN }
    controls.screenSpacePanning = true
    controls.zoomToCursor = true
    controls.listenToKeyEvents(host.current)
    const geometry = new THREE.BufferGeometry()
    const material = new THREE.ShaderMaterial({ vertexShader, fragmentShader, transparent: true, depthWrite: false })
    scene.add(new THREE.Points(geometry, material))
    const render = () => {
      renderer.render(scene, camera)
      drawLabels()
    }
    controls.addEventListener('change', render)
    view.current = { renderer, scene, camera, controls, geometry, render }
    const resize = new ResizeObserver(() => {
      const w = host.current?.getBoundingClientRect().width ?? 0
      if (w <= 0) return
      renderer.setSize(w, height, false)
      if (camera instanceof THREE.OrthographicCamera) {
        camera.left = -1.1 * (w / height)
        camera.right = 1.1 * (w / height)
      } else camera.aspect = w / height
      camera.updateProjectionMatrix()
      render()
    })
    resize.observe(host.current)
    return () => {
      resize.disconnect()
      controls.dispose()
      geometry.dispose()
      material.dispose()
      renderer.dispose()
      view.current = null
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [points.dims, height])

  // Positions, colours, sizes and transparency of every point.
  useEffect(() => {
    const scene = view.current
    if (!scene) return
    const { coords, dims } = points
    const n = coords.length / dims
    const position = new Float32Array(n * 3)
    const colour = new Float32Array(n * 3)
    const size = new Float32Array(n).fill(4 * (window.devicePixelRatio || 1))
    const alpha = new Float32Array(n).fill(0.85)
    const shown = visible ? new Set(visible) : null
    const marked = new Set(highlighted)
    const c = new THREE.Color()
    for (let i = 0; i < n; i++) {
      position[3 * i] = coords[i * dims]!
      position[3 * i + 1] = coords[i * dims + 1]!
      position[3 * i + 2] = dims === 3 ? coords[i * dims + 2]! : 0
      ;(marked.has(i) ? c.copy(highlightColour) : colourOf(points, i, c)).toArray(colour, 3 * i)
      if (marked.has(i)) size[i] = 9 * (window.devicePixelRatio || 1)
      else if (marked.size > 0) alpha[i] = 0.35 // the rest steps back while something is highlighted
      if (shown && !shown.has(i)) alpha[i] = 0
    }
    // Highlighted points last, so they draw on top.
    const order = [...Array(n).keys()].filter((i) => !marked.has(i)).concat([...marked])
    scene.geometry.setIndex(order)
    scene.geometry.setAttribute('position', new THREE.BufferAttribute(position, 3))
    scene.geometry.setAttribute('colour', new THREE.BufferAttribute(colour, 3))
    scene.geometry.setAttribute('size', new THREE.BufferAttribute(size, 1))
    scene.geometry.setAttribute('alpha', new THREE.BufferAttribute(alpha, 1))
    scene.geometry.computeBoundingSphere()
    scene.render()
  }, [points, highlighted, visible])

  // Isolating a neighbourhood zooms the flat view to it.
  useEffect(() => {
    const scene = view.current
    if (!scene || !visible || visible.length === 0 || !(scene.camera instanceof THREE.OrthographicCamera)) return
    const { coords, dims } = points
    const xs = visible.map((i) => coords[i * dims]!)
    const ys = visible.map((i) => coords[i * dims + 1]!)
    const span = Math.max(0.05, Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys))
    scene.controls.target.set((Math.max(...xs) + Math.min(...xs)) / 2, (Math.max(...ys) + Math.min(...ys)) / 2, 0)
    scene.camera.position.set(scene.controls.target.x, scene.controls.target.y, 5)
    scene.camera.zoom = 1.6 / span
    scene.camera.updateProjectionMatrix()
    scene.controls.update()
    scene.render()
  }, [visible, points])

  const onPointer = (event: React.MouseEvent, click: boolean) => {
    const box = host.current!.getBoundingClientRect()
    const index = nearest(event.clientX - box.left, event.clientY - box.top)
    if (click) latest.current.onPick(index)
    else if (index !== hovered.current) {
      hovered.current = index
      drawLabels()
    }
  }

  return (
    <div ref={host} className="scatter" tabIndex={0} style={{ position: 'relative', height }} data-testid="projector-scatter">
      <canvas
        ref={canvas}
        style={{ position: 'absolute', inset: 0, width: '100%', height }}
        aria-label="embedding projection"
        onClick={(e) => onPointer(e, true)}
        onMouseMove={(e) => onPointer(e, false)}
      />
      <canvas ref={overlay} style={{ position: 'absolute', inset: 0, pointerEvents: 'none' }} data-testid="projector-labels" />
    </div>
  )
}
