import { useEffect, useRef } from 'react'
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'

export interface TimeSeries {
  label: string
  color: string
  values: (number | null)[]
  /** Dashed, for a second quantity sharing the chart (told apart without colour). */
  dash?: boolean
}

/** A time chart (uPlot): x in unix seconds, one line per series; fits its container's width. */
export function TimeChart({ title, times, series, unit, testId }: { title: string; times: number[]; series: TimeSeries[]; unit: string; testId?: string }) {
  const box = useRef<HTMLDivElement>(null)
  const plot = useRef<uPlot | null>(null)
  const shape = series.map((s) => `${s.label}/${s.color}/${s.dash}`).join('|')

  useEffect(() => {
    const el = box.current
    if (!el) return
    const options: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height: 220,
      series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2, dash: s.dash ? [6, 4] : undefined, value: (_u: uPlot, v: number | null) => (v === null ? '–' : `${v} ${unit}`) }))],
      axes: [{}, { label: unit, size: 60 }],
      legend: { show: true },
    }
    plot.current = new uPlot(options, [times, ...series.map((s) => s.values)] as uPlot.AlignedData, el)
    const resize = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(200, el.clientWidth), height: 220 }))
    resize.observe(el)
    return () => {
      resize.disconnect()
      plot.current?.destroy()
      plot.current = null
    }
    // Rebuilt only when the series themselves change; new data goes through setData below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [shape, unit])

  useEffect(() => {
    plot.current?.setData([times, ...series.map((s) => s.values)] as uPlot.AlignedData)
  }, [times, series])

  return (
    <figure className="chart" data-testid={testId}>
      <figcaption>{title}</figcaption>
      <div ref={box} className="chart-box" role="img" aria-label={`${title} chart`} />
    </figure>
  )
}
