/**
 * A strict reader of the Prometheus text exposition format (0.0.4), for tests: every line must
 * match the grammar, every sample must belong to a family announced by HELP and TYPE (once each,
 * before its samples, its samples together), no sample may repeat, and every histogram must be
 * whole (`le` buckets ascending and cumulative, ending at `+Inf` equal to `_count`, with `_sum`).
 * Any violation throws, naming the line.
 */

export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

export interface Family {
  name: string
  help: string
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped'
  samples: Sample[]
}

const METRIC_NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*'
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"'
const FLOAT = '(?:[+-]?(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?Inf|NaN)'
const SAMPLE = new RegExp(`^(${METRIC_NAME})(?:\\{((?:${LABEL})(?:,(?:${LABEL}))*,?)?\\})? (${FLOAT})(?: -?[0-9]+)?$`)
const HELP = new RegExp(`^# HELP (${METRIC_NAME}) (.*)$`)
const TYPE = new RegExp(`^# TYPE (${METRIC_NAME}) (counter|gauge|histogram|summary|untyped)$`)
const ONE_LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"/g

function parseFloatToken(token: string): number {
  if (token.endsWith('Inf')) return token.startsWith('-') ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY
  return token === 'NaN' ? Number.NaN : Number(token)
}

/** The family a sample name belongs to: a histogram's `_bucket`, `_sum` and `_count` belong to it. */
function familyOf(sample: string, families: Map<string, Family>): Family | undefined {
  const direct = families.get(sample)
  if (direct) return direct
  const base = sample.replace(/_(bucket|sum|count)$/, '')
  const family = families.get(base)
  return family && (family.type === 'histogram' || family.type === 'summary') ? family : undefined
}

export function parseExposition(text: string): Map<string, Family> {
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a newline')
  const families = new Map<string, Family>()
  const help = new Map<string, string>()
  const seen = new Set<string>()
  let current: Family | undefined
  const lines = text.slice(0, -1).split('\n')
  lines.forEach((line, index) => {
    const where = `line ${index + 1}: ${line}`
    const helpMatch = HELP.exec(line)
    if (helpMatch) {
      const [, name, text] = helpMatch
      if (help.has(name!)) throw new Error(`HELP repeated, ${where}`)
      help.set(name!, text!)
      return
    }
    const typeMatch = TYPE.exec(line)
    if (typeMatch) {
      const [, name, type] = typeMatch
      if (families.has(name!)) throw new Error(`TYPE repeated, ${where}`)
      if (!help.has(name!)) throw new Error(`TYPE without a HELP before it, ${where}`)
      current = { name: name!, help: help.get(name!)!, type: type as Family['type'], samples: [] }
      families.set(name!, current)
      return
    }
    if (line.startsWith('#')) throw new Error(`unknown comment, ${where}`)
    const sample = SAMPLE.exec(line)
    if (!sample) throw new Error(`not a sample, ${where}`)
    const [, name, labelText = '', value] = sample
    const family = familyOf(name!, families)
    if (!family) throw new Error(`sample without HELP and TYPE, ${where}`)
    if (family !== current) throw new Error(`sample away from its family's block, ${where}`)
    const labels: Record<string, string> = {}
    for (const [, key, text] of labelText.matchAll(ONE_LABEL)) {
      if (key! in labels) throw new Error(`label repeated, ${where}`)
      labels[key!] = text!.replace(/\\n/g, '\n').replace(/\\(["\\])/g, '$1')
    }
    const identity = `${name}{${Object.entries(labels)
      .sort()
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join(',')}}`
    if (seen.has(identity)) throw new Error(`sample repeated, ${where}`)
    seen.add(identity)
    family.samples.push({ name: name!, labels, value: parseFloatToken(value!) })
  })
  for (const name of help.keys()) if (!families.has(name)) throw new Error(`HELP without TYPE: ${name}`)
  for (const family of families.values()) if (family.type === 'histogram') checkHistogram(family)
  return families
}

/** The label set of a histogram sample without `le`, as a key. */
const seriesKey = (labels: Record<string, string>) =>
  JSON.stringify(
    Object.entries(labels)
      .filter(([key]) => key !== 'le')
      .sort(),
  )

function checkHistogram(family: Family): void {
  const groups = new Map<string, Sample[]>()
  for (const sample of family.samples) {
    const key = seriesKey(sample.labels)
    groups.set(key, [...(groups.get(key) ?? []), sample])
  }
  if (groups.size === 0) throw new Error(`histogram ${family.name} has no samples`)
  for (const [key, samples] of groups) {
    const where = `histogram ${family.name} ${key}`
    const buckets = samples.filter((s) => s.name === `${family.name}_bucket`)
    const sum = samples.filter((s) => s.name === `${family.name}_sum`)
    const count = samples.filter((s) => s.name === `${family.name}_count`)
    if (sum.length !== 1 || count.length !== 1) throw new Error(`${where}: needs one _sum and one _count`)
    if (buckets.length === 0) throw new Error(`${where}: no buckets`)
    let previous: Sample | undefined
    for (const bucket of buckets) {
      const le = bucket.labels.le
      if (le === undefined) throw new Error(`${where}: a bucket without le`)
      const bound = parseFloatToken(le)
      if (Number.isNaN(bound)) throw new Error(`${where}: le="${le}" is not a number`)
      if (previous) {
        if (bound <= parseFloatToken(previous.labels.le!)) throw new Error(`${where}: le not ascending at ${le}`)
        if (bucket.value < previous.value) throw new Error(`${where}: buckets not cumulative at le="${le}"`)
      }
      previous = bucket
    }
    if (previous!.labels.le !== '+Inf') throw new Error(`${where}: the last bucket is not le="+Inf"`)
    if (previous!.value !== count[0]!.value) throw new Error(`${where}: +Inf bucket ≠ _count`)
  }
}

/** The value of one sample (labels must match exactly), or undefined. */
export function sampleValue(
  families: Map<string, Family>,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const family of families.values()) {
    for (const sample of family.samples) {
      if (sample.name !== name) continue
      const keys = Object.keys(sample.labels)
      if (keys.length === Object.keys(labels).length && keys.every((k) => sample.labels[k] === labels[k])) {
        return sample.value
      }
    }
  }
  return undefined
}
