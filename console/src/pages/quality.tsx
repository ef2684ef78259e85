// Data quality: the report of GET /v1/admin/quality (the same checks as
// `souk quality`), as cards per section with findings colored by severity,
// charts, and the quarantined rows of GET /v1/admin/quarantine.
import { useMemo, useState } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import { apiGet } from '../api';
import { Chart } from '../chart';
import type { EChartsCoreOption } from '../chart';
import { fmtNum, useT } from '../i18n';
import { Card, ErrorBox, JsonView, Loading, PageHead, Stat, Table, fix, useAsync } from '../ui';

const dict = {
  en: {
    title: 'Data quality',
    intro: 'What the engine learns from: completeness, duplicates, bots, popularity skew and the rows that were quarantined at ingest.',
    refresh: 'Recompute',
    events: 'Events',
    items: 'Items',
    users: 'Users',
    sessions: 'Sessions',
    quarantined: 'Quarantined',
    findings: 'Findings',
    noFindings: 'No findings.',
    section_anomalies: 'Bots and anomalies',
    section_cold_start: 'Cold start',
    section_completeness: 'Completeness and validity',
    section_consistency: 'Consistency',
    section_popularity: 'Popularity concentration',
    section_quarantine: 'Quarantine',
    section_timeliness: 'Time coverage',
    section_uniqueness: 'Uniqueness',
    severity_error: 'error',
    severity_warn: 'warning',
    severity_info: 'info',
    eventsByType: 'Events by type',
    eventsByTypeDerived:
      'The report has no per-type counts; these are derived from the fields it checks (views, purchases, searches, ratings); “other” holds the rest (clicks, carts, impressions…).',
    other: 'other',
    completenessChart: 'Completeness per field',
    completeness: 'completeness',
    validity: 'validity',
    itemFields: 'Item fields',
    eventFields: 'Event fields',
    lorenz: 'Cumulative share of interactions (Lorenz curve, from the report’s quantiles)',
    itemsShare: 'share of items (least popular first)',
    interactionsShare: 'share of interactions',
    equality: 'equal popularity',
    gini: 'Gini',
    top1: 'Top 1% of items',
    top20: 'Top 20% of items',
    longTail: 'Long tail: {items} of items',
    timeCoverage: 'Time coverage',
    firstEvent: 'First event',
    lastEvent: 'Last event',
    daysWithEvents: 'Days with events',
    perDay: 'Events per day (mean)',
    largestGaps: 'Largest gaps without events (hours)',
    hours: 'hours',
    details: 'All numbers of this section',
    key: 'Key',
    value: 'Value',
    examples: 'Examples',
    quarantine: 'Quarantined rows',
    quarantineHint: 'Rows rejected at ingest, with the reason. They never reach the models.',
    reasons: 'Reasons',
    reason: 'Reason',
    allReasons: 'all reasons',
    source: 'Source',
    line: 'Line',
    detail: 'Detail',
    raw: 'Raw row',
    page: 'Rows {from}–{to} of {total}',
    prev: 'Previous',
    next: 'Next',
    rawReport: 'Raw report JSON',
  },
  zh: {
    title: '数据质量',
    intro: '引擎所学习的数据：完整性、重复、机器人流量、热度偏斜，以及导入时被隔离的记录。',
    refresh: '重新计算',
    events: '事件',
    items: '商品',
    users: '用户',
    sessions: '会话',
    quarantined: '已隔离',
    findings: '发现的问题',
    noFindings: '没有问题。',
    section_anomalies: '机器人与异常',
    section_cold_start: '冷启动',
    section_completeness: '完整性与有效性',
    section_consistency: '一致性',
    section_popularity: '热度集中度',
    section_quarantine: '隔离区',
    section_timeliness: '时间覆盖',
    section_uniqueness: '唯一性',
    severity_error: '错误',
    severity_warn: '警告',
    severity_info: '信息',
    eventsByType: '按类型统计的事件',
    eventsByTypeDerived: '报告中没有按类型的计数；这些数字来自它检查的字段（浏览、购买、搜索、评分）；“其他”为剩余部分（点击、加购、曝光等）。',
    other: '其他',
    completenessChart: '各字段完整性',
    completeness: '完整性',
    validity: '有效性',
    itemFields: '商品字段',
    eventFields: '事件字段',
    lorenz: '交互的累计占比（洛伦兹曲线，由报告中的分位数得出）',
    itemsShare: '商品占比（从最冷门开始）',
    interactionsShare: '交互占比',
    equality: '热度均等',
    gini: '基尼系数',
    top1: '前 1% 商品',
    top20: '前 20% 商品',
    longTail: '长尾：{items} 的商品',
    timeCoverage: '时间覆盖',
    firstEvent: '最早事件',
    lastEvent: '最晚事件',
    daysWithEvents: '有事件的天数',
    perDay: '日均事件数',
    largestGaps: '最长的无事件间隔（小时）',
    hours: '小时',
    details: '本部分的全部数值',
    key: '键',
    value: '值',
    examples: '示例',
    quarantine: '被隔离的记录',
    quarantineHint: '导入时被拒绝的记录及原因。它们不会进入模型。',
    reasons: '原因',
    reason: '原因',
    allReasons: '全部原因',
    source: '来源',
    line: '行号',
    detail: '详情',
    raw: '原始记录',
    page: '第 {from}–{to} 行，共 {total} 行',
    prev: '上一页',
    next: '下一页',
    rawReport: '报告原始 JSON',
  },
};
type Key = keyof (typeof dict)['en'];

interface Finding {
  severity: string;
  message: string;
}
type Section = Record<string, unknown> & { findings?: Finding[] };
type Quality = Record<string, unknown> & {
  summary?: { events?: number; items?: number; users?: number; watermark?: number };
  metrics?: Record<string, number>;
};

interface QuarantinePage {
  total: number;
  reasons?: Record<string, number>;
  rows: { source?: string; line?: number; reason?: string; detail?: string; raw?: string }[];
  limit?: number;
  offset?: number;
}

const kSections = ['quarantine', 'completeness', 'uniqueness', 'anomalies', 'consistency', 'popularity', 'cold_start', 'timeliness'];

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

export function severityClass(s: string): string {
  const x = s.toLowerCase();
  if (/err|crit|fatal|bad/.test(x)) return 'bad';
  if (/warn/.test(x)) return 'warn';
  if (/ok|good|pass/.test(x)) return 'good';
  return 'info';
}

function SeverityPill(props: { severity: string }) {
  const t = useT(dict);
  const cls = severityClass(props.severity);
  const label = cls === 'bad' ? t('severity_error') : cls === 'warn' ? t('severity_warn') : cls === 'info' ? t('severity_info') : props.severity;
  return <span class={`pill ${cls}`}>{label}</span>;
}

function Findings(props: { findings: Finding[]; section?: string }) {
  const t = useT(dict);
  if (props.findings.length === 0) return <p class="muted">{t('noFindings')}</p>;
  const order = { bad: 0, warn: 1, info: 2, good: 3 } as Record<string, number>;
  const sorted = [...props.findings].sort((a, b) => order[severityClass(a.severity)] - order[severityClass(b.severity)]);
  return (
    <ul class="findings" data-testid="quality-findings">
      {sorted.map((f, i) => (
        <li key={i} data-severity={severityClass(f.severity)}>
          <SeverityPill severity={f.severity} />
          <span>
            {props.section && <strong>{props.section}: </strong>}
            {f.message}
          </span>
        </li>
      ))}
    </ul>
  );
}

/** Counts per event type: the report's own map when it has one, else derived. */
function eventsByType(q: Quality): { counts: [string, number][]; derived: boolean } {
  let found: Record<string, number> | null = null;
  const visit = (v: unknown, depth: number) => {
    if (found || depth > 3 || !isObj(v)) return;
    for (const [k, x] of Object.entries(v)) {
      if (/^(events_)?by_type$|^event_types$|^events_per_type$/.test(k) && isObj(x)) {
        found = Object.fromEntries(Object.entries(x).filter(([, n]) => isNum(n))) as Record<string, number>;
        return;
      }
      visit(x, depth + 1);
    }
  };
  visit(q, 0);
  if (found) return { counts: Object.entries(found as Record<string, number>).sort((a, b) => b[1] - a[1]), derived: false };
  const total = q.summary?.events ?? 0;
  const applicable = (field: string) => {
    const rows = ((q.completeness as Section | undefined)?.events ?? []) as { field: string; applicable: number }[];
    return rows.find((r) => r.field === field)?.applicable ?? 0;
  };
  const counts: [string, number][] = [
    ['view', ((q.anomalies as Section | undefined)?.total_views as number) ?? 0],
    ['search', applicable('search_query')],
    ['purchase', applicable('purchase_price')],
    ['rating', applicable('rating_value')],
  ];
  const known = counts.reduce((s, [, n]) => s + n, 0);
  counts.push(['other', Math.max(0, total - known)]);
  return { counts: counts.filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]), derived: true };
}

function barOption(cats: string[], values: number[], horizontal = false): EChartsCoreOption {
  const cat = { type: 'category', data: cats, axisLabel: { fontSize: 11, interval: 0, rotate: horizontal ? 0 : 30 } };
  const val = { type: 'value' };
  return {
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
    xAxis: horizontal ? val : cat,
    yAxis: horizontal ? cat : val,
    series: [{ type: 'bar', data: values, label: { show: true, position: horizontal ? 'right' : 'top', fontSize: 10 } }],
  };
}

function completenessOption(rows: { field: string; completeness?: number; validity?: number }[], t: (k: Key) => string): EChartsCoreOption {
  return {
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    legend: { top: 0 },
    grid: { left: 8, right: 24, top: 28, bottom: 8, containLabel: true },
    xAxis: { type: 'value', min: 0, max: 1 },
    yAxis: { type: 'category', data: rows.map((r) => r.field), axisLabel: { fontSize: 11 } },
    series: [
      { name: t('completeness'), type: 'bar', data: rows.map((r) => r.completeness ?? null) },
      { name: t('validity'), type: 'bar', data: rows.map((r) => (isNum(r.validity) ? r.validity : null)) },
    ],
  };
}

function lorenzOption(pop: Record<string, unknown>, t: (k: Key) => string): EChartsCoreOption {
  // Points (share of items, share of interactions), least popular first, from
  // the report's quantiles: the top 20% / 1% of items and the long tail.
  const pts: [number, number][] = [[0, 0]];
  if (isNum(pop.long_tail_item_share) && isNum(pop.long_tail_interaction_share)) pts.push([pop.long_tail_item_share, pop.long_tail_interaction_share]);
  if (isNum(pop.top20_share)) pts.push([0.8, 1 - pop.top20_share]);
  if (isNum(pop.top1_share)) pts.push([0.99, 1 - pop.top1_share]);
  pts.push([1, 1]);
  pts.sort((a, b) => a[0] - b[0]);
  return {
    tooltip: { trigger: 'item' },
    legend: { bottom: 0 },
    grid: { left: 8, right: 16, top: 16, bottom: 56, containLabel: true },
    xAxis: { type: 'value', min: 0, max: 1, name: t('itemsShare'), nameLocation: 'middle', nameGap: 24 },
    yAxis: { type: 'value', min: 0, max: 1, name: t('interactionsShare') },
    series: [
      { name: t('equality'), type: 'line', data: [[0, 0], [1, 1]], showSymbol: false, lineStyle: { type: 'dashed', color: '#64748b' } },
      { name: t('interactionsShare'), type: 'line', data: pts, areaStyle: { opacity: 0.15 }, symbolSize: 7 },
    ],
  };
}

export default function Page() {
  const t = useT(dict);
  const [refresh, setRefresh] = useState(0);
  const q = useAsync(() => apiGet<Quality>('/v1/admin/quality', refresh ? { refresh: true } : undefined), [refresh]);
  const data = q.data;
  return (
    <div class="page" data-testid="page-quality">
      <PageHead title={t('title')} lead={t('intro')}>
        <button type="button" class="btn" onClick={() => setRefresh((n) => n + 1)} disabled={q.loading} data-testid="quality-refresh">
          {t('refresh')}
        </button>
      </PageHead>
      {q.loading && !data && <Loading />}
      <ErrorBox error={q.error} path="GET /v1/admin/quality" onRetry={q.reload} />
      {data && <Report q={data} />}
      <QuarantineCard reportReasons={((data?.quarantine as Section | undefined)?.reasons as Record<string, number>) ?? undefined} />
      {data && (
        <Card title={t('rawReport')}>
          <JsonView value={data} label={t('rawReport')} />
        </Card>
      )}
    </div>
  );
}

function Report(props: { q: Quality }) {
  const t = useT(dict);
  const q = props.q;
  const sections = kSections.filter((s) => isObj(q[s])).concat(
    Object.keys(q).filter((k) => !kSections.includes(k) && isObj(q[k]) && Array.isArray((q[k] as Section).findings)),
  );
  const sectionTitle = (s: string) => {
    const k = `section_${s}` as Key;
    return k in dict.en ? t(k) : s;
  };
  const allFindings = sections.flatMap((s) => (((q[s] as Section).findings ?? []) as Finding[]).map((f) => ({ ...f, s })));
  const byType = useMemo(() => eventsByType(q), [q]);
  const comp = q.completeness as Section | undefined;
  const itemRows = (comp?.items ?? []) as { field: string; completeness?: number; validity?: number }[];
  const eventRows = (comp?.events ?? []) as { field: string; completeness?: number; validity?: number }[];
  const pop = (q.popularity ?? {}) as Record<string, unknown>;
  const tl = (q.timeliness ?? {}) as Record<string, unknown>;
  const gaps = (Array.isArray(tl.largest_gaps) ? tl.largest_gaps : []) as { start: string; end: string; hours: number }[];
  const compLabel = t('completeness');
  const opts = useMemo(
    () => ({
      byType: barOption(
        byType.counts.map(([k]) => (k === 'other' ? t('other') : k)),
        byType.counts.map(([, n]) => n),
      ),
      items: completenessOption(itemRows, t),
      events: completenessOption(eventRows, t),
      lorenz: lorenzOption(pop, t),
      gaps: barOption(
        gaps.map((g) => g.start.replace('T', ' ').replace(/:\d\dZ$/, '')),
        gaps.map((g) => Number(g.hours.toFixed(2))),
        true,
      ),
    }),
    [q, compLabel],
  );

  return (
    <>
      <div class="stats" style={{ marginBottom: '1rem' }}>
        <Stat label={t('events')} value={<span data-testid="quality-events" data-value={q.summary?.events}>{fmtNum(q.summary?.events)}</span>} />
        <Stat label={t('items')} value={fmtNum(q.summary?.items)} />
        <Stat label={t('users')} value={fmtNum(q.summary?.users)} />
        {isNum(q.metrics?.sessions) && <Stat label={t('sessions')} value={fmtNum(q.metrics?.sessions)} />}
        {isNum(q.metrics?.quarantine_count) && <Stat label={t('quarantined')} value={fmtNum(q.metrics?.quarantine_count)} />}
        {isNum(pop.gini) && <Stat label={t('gini')} value={fix(pop.gini as number, 3)} />}
      </div>
      <Card title={t('findings')} testid="quality-all-findings">
        <Findings findings={allFindings.map((f) => ({ severity: f.severity, message: `${sectionTitle(f.s)}: ${f.message}` }))} />
      </Card>
      <div class="grid cols-2" style={{ margin: '1rem 0' }}>
        <Card title={t('eventsByType')}>
          <Chart option={opts.byType} height={260} testid="quality-events-chart" label={t('eventsByType')} />
          {byType.derived && <p class="muted small">{t('eventsByTypeDerived')}</p>}
        </Card>
        <Card title={t('section_popularity')}>
          <div class="row small">
            {isNum(pop.top1_share) && <span class="pill">{t('top1')}: {fix((pop.top1_share as number) * 100, 1)}%</span>}
            {isNum(pop.top20_share) && <span class="pill">{t('top20')}: {fix((pop.top20_share as number) * 100, 1)}%</span>}
            {isNum(pop.long_tail_item_share) && isNum(pop.long_tail_interaction_share) && (
              <span class="pill">
                {t('longTail', { items: `${fix((pop.long_tail_item_share as number) * 100, 1)}%` })} →{' '}
                {fix((pop.long_tail_interaction_share as number) * 100, 1)}%
              </span>
            )}
          </div>
          <p class="muted small">{t('lorenz')}</p>
          <Chart option={opts.lorenz} height={260} testid="quality-lorenz-chart" label={t('lorenz')} />
        </Card>
        {itemRows.length > 0 && (
          <Card title={`${t('completenessChart')} — ${t('itemFields')}`}>
            <Chart option={opts.items} height={Math.max(180, itemRows.length * 26 + 40)} testid="quality-completeness-chart" label={t('itemFields')} />
          </Card>
        )}
        {eventRows.length > 0 && (
          <Card title={`${t('completenessChart')} — ${t('eventFields')}`}>
            <Chart option={opts.events} height={Math.max(180, eventRows.length * 26 + 40)} label={t('eventFields')} />
          </Card>
        )}
        {tl.first_event !== undefined && (
          <Card title={t('timeCoverage')}>
            <div class="stats">
              <Stat label={t('firstEvent')} value={<span class="small">{String(tl.first_event)}</span>} />
              <Stat label={t('lastEvent')} value={<span class="small">{String(tl.last_event)}</span>} />
              <Stat label={t('daysWithEvents')} value={`${tl.days_with_events ?? '–'} / ${tl.days_in_range ?? '–'}`} />
              <Stat label={t('perDay')} value={fmtNum(tl.events_per_day_mean as number, 1)} />
            </div>
            {gaps.length > 0 && (
              <>
                <h3>{t('largestGaps')}</h3>
                <Chart option={opts.gaps} height={Math.max(140, gaps.length * 30 + 40)} label={t('largestGaps')} />
              </>
            )}
          </Card>
        )}
      </div>
      <div class="grid cols-2">
        {sections.map((s) => (
          <SectionCard key={s} name={s} title={sectionTitle(s)} section={q[s] as Section} />
        ))}
      </div>
    </>
  );
}

/** One report section: findings, scalar numbers and example lists. */
function SectionCard(props: { name: string; title: string; section: Section }) {
  const t = useT(dict);
  const sec = props.section;
  const scalars = Object.entries(sec).filter(([, v]) => v === null || typeof v !== 'object');
  const lists = Object.entries(sec).filter(
    ([k, v]) => k !== 'findings' && Array.isArray(v) && v.length > 0 && v.every(isObj) && !(props.name === 'completeness'),
  ) as [string, Record<string, unknown>[]][];
  const maps = Object.entries(sec).filter(([, v]) => isObj(v)) as [string, Record<string, unknown>][];
  return (
    <Card title={props.title} testid={`quality-section-${props.name}`}>
      <Findings findings={(sec.findings ?? []) as Finding[]} />
      {maps.map(([k, m]) => (
        <div key={k} class="row small" style={{ marginTop: '0.5rem' }}>
          <strong>{k}:</strong>
          {Object.entries(m).map(([mk, mv]) => (
            <span key={mk} class="pill">
              {mk}: {typeof mv === 'number' ? fmtNum(mv, Number.isInteger(mv) ? 0 : 3) : String(mv)}
            </span>
          ))}
        </div>
      ))}
      {lists.map(([k, rows]) => (
        <details key={k} style={{ marginTop: '0.5rem' }}>
          <summary>
            {t('examples')}: <code>{k}</code> ({rows.length})
          </summary>
          <Table
            caption={k}
            columns={Object.keys(rows[0]).map((c) => ({
              key: c,
              label: c,
              align: isNum(rows[0][c]) ? ('right' as const) : ('left' as const),
              render: (r: Record<string, unknown>) => cell(r[c]),
            }))}
            rows={rows}
          />
        </details>
      ))}
      {scalars.length > 0 && (
        <details style={{ marginTop: '0.5rem' }}>
          <summary>{t('details')}</summary>
          <Table
            caption={t('details')}
            columns={[
              { key: 'k', label: t('key'), render: (r) => <code>{r[0]}</code> },
              { key: 'v', label: t('value'), align: 'right', render: (r) => cell(r[1]) },
            ]}
            rows={scalars}
          />
        </details>
      )}
    </Card>
  );
}

function cell(v: unknown): ComponentChildren {
  if (v === null || v === undefined) return '–';
  if (typeof v === 'number') return Number.isInteger(v) ? fmtNum(v) : fix(v, 3);
  if (typeof v === 'boolean') return v ? '✓' : '✗';
  if (Array.isArray(v)) return v.join(', ');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

const kPage = 20;

function QuarantineCard(props: { reportReasons?: Record<string, number> }) {
  const t = useT(dict);
  const [reason, setReason] = useState('');
  const [offset, setOffset] = useState(0);
  const page = useAsync(
    () => apiGet<QuarantinePage>('/v1/admin/quarantine', { limit: kPage, offset, reason: reason || undefined }),
    [reason, offset],
  );
  // Keep the reason list from the unfiltered answer (or the quality report).
  const [allReasons, setAllReasons] = useState<Record<string, number> | null>(null);
  if (!reason && page.data?.reasons && allReasons === null) setAllReasons(page.data.reasons);
  const reasons = allReasons ?? page.data?.reasons ?? props.reportReasons ?? {};
  const entries = Object.entries(reasons).sort((a, b) => b[1] - a[1]);
  const option = useMemo(() => barOption(entries.map(([k]) => k), entries.map(([, n]) => n), true), [JSON.stringify(entries)]);
  const total = page.data?.total ?? 0;
  const rows = page.data?.rows ?? [];
  return (
    <Card title={t('quarantine')} testid="quality-quarantine" class="" id="quarantine">
      <p class="muted">{t('quarantineHint')}</p>
      {entries.length > 0 && (
        <>
          <h3>{t('reasons')}</h3>
          <Chart option={option} height={Math.max(120, entries.length * 32 + 40)} testid="quality-reasons-chart" label={t('reasons')} />
        </>
      )}
      <div class="row" style={{ margin: '0.5rem 0' }}>
        <label class="field">
          <span>{t('reason')}</span>
          <select
            data-testid="quality-reason-filter"
            value={reason}
            onChange={(e) => {
              setReason((e.target as HTMLSelectElement).value);
              setOffset(0);
            }}
          >
            <option value="">{t('allReasons')}</option>
            {entries.map(([k, n]) => (
              <option key={k} value={k}>
                {k} ({n})
              </option>
            ))}
          </select>
        </label>
      </div>
      {page.loading && !page.data && <Loading />}
      <ErrorBox error={page.error} path="GET /v1/admin/quarantine" onRetry={page.reload} />
      {page.data && (
        <>
          <Table
            testid="quality-quarantine-table"
            caption={t('quarantine')}
            columns={[
              { key: 'source', label: t('source'), render: (r) => <span class="mono small">{r.source ?? ''}</span> },
              { key: 'line', label: t('line'), align: 'right' },
              { key: 'reason', label: t('reason'), render: (r) => <span class="pill warn">{r.reason}</span> },
              { key: 'detail', label: t('detail') },
              {
                key: 'raw',
                label: t('raw'),
                render: (r) => (
                  <code class="small" style={{ display: 'block', maxWidth: '28rem', overflowWrap: 'anywhere' }}>
                    {(r.raw ?? '').length > 300 ? (r.raw ?? '').slice(0, 300) + '…' : r.raw}
                  </code>
                ),
              },
            ]}
            rows={rows}
          />
          <div class="row" style={{ marginTop: '0.5rem' }}>
            <button type="button" class="btn small" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - kPage))}>
              {t('prev')}
            </button>
            <span class="muted small" data-testid="quality-quarantine-page">
              {t('page', { from: total === 0 ? 0 : offset + 1, to: Math.min(total, offset + rows.length), total })}
            </span>
            <button type="button" class="btn small" disabled={offset + kPage >= total} onClick={() => setOffset(offset + kPage)}>
              {t('next')}
            </button>
          </div>
        </>
      )}
    </Card>
  );
}
