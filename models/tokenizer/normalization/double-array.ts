// A double-array trie (Aoe 1989) in darts-clone's 32-bit unit layout, the index SentencePiece keeps its
// normalisation rules in (NormalizerSpec.precompiled_charsmap): built here, searched here and by spm.
//
// Unit bits (darts-clone): value leaf = bit 31 set, value in bits 0–30; otherwise label in bits 0–7,
// has-leaf in bit 8, and the offset to the children's base in bits 10–31 (bit 9: offset shifted left by 8).
// A child with label c of a node at position p sits at p ^ offset ^ c; a key's value sits at the base itself.

const leafBit = 0x80000000
const hasLeafBit = 1 << 8
const blockSize = 256

export interface TrieEntry {
  /** UTF-8 bytes of the key; never empty, never containing 0. */
  key: Uint8Array
  value: number
}

function unitOffset(unit: number): number {
  return (unit >>> 10) << ((unit & (1 << 9)) >>> 6)
}

function encodeOffset(offset: number): number {
  if (offset < 1 << 21) return (offset << 10) >>> 0
  if (offset < 1 << 29 && (offset & 0xff) === 0) return (((offset << 2) | (1 << 9)) >>> 0) // offset >> 8 stored at bit 10
  throw new Error(`double-array offset ${offset} cannot be encoded (the trie is too large)`)
}

interface TrieNode {
  labels: number[]
  children: TrieNode[]
  value: number | undefined
}

/** A node of the minimised trie (a DAWG): equal subtrees are one node, as darts-clone shares them. */
interface SharedNode {
  labels: number[]
  children: number[] // ids of SharedNode
  value: number | undefined
}

function buildTrie(entries: readonly TrieEntry[]): TrieNode {
  const root: TrieNode = { labels: [], children: [], value: undefined }
  for (const { key, value } of entries) {
    if (key.length === 0) throw new Error('a trie key may not be empty')
    if (value < 0 || value >= leafBit || !Number.isInteger(value)) throw new Error(`trie value ${value} out of range`)
    let node = root
    for (const byte of key) {
      if (byte === 0) throw new Error('a trie key may not contain byte 0')
      let index = node.labels.indexOf(byte)
      if (index < 0) {
        index = node.labels.length
        node.labels.push(byte)
        node.children.push({ labels: [], children: [], value: undefined })
      }
      node = node.children[index]!
    }
    node.value = value
  }
  return root
}

/** Merges equal subtrees bottom up; returns the nodes with the root's id last. */
function minimise(root: TrieNode): SharedNode[] {
  const nodes: SharedNode[] = []
  const idOf = new Map<string, number>()
  const visit = (node: TrieNode): number => {
    const order = node.labels.map((_, i) => i).sort((a, b) => node.labels[a]! - node.labels[b]!)
    const labels = order.map((i) => node.labels[i]!)
    const children = order.map((i) => visit(node.children[i]!))
    const signature = `${node.value ?? ''}|${labels.join(',')}|${children.join(',')}`
    let id = idOf.get(signature)
    if (id === undefined) {
      id = nodes.length
      nodes.push({ labels, children, value: node.value })
      idOf.set(signature, id)
    }
    return id
  }
  visit(root)
  return nodes
}

/** A copy of `array` with room for `capacity` elements. */
function grown<T extends Uint8Array | Uint32Array | Int32Array>(array: T, capacity: number): T {
  const bigger = new (array.constructor as new (length: number) => T)(capacity)
  bigger.set(array)
  return bigger
}

/** Lays the keys out as darts-clone units (a Uint32Array whose bytes spm reads as its trie blob). */
export function buildDoubleArray(entries: readonly TrieEntry[]): Uint32Array {
  const nodes = minimise(buildTrie(entries))
  const rootId = nodes.length - 1
  let units = new Uint32Array(blockSize * 64)
  let used = new Uint8Array(units.length) // position holds a unit
  let isBase = new Uint8Array(units.length) // position is some node's children base
  const basesInBlock: number[] = []
  // Free positions of the last few blocks as a linked list (older blocks are closed, as in darts-clone).
  let next = new Int32Array(units.length)
  let previous = new Int32Array(units.length)
  let freeHead = -1
  let size = 0
  const openBlocks = 16
  const unlink = (q: number): void => {
    const before = previous[q]!
    const after = next[q]!
    if (before >= 0) next[before] = after
    else freeHead = after
    if (after >= 0) previous[after] = before
    previous[q] = next[q] = -2 // not in the list
  }
  const addBlock = (): void => {
    if (size + blockSize > units.length) {
      const capacity = units.length * 2
      units = grown(units, capacity)
      used = grown(used, capacity)
      isBase = grown(isBase, capacity)
      next = grown(next, capacity)
      previous = grown(previous, capacity)
    }
    // Append the block's positions to the free list, in order.
    let tail = freeHead
    while (tail >= 0 && next[tail]! >= 0) tail = next[tail]!
    for (let q = size; q < size + blockSize; q++) {
      previous[q] = q === size ? tail : q - 1
      next[q] = q === size + blockSize - 1 ? -1 : q + 1
    }
    if (tail >= 0) next[tail] = size
    else freeHead = size
    basesInBlock.push(0)
    size += blockSize
    const closing = size / blockSize - 1 - openBlocks
    if (closing >= 0) for (let q = closing * blockSize; q < (closing + 1) * blockSize; q++) if (previous[q] !== -2 && !used[q]) unlink(q)
  }
  const take = (q: number): void => {
    used[q] = 1
    if (previous[q] !== -2) unlink(q)
  }
  addBlock()
  take(0) // the root unit

  /** A free base for these labels: every child position free, the base not another node's. */
  const findBase = (labels: number[]): number => {
    for (;;) {
      for (let q = freeHead; q >= 0; q = next[q]!) {
        const base = q ^ labels[0]!
        if (base === 0 || isBase[base] || basesInBlock[base >> 8]! >= blockSize - 1) continue
        if (base >= size) continue
        if (labels.every((label) => !used[base ^ label])) return base
      }
      addBlock()
    }
  }

  const baseOf = new Int32Array(nodes.length).fill(-1)
  const pending: [number, number][] = [] // (unit position, node id) whose offsets wait for the node's base
  const queue = [rootId]
  pending.push([0, rootId])
  for (let head = 0; head < queue.length; head++) {
    const id = queue[head]!
    const node = nodes[id]!
    const labels = node.value === undefined ? node.labels : [0, ...node.labels]
    const base = findBase(labels)
    baseOf[id] = base
    isBase[base] = 1
    basesInBlock[base >> 8]!++
    for (const label of labels) take(base ^ label)
    if (node.value !== undefined) units[base] = (node.value | leafBit) >>> 0
    node.labels.forEach((label, i) => {
      const child = node.children[i]!
      units[base ^ label] = label
      pending.push([base ^ label, child])
      if (baseOf[child] === -1 && nodes[child]!.labels.length + (nodes[child]!.value === undefined ? 0 : 1) > 0) {
        baseOf[child] = -2 // queued
        queue.push(child)
      }
    })
  }
  for (const [position, id] of pending) {
    const node = nodes[id]!
    units[position] = (units[position]! | encodeOffset(position ^ baseOf[id]!) | (node.value === undefined ? 0 : hasLeafBit)) >>> 0
  }

  // Free units get a label no search can match: one that only a non-base position of their block would lead to.
  for (let block = 0; block < size; block += blockSize) {
    let spare = -1
    for (let q = block; q < block + blockSize && spare < 0; q++) if (!isBase[q]) spare = q
    for (let q = block; q < block + blockSize; q++) if (!used[q]) units[q] = (q ^ spare) & 0xff
  }
  return units.slice(0, size)
}

/**
 * darts-clone's commonPrefixSearch: every key that is a prefix of bytes[start..end), shortest first,
 * reported as (value, length in bytes).
 */
export function forEachPrefix(units: Uint32Array, bytes: Uint8Array, start: number, end: number, visit: (value: number, length: number) => void): void {
  let position = unitOffset(units[0]!)
  for (let i = start; i < end; i++) {
    const byte = bytes[i]!
    position ^= byte
    const unit = units[position]
    if (unit === undefined || (unit & (leafBit | 0xff)) !== byte) return
    position ^= unitOffset(unit)
    if (unit & hasLeafBit) visit(units[position]! & ~leafBit, i + 1 - start)
  }
}
