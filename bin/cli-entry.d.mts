/** 'bundle' when `root`/out/main/cli.js is newer than everything it is built from, else 'source' (cli-entry.mjs). */
export function cliEntry(root: string, env?: NodeJS.ProcessEnv): 'bundle' | 'source'
