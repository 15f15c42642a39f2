/** Prometheus counters and gauges, rendered in the text exposition format at GET /metrics. */
type Kind = 'counter' | 'gauge'

export class Metrics {
  private readonly series = new Map<string, { help: string; kind: Kind; values: Map<string, number> }>()

  constructor(private readonly prefix = 'headshot_') {}

  /** Add to a counter (created at 0 on first use). */
  inc(name: string, help: string, labels: Record<string, string> = {}, by = 1): void {
    const values = this.values(name, help, 'counter')
    const key = labelKey(labels)
    values.set(key, (values.get(key) ?? 0) + by)
  }

  /** Set a gauge to a value (e.g. a queue length). */
  set(name: string, help: string, labels: Record<string, string>, value: number): void {
    this.values(name, help, 'gauge').set(labelKey(labels), value)
  }

  /** Declare a series so that it is rendered (at 0) before its first event. */
  declare(name: string, help: string, kind: Kind = 'counter'): void {
    this.values(name, help, kind)
  }

  /** The current value of one series (tests, the console's status line). */
  value(name: string, labels: Record<string, string> = {}): number {
    return this.series.get(name)?.values.get(labelKey(labels)) ?? 0
  }

  render(): string {
    const lines: string[] = []
    for (const [name, { help, kind, values }] of this.series) {
      const full = this.prefix + name
      lines.push(`# HELP ${full} ${help}`, `# TYPE ${full} ${kind}`)
      if (values.size === 0) lines.push(`${full} 0`)
      for (const [labels, value] of values) lines.push(`${full}${labels ? `{${labels}}` : ''} ${value}`)
    }
    return `${lines.join('\n')}\n`
  }

  private values(name: string, help: string, kind: Kind): Map<string, number> {
    const existing = this.series.get(name)
    if (existing) return existing.values
    const created = { help, kind, values: new Map<string, number>() }
    this.series.set(name, created)
    return created.values
  }
}

function labelKey(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, '_')}"`)
    .join(',')
}
