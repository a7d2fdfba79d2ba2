/** True when `root`/out/main/`bundle` is newer than everything it is built from (bundle-freshness.mjs). */
export function bundleIsCurrent(root: string, bundle: string, env?: NodeJS.ProcessEnv): boolean
