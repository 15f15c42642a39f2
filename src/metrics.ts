/**
 * Prometheus counters, gauges and histograms, rendered in the text exposition format (version
 * 0.0.4) at GET /metrics. A small class rather than prom-client: the series headshot needs are few,
 * rendering is synchronous, and prom-client's default process metrics read wrong under Bun
 * (docs/operations.md, Metrics).
 */
type Kind = 'counter' | 'gauge' | 'histogram'

/**
 * Upper bounds (seconds) for durations: a hot answer takes well under a millisecond, a stored one a
 * few, a derivation tens, an upstream fetch up to the 15 s fetch timeout.
 */
export const DURATION_BUCKETS: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
]

interface Histogram {
  /** Observations per bucket (not cumulative; the last slot is +Inf). */
  counts: number[]
  sum: number
  count: number
}

interface Series {
  help: string
  kind: Kind
  values: Map<string, number>
  /** Counters and gauges read when scraped (`gauge`, `cumulative`). */
  read?: () => number
  buckets?: readonly number[]
  histograms?: Map<string, Histogram>
}

export class Metrics {
  private readonly series = new Map<string, Series>()

  constructor(private readonly prefix = 'headshot_') {}

  /** Add to a counter (created at 0 on first use). */
  inc(name: string, help: string, labels: Record<string, string> = {}, by = 1): void {
    const values = this.entry(name, help, 'counter').values
    const key = labelKey(labels)
    values.set(key, (values.get(key) ?? 0) + by)
  }

  /** Set a gauge to a value (e.g. a queue length). */
  set(name: string, help: string, labels: Record<string, string>, value: number): void {
    this.entry(name, help, 'gauge').values.set(labelKey(labels), value)
  }

  /** Declare a series so that it is rendered (at 0) before its first event. */
  declare(name: string, help: string, kind: Kind = 'counter'): void {
    this.entry(name, help, kind)
  }

  /** A gauge whose value is read at each scrape (queue depth, busy workers): never stale, free between scrapes. */
  gauge(name: string, help: string, read: () => number): void {
    this.entry(name, help, 'gauge').read = read
  }

  /** A counter kept elsewhere (CPU seconds), read at each scrape. */
  cumulative(name: string, help: string, read: () => number): void {
    this.entry(name, help, 'counter').read = read
  }

  /**
   * Declare a histogram. `labels` lists the label sets known in advance, rendered at 0 from the
   * first scrape; without any, one unlabelled histogram is rendered.
   */
  histogram(
    name: string,
    help: string,
    options: { buckets?: readonly number[]; labels?: Array<Record<string, string>> } = {},
  ): void {
    const series = this.entry(name, help, 'histogram', options.buckets)
    for (const labels of options.labels ?? []) this.cell(series, labelKey(labels))
  }

  /** Record one observation (seconds, bytes) into a histogram (declared with default buckets on first use). */
  observe(name: string, help: string, labels: Record<string, string>, value: number): void {
    const series = this.entry(name, help, 'histogram')
    const cell = this.cell(series, labelKey(labels))
    const buckets = series.buckets!
    let i = 0
    while (i < buckets.length && value > buckets[i]!) i++
    cell.counts[i]!++
    cell.sum += value
    cell.count++
  }

  /** The current value of one counter or gauge (tests, the console's status line); a histogram's count. */
  value(name: string, labels: Record<string, string> = {}): number {
    const series = this.series.get(name)
    if (series?.read) return series.read()
    const key = labelKey(labels)
    return series?.histograms?.get(key)?.count ?? series?.values.get(key) ?? 0
  }

  render(): string {
    const lines: string[] = []
    for (const [name, series] of this.series) {
      const full = this.prefix + name
      lines.push(`# HELP ${full} ${escapeHelp(series.help)}`, `# TYPE ${full} ${series.kind}`)
      if (series.kind === 'histogram') renderHistograms(lines, full, series)
      else if (series.read) lines.push(`${full} ${number(readSafely(series.read))}`)
      else if (series.values.size === 0) lines.push(`${full} 0`)
      else
        for (const [labels, value] of series.values)
          lines.push(`${full}${labels ? `{${labels}}` : ''} ${number(value)}`)
    }
    return `${lines.join('\n')}\n`
  }

  private entry(name: string, help: string, kind: Kind, buckets?: readonly number[]): Series {
    const existing = this.series.get(name)
    if (existing) return existing
    const created: Series = { help, kind, values: new Map() }
    if (kind === 'histogram') {
      created.buckets = checkedBuckets(buckets ?? DURATION_BUCKETS, name)
      created.histograms = new Map()
    }
    this.series.set(name, created)
    return created
  }

  private cell(series: Series, key: string): Histogram {
    let cell = series.histograms!.get(key)
    if (!cell) {
      cell = { counts: new Array(series.buckets!.length + 1).fill(0), sum: 0, count: 0 }
      series.histograms!.set(key, cell)
    }
    return cell
  }
}

function renderHistograms(lines: string[], full: string, series: Series): void {
  const buckets = series.buckets!
  const cells = series.histograms!.size === 0 ? new Map([['', undefined]]) : series.histograms!
  for (const [labels, cell] of cells) {
    const prefix = labels ? `${labels},` : ''
    const suffix = labels ? `{${labels}}` : ''
    let cumulative = 0
    for (let i = 0; i <= buckets.length; i++) {
      cumulative += cell?.counts[i] ?? 0
      const le = i < buckets.length ? number(buckets[i]!) : '+Inf'
      lines.push(`${full}_bucket{${prefix}le="${le}"} ${cumulative}`)
    }
    lines.push(`${full}_sum${suffix} ${number(cell?.sum ?? 0)}`, `${full}_count${suffix} ${cell?.count ?? 0}`)
  }
}

function checkedBuckets(buckets: readonly number[], name: string): readonly number[] {
  const ascending = buckets.every((b, i) => Number.isFinite(b) && (i === 0 || b > buckets[i - 1]!))
  if (buckets.length === 0 || !ascending) throw new Error(`histogram ${name}: buckets must be finite and ascending`)
  return [...buckets]
}

/** A scrape must not fail because one reading did (a closed pool, /proc gone): that sample says NaN. */
function readSafely(read: () => number): number {
  try {
    return read()
  } catch {
    return Number.NaN
  }
}

/** The exposition format spells infinities and NaN its own way. */
function number(value: number): string {
  if (Number.isNaN(value)) return 'NaN'
  if (value === Number.POSITIVE_INFINITY) return '+Inf'
  if (value === Number.NEGATIVE_INFINITY) return '-Inf'
  return String(value)
}

const escapeHelp = (help: string) => help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')

const LABEL_UNSAFE = /["\\\n]/
const LABEL_UNSAFE_ALL = /["\\\n]/g

/** `a="x",b="y"`, in the labels' order. Built by hand: it runs several times per request. */
function labelKey(labels: Record<string, string>): string {
  let key = ''
  for (const name in labels) {
    if (!Object.hasOwn(labels, name)) continue
    const value = labels[name]!
    const safe = LABEL_UNSAFE.test(value) ? value.replace(LABEL_UNSAFE_ALL, '_') : value
    key = key === '' ? `${name}="${safe}"` : `${key},${name}="${safe}"`
  }
  return key
}
