// How text becomes word2vec tokens: words of letters and digits (with inner apostrophes and hyphens), punctuation
// dropped, lower-cased unless asked not to — the same for training, queries and evaluation files.

const wordPattern = /[\p{L}\p{N}]+(?:['’\-][\p{L}\p{N}]+)*/gu

export function textWords(text: string, lowercase: boolean): string[] {
  const words = text.match(wordPattern) ?? []
  return lowercase ? words.map((w) => w.toLowerCase()) : words
}
