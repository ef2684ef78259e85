// Evaluation: the reports written by `souk eval ... --json`, served by
// GET /v1/admin/reports and /v1/admin/reports/{name}. Rendering is generic: it
// looks for metric@K families, arrays named *curve*, `reliability` bins,
// feature-importance lists and accuracy-vs-exposure points anywhere in a
// report, so new protocols show up without changes here.
import { useMemo, useState } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import { apiGet } from '../api';
import { Chart } from '../chart';
import type { EChartsCoreOption } from '../chart';
import { useT } from '../i18n';
import { Card, ErrorBox, JsonView, Loading, PageHead, Stat, Table, fix, fmtTime, useAsync } from '../ui';

const dict = {
  en: {
    title: 'Evaluation',
    intro:
      'Offline evaluation reports written by `souk eval … --json`. Pick a report to see its metrics, ablations, training curves and calibration.',
    reports: 'Reports',
    noReports: 'No reports yet. Run for example `souk eval intent --protocol rees46 --events FILE --json` to produce one.',
    task_search: 'Search',
    task_rec: 'Recommendations',
    task_intent: 'Purchase intent',
    task_ner: 'Query entities (NER)',
    task_other: 'Other',
    protocol: 'Protocol',
    dataset: 'Dataset',
    created: 'Created',
    seconds: 'Run time',
    secondsValue: '{s} s',
    headline: 'Headline metrics',
    metric: 'Metric',
    value: 'Value',
    metricVsK: 'Metric vs K',
    metricVsKHint:
      'Each chart is one metric family (metric@K). One line for the engine and one per ablation; a single K shows as points.',
    engine: 'engine',
    ablations: 'Ablations',
    ablationsHint:
      'Each ablation is the same protocol run with one part of the pipeline swapped or removed. Best value per column in bold (lower is better for losses, ECE and RMSE).',
    variant: 'Variant',
    training: 'Training curves',
    trainingHint: 'Every numeric array named *curve* in the report, one line per path. x = logged step (loss) or epoch (validation).',
    lossCurves: 'Loss',
    otherCurves: 'Validation and other curves',
    step: 'step',
    epoch: 'epoch',
    calibration: 'Calibration (reliability diagram)',
    calibrationHint:
      'Predictions are grouped into bins. A calibrated model lies on the diagonal: among sessions predicted at 30%, 30% convert. Bars: sessions per bin.',
    meanPrediction: 'mean prediction',
    observedRate: 'observed rate',
    perfect: 'perfect calibration',
    count: 'count',
    eceReport: 'ECE (report)',
    eceBins: 'ECE (from bins)',
    importance: 'Feature importance',
    importanceHint: 'Mean absolute contribution per feature (SHAP or the ranker’s contributions), top 20.',
    exposure: 'Accuracy vs long-tail exposure',
    exposureHint: 'Each point trades accuracy against how much of the long tail gets shown.',
    noExposure:
      'This report has no accuracy-vs-exposure curve (no array of points with an exposure/tail field and an accuracy field).',
    compare: 'Compare with another run of the same protocol',
    compareNone: 'No other report with protocol {p}.',
    compareWith: 'Other report',
    choose: '— choose —',
    thisRun: 'this report',
    otherRun: 'other report',
    delta: 'Δ (this − other)',
    raw: 'Raw report JSON',
    select: 'Select a report.',
  },
  zh: {
    title: '评估',
    intro: '由 `souk eval … --json` 生成的离线评估报告。选择一份报告，查看指标、消融实验、训练曲线和校准情况。',
    reports: '报告',
    noReports: '还没有报告。例如运行 `souk eval intent --protocol rees46 --events FILE --json` 生成一份。',
    task_search: '搜索',
    task_rec: '推荐',
    task_intent: '购买意图',
    task_ner: '查询实体识别（NER）',
    task_other: '其他',
    protocol: '协议',
    dataset: '数据集',
    created: '创建时间',
    seconds: '运行时间',
    secondsValue: '{s} 秒',
    headline: '主要指标',
    metric: '指标',
    value: '数值',
    metricVsK: '指标随 K 的变化',
    metricVsKHint: '每张图是一个指标族（metric@K）。引擎一条线，每个消融实验一条线；只有一个 K 时显示为点。',
    engine: '引擎',
    ablations: '消融实验',
    ablationsHint: '每个消融实验都是同一协议下替换或去掉管线中某一部分后的结果。每列最佳值加粗（损失、ECE、RMSE 越低越好）。',
    variant: '变体',
    training: '训练曲线',
    trainingHint: '报告中所有名为 *curve* 的数值数组，每个路径一条线。x 为记录的步数（损失）或轮次（验证）。',
    lossCurves: '损失',
    otherCurves: '验证及其他曲线',
    step: '步',
    epoch: '轮次',
    calibration: '校准（可靠性图）',
    calibrationHint: '预测值被分到若干区间。校准良好的模型落在对角线上：预测为 30% 的会话中有 30% 转化。柱形：每个区间的会话数。',
    meanPrediction: '平均预测值',
    observedRate: '实际比例',
    perfect: '完美校准',
    count: '数量',
    eceReport: 'ECE（报告）',
    eceBins: 'ECE（按区间计算）',
    importance: '特征重要性',
    importanceHint: '每个特征的平均绝对贡献（SHAP 或排序模型的贡献），前 20 个。',
    exposure: '准确率与长尾曝光',
    exposureHint: '每个点表示准确率与长尾商品曝光程度之间的一种权衡。',
    noExposure: '此报告没有“准确率—曝光”曲线（未找到同时含有曝光/长尾字段和准确率字段的数组）。',
    compare: '与同一协议的另一次运行比较',
    compareNone: '没有协议为 {p} 的其他报告。',
    compareWith: '另一份报告',
    choose: '— 请选择 —',
    thisRun: '本报告',
    otherRun: '另一份报告',
    delta: 'Δ（本报告 − 另一份）',
    raw: '报告原始 JSON',
    select: '请选择一份报告。',
  },
};

// ---------------------------------------------------------------------------
// Report shapes and generic extraction (exported: the Learn page reuses them).

export interface ReportInfo {
  name: string;
  task: string;
  protocol: string;
  dataset?: string;
  created_ms?: number;
  bytes?: number;
}

export interface Report {
  task?: string;
  protocol?: string;
  dataset?: string;
  metrics?: Record<string, number | null>;
  ablations?: Record<string, Record<string, number | null>>;
  extra?: Record<string, unknown>;
  seconds?: number;
}

export async function listReports(): Promise<ReportInfo[]> {
  const r = await apiGet<{ reports: ReportInfo[] }>('/v1/admin/reports');
  return [...(r.reports ?? [])].sort((a, b) => (b.created_ms ?? 0) - (a.created_ms ?? 0));
}

export async function getReport(name: string): Promise<Report> {
  return apiGet<Report>(`/v1/admin/reports/${encodeURIComponent(name)}`);
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** Calls fn(path, key, value) for every entry of nested objects (arrays of objects too). */
function walk(v: unknown, path: string, fn: (path: string, key: string, value: unknown) => void) {
  if (isObj(v)) {
    for (const [k, x] of Object.entries(v)) {
      const p = path ? `${path}.${k}` : k;
      fn(p, k, x);
      walk(x, p, fn);
    }
  } else if (Array.isArray(v)) {
    v.forEach((x, i) => {
      if (isObj(x)) walk(x, `${path}[${i}]`, fn);
    });
  }
}

export interface Curve {
  path: string; // where the array lives, without its own key, e.g. "timing.bert.finetune.fold0"
  key: string; // e.g. "loss_curve"
  values: number[];
}

/** Every array of >= 2 numbers whose key contains "curve". */
export function findCurves(root: unknown): Curve[] {
  const out: Curve[] = [];
  walk(root, '', (path, key, value) => {
    if (!/curve/i.test(key) || !Array.isArray(value) || value.length < 2 || !value.every(isNum)) return;
    const parent = path.slice(0, Math.max(0, path.length - key.length - 1));
    out.push({ path: parent || key, key, values: value as number[] });
  });
  return out;
}

export interface ReliabilityBin {
  lower?: number;
  upper?: number;
  mean_prediction: number;
  observed_rate: number;
  count?: number;
}

export function findReliability(root: unknown): { path: string; bins: ReliabilityBin[] }[] {
  const out: { path: string; bins: ReliabilityBin[] }[] = [];
  walk(root, '', (path, key, value) => {
    if (key !== 'reliability' || !Array.isArray(value) || value.length === 0) return;
    const bins = value.filter((b) => isObj(b) && isNum(b.mean_prediction) && isNum(b.observed_rate)) as ReliabilityBin[];
    if (bins.length) out.push({ path, bins });
  });
  return out;
}

export interface Importance {
  path: string;
  rows: { feature: string; value: number }[];
}

/** Lists of {feature, <number>} and maps named *importance* / *contribution* of feature -> number. */
export function findImportance(root: unknown): Importance[] {
  const out: Importance[] = [];
  walk(root, '', (path, key, value) => {
    if (Array.isArray(value) && value.length > 0 && value.every((r) => isObj(r) && typeof r.feature === 'string')) {
      const numKey = Object.keys(value[0] as object).find((k) => k !== 'feature' && isNum((value[0] as Record<string, unknown>)[k]));
      if (!numKey) return;
      out.push({
        path: `${path} (${numKey})`,
        rows: (value as Record<string, unknown>[]).map((r) => ({ feature: String(r.feature), value: Number(r[numKey]) })),
      });
    } else if (isObj(value) && /importance|contribution/i.test(key)) {
      const rows = Object.entries(value)
        .filter(([, x]) => isNum(x))
        .map(([feature, x]) => ({ feature, value: x as number }));
      if (rows.length > 1) out.push({ path, rows });
    }
  });
  for (const imp of out) imp.rows.sort((a, b) => Math.abs(b.value) - Math.abs(a.value));
  return out;
}

export interface ExposureCurve {
  path: string;
  xKey: string;
  yKey: string;
  points: { x: number; y: number; label: string }[];
}

const kExposureKey = /exposure|tail|coverage|novelty|gini/i;
const kAccuracyKey = /recall|ndcg|hit|precision|mrr|map|accuracy/i;

/** Arrays of objects with an exposure/tail-share field and an accuracy field. */
export function findExposureCurves(root: unknown): ExposureCurve[] {
  const out: ExposureCurve[] = [];
  walk(root, '', (path, _key, value) => {
    if (!Array.isArray(value) || value.length < 2 || !value.every(isObj)) return;
    const first = value[0] as Record<string, unknown>;
    const keys = Object.keys(first).filter((k) => isNum(first[k]));
    const xKey = keys.find((k) => kExposureKey.test(k));
    const yKey = keys.find((k) => kAccuracyKey.test(k) && k !== xKey);
    if (!xKey || !yKey) return;
    const labelKey = Object.keys(first).find((k) => /^(label|name|setting|lambda|alpha|weight|beta|k|min_share)$/i.test(k));
    const points = (value as Record<string, unknown>[])
      .filter((p) => isNum(p[xKey]) && isNum(p[yKey]))
      .map((p) => ({ x: p[xKey] as number, y: p[yKey] as number, label: labelKey ? String(p[labelKey]) : '' }));
    if (points.length >= 2) out.push({ path, xKey, yKey, points });
  });
  return out;
}

/** metric@K families: family -> K -> value. */
export function metricFamilies(m: Record<string, number | null> | undefined): Map<string, Map<number, number>> {
  const fam = new Map<string, Map<number, number>>();
  for (const [k, v] of Object.entries(m ?? {})) {
    const match = /^(.+)@(\d+)$/.exec(k);
    if (!match || !isNum(v)) continue;
    if (!fam.has(match[1])) fam.set(match[1], new Map());
    fam.get(match[1])!.set(Number(match[2]), v);
  }
  return fam;
}

export const lowerIsBetter = (metric: string) => /loss|ece|rmse|mse|mae|error|brier|latency|seconds/i.test(metric);

/** Formats a metric: integers as integers, else 4 decimals. */
export function fmtMetric(v: unknown): string {
  if (v === null || v === undefined) return '–';
  if (typeof v !== 'number') return String(v);
  if (!Number.isFinite(v)) return '–';
  return Number.isInteger(v) ? String(v) : fix(v, 4);
}

function curveLabel(c: Curve) {
  return c.path.replace(/^extra\./, '');
}

// ---------------------------------------------------------------------------
// Charts

const phoneGrid = { left: 48, right: 16, top: 40, bottom: 48, containLabel: true };

function metricVsKOption(family: string, report: Report, engineLabel: string): EChartsCoreOption {
  const sources: [string, Record<string, number | null> | undefined][] = [[engineLabel, report.metrics]];
  for (const [name, m] of Object.entries(report.ablations ?? {})) sources.push([name, m]);
  const ks = new Set<number>();
  const series: { name: string; data: [string, number][] }[] = [];
  for (const [name, m] of sources) {
    const f = metricFamilies(m).get(family);
    if (!f || f.size === 0) continue;
    f.forEach((_, k) => ks.add(k));
    series.push({ name, data: [...f.entries()].sort((a, b) => a[0] - b[0]).map(([k, v]) => [String(k), v]) });
  }
  const cats = [...ks].sort((a, b) => a - b).map(String);
  return {
    title: { text: `${family}@K`, textStyle: { fontSize: 13 } },
    tooltip: { trigger: 'axis' },
    legend: { type: 'scroll', bottom: 0 },
    grid: { ...phoneGrid, bottom: 56 },
    xAxis: { type: 'category', data: cats, name: 'K' },
    yAxis: { type: 'value', scale: true },
    series: series.map((s) => ({ name: s.name, type: 'line', data: s.data, showSymbol: true, symbolSize: 9 })),
  };
}

function ablationOption(rows: { name: string; m: Record<string, number | null> }[], metrics: string[]): EChartsCoreOption {
  return {
    tooltip: { trigger: 'axis' },
    legend: { type: 'scroll', top: 0 },
    grid: { ...phoneGrid, top: 36, bottom: 8 },
    xAxis: { type: 'category', data: rows.map((r) => r.name), axisLabel: { rotate: 30, interval: 0, fontSize: 11 } },
    yAxis: { type: 'value' },
    series: metrics.map((metric) => ({
      name: metric,
      type: 'bar',
      data: rows.map((r) => (isNum(r.m[metric]) ? r.m[metric] : null)),
    })),
  };
}

function curvesOption(curves: Curve[], xName: string): EChartsCoreOption {
  return {
    tooltip: { trigger: 'axis' },
    legend: { type: 'scroll', bottom: 0 },
    grid: { ...phoneGrid, bottom: 56 },
    xAxis: { type: 'value', name: xName, minInterval: 1 },
    yAxis: { type: 'value', scale: true },
    series: curves.map((c) => ({
      name: curveLabel(c),
      type: 'line',
      showSymbol: c.values.length <= 20,
      data: c.values.map((v, i) => [i + 1, v]),
    })),
  };
}

function reliabilityOption(all: ReliabilityBin[], t: (k: keyof (typeof dict)['en']) => string): EChartsCoreOption {
  // Empty bins carry placeholder zeros; leave them out of the curve.
  const bins = all.filter((b) => b.count === undefined || b.count > 0).sort((a, b) => a.mean_prediction - b.mean_prediction);
  return {
    tooltip: { trigger: 'item' },
    legend: { bottom: 0 },
    grid: { ...phoneGrid, bottom: 56, right: 48 },
    xAxis: { type: 'value', min: 0, max: 1, name: t('meanPrediction'), nameLocation: 'middle', nameGap: 26 },
    yAxis: [
      { type: 'value', min: 0, max: 1, name: t('observedRate') },
      { type: 'value', name: t('count'), splitLine: { show: false } },
    ],
    series: [
      {
        name: t('count'),
        type: 'bar',
        yAxisIndex: 1,
        barWidth: 14,
        itemStyle: { color: '#cbd5e1' },
        data: bins.map((b) => [isNum(b.lower) && isNum(b.upper) ? (b.lower + b.upper) / 2 : b.mean_prediction, b.count ?? 0]),
      },
      {
        name: t('perfect'),
        type: 'line',
        data: [
          [0, 0],
          [1, 1],
        ],
        showSymbol: false,
        lineStyle: { type: 'dashed', color: '#64748b' },
        itemStyle: { color: '#64748b' },
      },
      {
        name: t('observedRate'),
        type: 'line',
        data: bins.map((b) => [b.mean_prediction, b.observed_rate]),
        symbolSize: 8,
        itemStyle: { color: '#2563eb' },
      },
    ],
  };
}

function importanceOption(rows: { feature: string; value: number }[]): EChartsCoreOption {
  const top = rows.slice(0, 20).reverse();
  return {
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    grid: { left: 8, right: 24, top: 8, bottom: 8, containLabel: true },
    xAxis: { type: 'value' },
    yAxis: { type: 'category', data: top.map((r) => r.feature), axisLabel: { fontSize: 11, width: 130, overflow: 'truncate' } },
    series: [{ type: 'bar', data: top.map((r) => r.value) }],
  };
}

function exposureOption(c: ExposureCurve): EChartsCoreOption {
  return {
    tooltip: { trigger: 'item' },
    grid: { ...phoneGrid },
    xAxis: { type: 'value', name: c.xKey, nameLocation: 'middle', nameGap: 26, scale: true },
    yAxis: { type: 'value', name: c.yKey, scale: true },
    series: [
      {
        type: 'line',
        data: [...c.points].sort((a, b) => a.x - b.x).map((p) => ({ value: [p.x, p.y], name: p.label })),
        symbolSize: 9,
        label: { show: true, formatter: (p: { name: string }) => p.name, position: 'top', fontSize: 10 },
      },
    ],
  };
}

// ---------------------------------------------------------------------------
// Page

const kTaskOrder = ['search', 'rec', 'intent', 'ner'];
const layout = { display: 'flex', flexWrap: 'wrap', gap: '16px', alignItems: 'flex-start' } as const;
const aside = { flex: '1 1 240px', minWidth: 0, maxWidth: '100%' } as const;
const main = { flex: '999 1 420px', minWidth: 0, display: 'flex', flexDirection: 'column', gap: '16px' } as const;
const chartGrid = { display: 'grid', gridTemplateColumns: 'repeat(auto-fit, minmax(min(100%, 320px), 1fr))', gap: '12px' } as const;

export default function Page() {
  const t = useT(dict);
  const list = useAsync(listReports, []);
  const [chosen, setChosen] = useState<string | null>(null);
  const reports = list.data ?? [];
  const selected = chosen ?? reports[0]?.name ?? null;

  const groups = useMemo(() => {
    const g = new Map<string, ReportInfo[]>();
    for (const r of reports) {
      const task = kTaskOrder.includes(r.task) ? r.task : 'other';
      if (!g.has(task)) g.set(task, []);
      g.get(task)!.push(r);
    }
    return [...kTaskOrder, 'other'].filter((k) => g.has(k)).map((k) => [k, g.get(k)!] as const);
  }, [reports]);

  return (
    <div class="page" data-testid="page-evaluation">
      <PageHead title={t('title')} lead={t('intro')} />
      {list.loading && !list.data && <Loading />}
      <ErrorBox error={list.error} path="GET /v1/admin/reports" onRetry={list.reload} />
      {list.data && reports.length === 0 && <p class="notice">{t('noReports')}</p>}
      {reports.length > 0 && (
        <div style={layout}>
          <nav style={aside} aria-label={t('reports')}>
            <Card title={t('reports')}>
              {groups.map(([task, rs]) => (
                <div key={task}>
                  <h3 style={{ fontSize: '0.95rem', margin: '8px 0 4px' }}>{t(`task_${task}` as keyof (typeof dict)['en'])}</h3>
                  <ul data-testid="eval-report-list" style={{ listStyle: 'none', padding: 0, margin: 0 }}>
                    {rs.map((r) => (
                      <li key={r.name}>
                        <button
                          type="button"
                          class={r.name === selected ? 'btn small' : 'btn small ghost'}
                          aria-pressed={r.name === selected}
                          data-testid="eval-report-item"
                          data-name={r.name}
                          onClick={() => setChosen(r.name)}
                          style={{ width: '100%', textAlign: 'left', margin: '2px 0', whiteSpace: 'normal' }}
                        >
                          <strong>{r.protocol}</strong> <span class="muted">{fmtTime(r.created_ms)}</span>
                          {r.dataset && <div class="muted" style={{ fontSize: '0.8rem', overflowWrap: 'anywhere' }}>{r.dataset}</div>}
                        </button>
                      </li>
                    ))}
                  </ul>
                </div>
              ))}
            </Card>
          </nav>
          <div style={main}>
            {selected ? <ReportView key={selected} name={selected} all={reports} /> : <p>{t('select')}</p>}
          </div>
        </div>
      )}
    </div>
  );
}

function ReportView(props: { name: string; all: ReportInfo[] }) {
  const t = useT(dict);
  const rep = useAsync(() => getReport(props.name), [props.name]);
  const info = props.all.find((r) => r.name === props.name);
  if (rep.loading && !rep.data) return <Loading />;
  if (rep.error) return <ErrorBox error={rep.error} path={`GET /v1/admin/reports/${props.name}`} onRetry={rep.reload} />;
  const r = rep.data!;
  return (
    <>
      <Card title={props.name} testid="eval-report">
        <div class="stats">
          <Stat label={t('protocol')} value={r.protocol ?? info?.protocol ?? '–'} />
          <Stat label={t('dataset')} value={<span style={{ fontSize: '0.9rem', overflowWrap: 'anywhere' }}>{r.dataset ?? '–'}</span>} />
          <Stat label={t('created')} value={<span style={{ fontSize: '0.9rem' }}>{fmtTime(info?.created_ms)}</span>} />
          <Stat label={t('seconds')} value={t('secondsValue', { s: fix(r.seconds, 1) })} />
        </div>
      </Card>
      <Headline report={r} />
      <MetricVsK report={r} />
      <Ablations report={r} />
      <TrainingCurves report={r} />
      <Calibration report={r} />
      <FeatureImportance report={r} />
      <ExposureSection report={r} />
      <Compare report={r} info={info} all={props.all} />
      <Card title={t('raw')}>
        <JsonView value={r} label={t('raw')} />
      </Card>
    </>
  );
}

function Headline(props: { report: Report }) {
  const t = useT(dict);
  const rows = Object.entries(props.report.metrics ?? {}).map(([metric, value]) => ({ metric, value }));
  return (
    <Card title={t('headline')}>
      <Table
        testid="eval-metrics"
        caption={t('headline')}
        columns={[
          { key: 'metric', label: t('metric') },
          { key: 'value', label: t('value'), align: 'right', render: (x) => fmtMetric(x.value) },
        ]}
        rows={rows}
      />
    </Card>
  );
}

function MetricVsK(props: { report: Report }) {
  const t = useT(dict);
  const families = useMemo(() => {
    const names = new Set<string>();
    metricFamilies(props.report.metrics).forEach((_, f) => names.add(f));
    for (const m of Object.values(props.report.ablations ?? {})) metricFamilies(m).forEach((_, f) => names.add(f));
    return [...names];
  }, [props.report]);
  const engine = t('engine');
  const options = useMemo(() => families.map((f) => metricVsKOption(f, props.report, engine)), [families, engine]);
  if (families.length === 0) return null;
  return (
    <Card title={t('metricVsK')}>
      <p class="muted">{t('metricVsKHint')}</p>
      <div style={chartGrid}>
        {options.map((o, i) => (
          <Chart key={families[i]} option={o} height={300} testid="eval-metric-k-chart" label={`${families[i]}@K`} />
        ))}
      </div>
    </Card>
  );
}

function Ablations(props: { report: Report }) {
  const t = useT(dict);
  const engine = t('engine');
  const { rows, metrics, chartMetrics } = useMemo(() => {
    const rows = [{ name: engine, m: props.report.metrics ?? {} }];
    for (const [name, m] of Object.entries(props.report.ablations ?? {})) rows.push({ name, m });
    const metricSet = new Set<string>();
    for (const r of rows.slice(1)) Object.keys(r.m).forEach((k) => metricSet.add(k));
    const metrics = [...metricSet];
    const chartMetrics = metrics.filter(
      (k) => !/^n_/.test(k) && rows.some((r) => isNum(r.m[k])) && rows.every((r) => !isNum(r.m[k]) || (r.m[k]! >= 0 && r.m[k]! <= 1)),
    );
    return { rows, metrics, chartMetrics };
  }, [props.report, engine]);
  const option = useMemo(() => ablationOption(rows, chartMetrics), [rows, chartMetrics]);
  if (rows.length < 2) return null;
  const best = new Map<string, number>();
  for (const k of metrics) {
    const vals = rows.map((r) => r.m[k]).filter(isNum);
    if (vals.length > 1 && !/^n_/.test(k)) best.set(k, lowerIsBetter(k) ? Math.min(...vals) : Math.max(...vals));
  }
  return (
    <Card title={t('ablations')} testid="eval-ablations">
      <p class="muted">{t('ablationsHint')}</p>
      {chartMetrics.length > 0 && <Chart option={option} height={320} testid="eval-ablation-chart" label={t('ablations')} />}
      <Table
        caption={t('ablations')}
        columns={[
          { key: 'name', label: t('variant'), render: (r) => <code>{r.name}</code> },
          ...metrics.map((k) => ({
            key: k,
            label: k,
            align: 'right' as const,
            render: (r: { m: Record<string, number | null> }) => {
              const v = r.m[k];
              const isBest = isNum(v) && best.get(k) === v;
              return isBest ? <strong>{fmtMetric(v)}</strong> : fmtMetric(v);
            },
          })),
        ]}
        rows={rows}
      />
    </Card>
  );
}

function TrainingCurves(props: { report: Report }) {
  const t = useT(dict);
  const curves = useMemo(() => findCurves(props.report.extra ?? {}), [props.report]);
  const loss = curves.filter((c) => /loss/i.test(c.key));
  const other = curves.filter((c) => !/loss/i.test(c.key));
  const step = t('step');
  const lossOpt = useMemo(() => curvesOption(loss, step), [curves, step]);
  const epoch = t('epoch');
  const otherOpt = useMemo(() => curvesOption(other, epoch), [curves, epoch]);
  if (curves.length === 0) return null;
  return (
    <Card title={t('training')} testid="eval-training">
      <p class="muted">{t('trainingHint')}</p>
      <div style={chartGrid}>
        {loss.length > 0 && (
          <div>
            <h3>{t('lossCurves')}</h3>
            <Chart option={lossOpt} height={320} testid="eval-loss-chart" label={t('lossCurves')} />
          </div>
        )}
        {other.length > 0 && (
          <div>
            <h3>{t('otherCurves')}</h3>
            <Chart option={otherOpt} height={320} testid="eval-curve-chart" label={t('otherCurves')} />
          </div>
        )}
      </div>
    </Card>
  );
}

export function eceFromBins(bins: ReliabilityBin[]): number | null {
  const total = bins.reduce((s, b) => s + (b.count ?? 0), 0);
  if (total <= 0) return null;
  return bins.reduce((s, b) => s + (b.count ?? 0) * Math.abs(b.mean_prediction - b.observed_rate), 0) / total;
}

function Calibration(props: { report: Report }) {
  const t = useT(dict);
  const found = useMemo(() => findReliability(props.report), [props.report]);
  const options = useMemo(() => found.map((f) => reliabilityOption(f.bins, t)), [found, t('count')]);
  if (found.length === 0) return null;
  const ece = props.report.metrics?.ece;
  return (
    <Card title={t('calibration')} testid="eval-calibration">
      <p class="muted">{t('calibrationHint')}</p>
      {found.map((f, i) => (
        <div key={f.path}>
          <div class="stats">
            {isNum(ece) && <Stat label={t('eceReport')} value={fix(ece, 4)} testid="eval-ece" />}
            <Stat label={t('eceBins')} value={fix(eceFromBins(f.bins), 4)} />
          </div>
          <Chart option={options[i]} height={320} testid="eval-reliability-chart" label={t('calibration')} />
        </div>
      ))}
    </Card>
  );
}

function FeatureImportance(props: { report: Report }) {
  const t = useT(dict);
  const found = useMemo(() => findImportance(props.report.extra ?? {}), [props.report]);
  const options = useMemo(() => found.map((f) => importanceOption(f.rows)), [found]);
  if (found.length === 0) return null;
  return (
    <Card title={t('importance')} testid="eval-importance">
      <p class="muted">{t('importanceHint')}</p>
      <div style={chartGrid}>
        {found.map((f, i) => (
          <div key={f.path}>
            <h3 style={{ overflowWrap: 'anywhere' }}>{f.path}</h3>
            <Chart option={options[i]} height={Math.max(200, Math.min(20, f.rows.length) * 20 + 40)} label={t('importance')} />
          </div>
        ))}
      </div>
    </Card>
  );
}

function ExposureSection(props: { report: Report }) {
  const t = useT(dict);
  const found = useMemo(() => findExposureCurves(props.report), [props.report]);
  const options = useMemo(() => found.map(exposureOption), [found]);
  if (found.length === 0) {
    return props.report.task === 'rec' ? (
      <Card title={t('exposure')}>
        <p class="muted">{t('noExposure')}</p>
      </Card>
    ) : null;
  }
  return (
    <Card title={t('exposure')} testid="eval-exposure">
      <p class="muted">{t('exposureHint')}</p>
      {found.map((c, i) => (
        <div key={c.path}>
          <h3>{c.path}</h3>
          <Chart option={options[i]} height={300} testid="eval-exposure-chart" label={t('exposure')} />
        </div>
      ))}
    </Card>
  );
}

function Compare(props: { report: Report; info?: ReportInfo; all: ReportInfo[] }) {
  const t = useT(dict);
  const protocol = props.report.protocol ?? props.info?.protocol ?? '';
  const others = props.all.filter((r) => r.protocol === protocol && r.name !== props.info?.name);
  const [other, setOther] = useState('');
  const otherRep = useAsync(() => (other ? getReport(other) : Promise.resolve(null)), [other]);
  let body: ComponentChildren = null;
  if (others.length === 0) body = <p class="muted">{t('compareNone', { p: protocol })}</p>;
  else {
    const o = otherRep.data;
    const keys = o ? [...new Set([...Object.keys(props.report.metrics ?? {}), ...Object.keys(o.metrics ?? {})])] : [];
    const rows = keys.map((k) => {
      const a = props.report.metrics?.[k];
      const b = o?.metrics?.[k];
      const d = isNum(a) && isNum(b) ? a - b : null;
      return { k, a, b, d };
    });
    body = (
      <>
        <label>
          {t('compareWith')}{' '}
          <select data-testid="eval-compare-select" value={other} onChange={(e) => setOther((e.target as HTMLSelectElement).value)}>
            <option value="">{t('choose')}</option>
            {others.map((r) => (
              <option key={r.name} value={r.name}>
                {r.name}
              </option>
            ))}
          </select>
        </label>
        {other && otherRep.loading && <Loading />}
        <ErrorBox error={otherRep.error} />
        {o && (
          <Table
            testid="eval-compare"
            caption={t('compare')}
            columns={[
              { key: 'k', label: t('metric') },
              { key: 'a', label: t('thisRun'), align: 'right', render: (r) => fmtMetric(r.a) },
              { key: 'b', label: t('otherRun'), align: 'right', render: (r) => fmtMetric(r.b) },
              {
                key: 'd',
                label: t('delta'),
                align: 'right',
                render: (r) => {
                  if (r.d === null) return '–';
                  const better = r.d === 0 || /^n_/.test(r.k) ? null : lowerIsBetter(r.k) ? r.d < 0 : r.d > 0;
                  const color = better === null ? undefined : better ? '#047857' : '#b91c1c';
                  return <span style={{ color }}>{(r.d > 0 ? '+' : '') + fmtMetric(r.d)}</span>;
                },
              },
            ]}
            rows={rows}
          />
        )}
      </>
    );
  }
  return <Card title={t('compare')}>{body}</Card>;
}
