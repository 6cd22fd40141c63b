// A line chart of a run's numbers, drawn by uPlot (a small, maintained canvas charting library). The
// chart is made once per set of series and fed new data as metrics arrive, so a live run redraws in
// place instead of rebuilding; its width follows the panel.
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  label: string;
  color: string;
  values: (number | null)[];
  /** Dashed line (a reference, not the model itself). */
  dash?: boolean;
}

export function Chart({ title, steps, series, yLabel, testId, range }: { title: string; steps: number[]; series: ChartSeries[]; yLabel: string; testId: string; range?: [number, number] }) {
  const box = useRef<HTMLDivElement | null>(null);
  const plot = useRef<uPlot | null>(null);
  const key = series.map((s) => s.label).join('|');

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const css = getComputedStyle(document.documentElement);
    const text = css.getPropertyValue('--text-muted').trim() || '#999';
    const grid = css.getPropertyValue('--border').trim() || '#444';
    const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    const opts: uPlot.Options = {
      width: Math.max(280, el.clientWidth),
      height: 200,
      // The legend names the lines; the values under the cursor show on hover only.
      legend: { show: true, live: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: false }, ...(range ? { y: { range } } : {}) },
      // Steps are whole numbers: no ticks at 1.5.
      axes: [{ ...axis, label: 'step', incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000] }, { ...axis, label: yLabel, size: 60 }],
      series: [{ label: 'step' }, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2, ...(s.dash ? { dash: [6, 4] } : {}), points: { show: false } }))],
    };
    const u = new uPlot(opts, [steps, ...series.map((s) => s.values)] as uPlot.AlignedData, el);
    plot.current = u;
    const ro = new ResizeObserver(() => u.setSize({ width: Math.max(280, el.clientWidth), height: 200 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
    // Rebuilt only when the set of series changes; data changes go through setData below.
  }, [key, yLabel]);

  useEffect(() => {
    plot.current?.setData([steps, ...series.map((s) => s.values)] as uPlot.AlignedData);
  }, [steps, series]);

  return (
    <figure className="chart" data-testid={testId} data-points={steps.length}>
      <figcaption className="small muted">{title}</figcaption>
      <div ref={box} />
    </figure>
  );
}
