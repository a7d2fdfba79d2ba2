// mteval-v13a tokenisation, sacreBLEU's default `tok:13a` (Post 2018): punctuation split off, except
// periods and commas inside numbers and dashes after digits.
const rules: [RegExp, string][] = [
  [/([\{-~\[-` -&\(-\+:-@\/])/g, ' $1 '], // language-independent symbols
  [/([^0-9])([\.,])/g, '$1 $2 '], // period or comma not after a digit
  [/([\.,])([^0-9])/g, ' $1 $2'], // period or comma not before a digit
  [/([0-9])(-)/g, '$1 $2 '], // dash after a digit
]

export function tokenize13a(text: string): string {
  let line = text.replaceAll('<skipped>', '').replaceAll('-\n', '').replaceAll('\n', ' ')
  if (line.includes('&')) line = line.replaceAll('&quot;', '"').replaceAll('&amp;', '&').replaceAll('&lt;', '<').replaceAll('&gt;', '>')
  line = ` ${line} `
  for (const [pattern, replacement] of rules) line = line.replace(pattern, replacement)
  return splitWords(line).join(' ')
}

/** Python's str.split(): runs of whitespace separate words, no empty words. */
export function splitWords(text: string): string[] {
  return text.split(/\s+/u).filter((word) => word.length > 0)
}
