/** A few Prometheus counters, rendered in the text exposition format at GET /metrics. */
export class Metrics {
  private readonly counters = new Map<string, { help: string; values: Map<string, number> }>()

  constructor(private readonly prefix = 'headshot_') {}

  inc(name: string, help: string, labels: Record<string, string> = {}, by = 1): void {
    let counter = this.counters.get(name)
    if (!counter) this.counters.set(name, (counter = { help, values: new Map() }))
    const key = Object.entries(labels)
      .map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, '_')}"`)
      .join(',')
    counter.values.set(key, (counter.values.get(key) ?? 0) + by)
  }

  render(): string {
    const lines: string[] = []
    for (const [name, { help, values }] of this.counters) {
      const full = this.prefix + name
      lines.push(`# HELP ${full} ${help}`, `# TYPE ${full} counter`)
      for (const [labels, value] of values) lines.push(`${full}${labels ? `{${labels}}` : ''} ${value}`)
    }
    return lines.join('\n') + '\n'
  }
}
