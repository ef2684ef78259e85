// ECharts wrapper: one canvas instance per <Chart>, resized with its container
// and updated when `option` changes. Only the charts and components the console
// uses are registered, to keep the bundle small.
import { useEffect, useRef } from 'preact/hooks';
import * as echarts from 'echarts/core';
import type { EChartsCoreOption } from 'echarts/core';
import { BarChart, LineChart, ScatterChart, PieChart, HeatmapChart } from 'echarts/charts';
import {
  GridComponent,
  TooltipComponent,
  LegendComponent,
  TitleComponent,
  DataZoomComponent,
  MarkLineComponent,
  VisualMapComponent,
} from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([
  BarChart,
  LineChart,
  ScatterChart,
  PieChart,
  HeatmapChart,
  GridComponent,
  TooltipComponent,
  LegendComponent,
  TitleComponent,
  DataZoomComponent,
  MarkLineComponent,
  VisualMapComponent,
  CanvasRenderer,
]);

export type { EChartsCoreOption };

/** Console palette, shared by all charts. */
export const palette = ['#2563eb', '#f59e0b', '#10b981', '#ef4444', '#8b5cf6', '#0891b2', '#db2777', '#65a30d'];

export function Chart(props: { option: EChartsCoreOption; height?: number; testid?: string; label?: string }) {
  const el = useRef<HTMLDivElement>(null);
  const inst = useRef<echarts.ECharts | null>(null);

  useEffect(() => {
    if (!el.current) return;
    const chart = echarts.init(el.current, undefined, { renderer: 'canvas' });
    inst.current = chart;
    let ro: ResizeObserver | null = null;
    if (typeof ResizeObserver !== 'undefined') {
      ro = new ResizeObserver(() => chart.resize());
      ro.observe(el.current);
    }
    return () => {
      ro?.disconnect();
      chart.dispose();
      inst.current = null;
    };
  }, []);

  useEffect(() => {
    inst.current?.setOption({ color: palette, animationDuration: 300, ...props.option }, { notMerge: true });
  }, [props.option]);

  return (
    <div
      class="chart"
      ref={el}
      role="img"
      aria-label={props.label ?? 'chart'}
      data-testid={props.testid}
      style={{ height: `${props.height ?? 260}px` }}
    />
  );
}
