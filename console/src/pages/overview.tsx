// Overview: what is in the store, how healthy the data is, which models are
// live with their offline metrics, and how much traffic each route gets.
import { Fragment } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { apiGet, metricsText, parseMetrics } from '../api';
import { Chart } from '../chart';
import { fmtNum, useLang, useT } from '../i18n';
import { Card, ErrorBox, JsonView, Loading, PageHead, Stat, Table, fmtTime, useAsync } from '../ui';

const dict = {
  en: {
    title: 'Overview',
    lead: 'What the engine holds, how healthy the data is, which models answer, and how busy it is.',
    items: 'Items',
    events: 'Events',
    users: 'Users',
    sessions: 'Sessions',
    quarantined: 'Quarantined rows',
    deleted: '{n} deleted',
    eventsByType: 'Events by type',
    eventsByTypeNote: 'Exact per-type counts are not in /v1/admin/status; these come from the data-quality report.',
    type_view: 'Views',
    type_cart: 'Add to cart',
    type_purchase: 'Purchases',
    type_search: 'Searches',
    type_rating: 'Ratings',
    type_other: 'Other',
    health: 'Health',
    ready: 'ready',
    uptime: 'up {t}',
    generation: 'engine generation {g}, loaded {t}',
    liveSessions: '{open} open live sessions, {users} live users',
    jobs: '{running} jobs running, {queued} queued',
    quality: 'Data quality',
    qualityLead: 'Headline findings of the latest data-quality report.',
    moreQuality: 'Full report →',
    noFindings: 'No findings.',
    models: 'Active models',
    modelsLead: 'The versions that answer requests now, with the metrics measured when they were trained.',
    kind: 'Kind',
    version: 'Version',
    created: 'Trained',
    metrics: 'Metrics',
    none: 'none',
    inactive: '{n} inactive',
    traffic: 'Requests per second by route',
    trafficLead: 'From /metrics, sampled every 5 s (rate = counter delta / time).',
    route: 'Route',
    rate: 'req/s',
    total: 'Total',
    errors: 'Errors (4xx/5xx)',
    p50: 'Mean latency',
    waiting: 'Collecting samples…',
    goTo: 'Go to',
    link_search: 'Search playground',
    link_search_d: 'Try queries and see why each hit ranks where it does.',
    link_shopper: 'Shopper view',
    link_shopper_d: 'History, purchase intent and live recommendations for one shopper.',
    link_evaluation: 'Evaluation',
    link_evaluation_d: 'Offline reports: metrics vs K, ablations, calibration.',
    link_quality: 'Data quality',
    link_quality_d: 'The full data-quality report and quarantined rows.',
    link_experiments: 'Experiments',
    link_experiments_d: 'A/B tests with per-variant confidence intervals.',
    link_learn: 'Learn',
    link_learn_d: 'Guided tours that run live against the engine.',
  },
  zh: {
    title: '总览',
    lead: '引擎里有什么数据、数据是否健康、哪些模型在线、流量有多大。',
    items: '商品',
    events: '事件',
    users: '用户',
    sessions: '会话',
    quarantined: '隔离的记录',
    deleted: '已删除 {n}',
    eventsByType: '按类型的事件数',
    eventsByTypeNote: '/v1/admin/status 不含按类型的精确计数；这些数字来自数据质量报告。',
    type_view: '浏览',
    type_cart: '加购',
    type_purchase: '购买',
    type_search: '搜索',
    type_rating: '评分',
    type_other: '其他',
    health: '健康状况',
    ready: '就绪',
    uptime: '已运行 {t}',
    generation: '引擎第 {g} 代，加载于 {t}',
    liveSessions: '{open} 个进行中的会话，{users} 个在线用户',
    jobs: '{running} 个任务运行中，{queued} 个排队',
    quality: '数据质量',
    qualityLead: '最新数据质量报告的主要发现。',
    moreQuality: '完整报告 →',
    noFindings: '没有发现问题。',
    models: '在线模型',
    modelsLead: '当前处理请求的模型版本，以及训练时测得的指标。',
    kind: '类型',
    version: '版本',
    created: '训练时间',
    metrics: '指标',
    none: '无',
    inactive: '{n} 个未启用',
    traffic: '各路由每秒请求数',
    trafficLead: '来自 /metrics，每 5 秒采样一次（速率 = 计数器增量 / 时间）。',
    route: '路由',
    rate: '请求/秒',
    total: '总数',
    errors: '错误（4xx/5xx）',
    p50: '平均延迟',
    waiting: '正在采集样本…',
    goTo: '前往',
    link_search: '搜索试验场',
    link_search_d: '试试查询，看看每个结果为什么排在那里。',
    link_shopper: '顾客视图',
    link_shopper_d: '单个顾客的历史、购买意向和实时推荐。',
    link_evaluation: '评估',
    link_evaluation_d: '离线报告：指标随 K 变化、消融实验、校准。',
    link_quality: '数据质量',
    link_quality_d: '完整的数据质量报告和被隔离的记录。',
    link_experiments: '实验',
    link_experiments_d: '带各组置信区间的 A/B 测试。',
    link_learn: '教程',
    link_learn_d: '直接在引擎上运行的引导式教程。',
  },
};
type Key = keyof typeof dict.en;

interface Status {
  ready: boolean;
  status: string;
  uptime_s: number;
  checks: Record<string, string>;
  engines?: { generation?: number; loaded_ms?: number };
  jobs?: { queued: number; running: number };
  sessions?: { open: number; users: number; events_observed: number };
  store: {
    items: number;
    events: number;
    users: number;
    sessions: number;
    quarantined: number;
    deleted_items?: number;
    events_by_type?: Record<string, number>;
  };
}

interface ModelVersion {
  active: boolean;
  created_ms: number;
  version: string;
  metrics: Record<string, unknown>;
  data_watermark?: number;
}

function duration(s: number): string {
  if (s < 90) return `${Math.round(s)}s`;
  if (s < 5400) return `${Math.round(s / 60)}m`;
  if (s < 172800) return `${(s / 3600).toFixed(1)}h`;
  return `${(s / 86400).toFixed(1)}d`;
}

/** Flattens nested metric objects into 'a.b' -> number, keeping the interesting numbers. */
export function flatMetrics(o: unknown, prefix = '', out: [string, number][] = [], depth = 0): [string, number][] {
  if (o === null || typeof o !== 'object' || Array.isArray(o) || depth > 3) return out;
  for (const [k, v] of Object.entries(o as Record<string, unknown>)) {
    const name = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'number') out.push([name, v]);
    else if (v && typeof v === 'object' && !Array.isArray(v)) flatMetrics(v, name, out, depth + 1);
  }
  return out;
}

/** Metrics worth a headline: ranking quality first (ndcg, recall, mrr, auc...). */
function headline(metrics: Record<string, unknown>): [string, number][] {
  const all = flatMetrics(metrics);
  const quality = all.filter(([k]) => /(ndcg|recall|mrr|map|auc|precision|hit|logloss|brier|accuracy)/i.test(k));
  return (quality.length ? quality : all).slice(0, 8);
}

function Findings(props: { quality: any }) {
  const t = useT(dict);
  const findings: { section: string; message: string; severity: string }[] = [];
  for (const [section, v] of Object.entries(props.quality ?? {})) {
    const f = (v as any)?.findings;
    if (Array.isArray(f)) for (const x of f) findings.push({ section, message: x.message, severity: x.severity ?? 'info' });
  }
  const order: Record<string, number> = { critical: 0, error: 1, warn: 2, warning: 2, info: 3 };
  findings.sort((a, b) => (order[a.severity] ?? 4) - (order[b.severity] ?? 4));
  if (!findings.length) return <p class="muted">{t('noFindings')}</p>;
  return (
    <ul class="findings" data-testid="quality-findings">
      {findings.map((f, i) => (
        <li key={i}>
          <span class={`pill ${f.severity === 'warn' || f.severity === 'warning' ? 'warn' : f.severity === 'info' ? 'info' : 'bad'}`}>
            {f.severity}
          </span>
          <span>
            <span class="muted small">{f.section.replace(/_/g, ' ')}: </span>
            {f.message}
          </span>
        </li>
      ))}
    </ul>
  );
}

/** Events per type: exact when the server reports them, else derived from the quality report. */
function eventTypes(status: Status | undefined, quality: any): { type: string; count: number; exact: boolean }[] {
  const exact = status?.store?.events_by_type;
  if (exact && typeof exact === 'object') {
    return Object.entries(exact)
      .map(([type, count]) => ({ type, count: Number(count), exact: true }))
      .sort((a, b) => b.count - a.count);
  }
  if (!quality) return [];
  const out: { type: string; count: number; exact: boolean }[] = [];
  const views = quality.anomalies?.total_views;
  if (typeof views === 'number') out.push({ type: 'view', count: views, exact: false });
  const fields: Record<string, string> = { purchase_price: 'purchase', search_query: 'search', rating_value: 'rating' };
  for (const f of quality.completeness?.events ?? []) {
    if (fields[f.field]) out.push({ type: fields[f.field], count: f.applicable, exact: false });
  }
  return out;
}

interface TrafficPoint {
  t: number;
  rates: Record<string, number>;
}

function useTraffic() {
  const prev = useRef<{ t: number; totals: Record<string, number> } | null>(null);
  const [points, setPoints] = useState<TrafficPoint[]>([]);
  const [table, setTable] = useState<{ route: string; total: number; errors: number; mean: number; rate: number }[]>([]);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    let alive = true;
    async function sample() {
      try {
        const samples = parseMetrics(await metricsText());
        if (!alive) return;
        const now = Date.now();
        const totals: Record<string, number> = {};
        const errors: Record<string, number> = {};
        const sum: Record<string, number> = {};
        const count: Record<string, number> = {};
        for (const s of samples) {
          const r = s.labels.route;
          if (!r) continue;
          if (s.name === 'souk_http_requests_total') {
            totals[r] = (totals[r] ?? 0) + s.value;
            if (/^[45]/.test(s.labels.status ?? '')) errors[r] = (errors[r] ?? 0) + s.value;
          } else if (s.name === 'souk_http_request_duration_seconds_sum') sum[r] = (sum[r] ?? 0) + s.value;
          else if (s.name === 'souk_http_request_duration_seconds_count') count[r] = (count[r] ?? 0) + s.value;
        }
        const rates: Record<string, number> = {};
        const p = prev.current;
        if (p) {
          const dt = (now - p.t) / 1000;
          for (const [r, v] of Object.entries(totals)) rates[r] = dt > 0 ? Math.max(0, v - (p.totals[r] ?? 0)) / dt : 0;
          setPoints((old) => [...old.slice(-59), { t: now, rates }]);
        }
        prev.current = { t: now, totals };
        setTable(
          Object.keys(totals)
            .map((route) => ({
              route,
              total: totals[route],
              errors: errors[route] ?? 0,
              mean: count[route] ? sum[route] / count[route] : NaN,
              rate: rates[route] ?? NaN,
            }))
            .sort((a, b) => b.total - a.total),
        );
        setError(null);
      } catch (e) {
        if (alive) setError(e);
      }
    }
    sample();
    const id = setInterval(sample, 5000);
    return () => {
      alive = false;
      clearInterval(id);
    };
  }, []);
  return { points, table, error };
}

function Traffic() {
  const t = useT(dict);
  const { points, table, error } = useTraffic();
  const option = useMemo(() => {
    const routes = new Set<string>();
    for (const p of points) for (const [r, v] of Object.entries(p.rates)) if (v > 0) routes.add(r);
    const top = [...routes].slice(0, 8);
    return {
      tooltip: { trigger: 'axis' },
      legend: { type: 'scroll', bottom: 0 },
      grid: { left: 44, right: 12, top: 12, bottom: 48 },
      xAxis: { type: 'time', min: 'dataMin', max: 'dataMax', axisLabel: { hideOverlap: true } },
      yAxis: { type: 'value', name: 'req/s', nameTextStyle: { align: 'left' } },
      series: top.map((r) => ({
        name: r,
        type: 'line',
        showSymbol: false,
        smooth: true,
        data: points.map((p) => [p.t, +(p.rates[r] ?? 0).toFixed(3)]),
      })),
    };
  }, [points]);
  return (
    <Card title={t('traffic')} testid="traffic">
      <p class="muted small">{t('trafficLead')}</p>
      {error ? <ErrorBox error={error} path="/metrics" /> : null}
      {points.length < 2 ? <p class="muted small">{t('waiting')}</p> : <Chart option={option} height={220} testid="traffic-chart" label={t('traffic')} />}
      <Table
        testid="traffic-table"
        caption={t('traffic')}
        rows={table.slice(0, 12)}
        rowKey={(r) => r.route}
        columns={[
          { key: 'route', label: t('route'), render: (r) => <code>{r.route}</code> },
          { key: 'rate', label: t('rate'), align: 'right', render: (r) => (Number.isFinite(r.rate) ? r.rate.toFixed(2) : '–') },
          { key: 'total', label: t('total'), align: 'right', render: (r) => fmtNum(r.total) },
          { key: 'errors', label: t('errors'), align: 'right', render: (r) => fmtNum(r.errors) },
          { key: 'mean', label: t('p50'), align: 'right', render: (r) => (Number.isFinite(r.mean) ? `${(r.mean * 1000).toFixed(1)} ms` : '–') },
        ]}
      />
    </Card>
  );
}

function Models() {
  const t = useT(dict);
  const models = useAsync(() => apiGet<{ models: Record<string, ModelVersion[]> }>('/v1/admin/models'), []);
  if (models.loading && !models.data) return <Loading />;
  if (models.error) return <ErrorBox error={models.error} path="/v1/admin/models" onRetry={models.reload} />;
  const rows = Object.entries(models.data?.models ?? {}).map(([kind, versions]) => {
    const active = versions.find((v) => v.active);
    return { kind, active, inactive: versions.filter((v) => !v.active).length };
  });
  return (
    <>
      <Table
        testid="models-table"
        caption={t('models')}
        rows={rows}
        rowKey={(r) => r.kind}
        columns={[
          { key: 'kind', label: t('kind'), render: (r) => <strong>{r.kind}</strong> },
          {
            key: 'version',
            label: t('version'),
            render: (r) =>
              r.active ? (
                <span data-testid={`model-${r.kind}`}>
                  <code>{r.active.version}</code>
                  {r.inactive > 0 && <span class="muted small"> · {t('inactive', { n: r.inactive })}</span>}
                </span>
              ) : (
                <span class="muted">
                  {t('none')}
                  {r.inactive > 0 && ` · ${t('inactive', { n: r.inactive })}`}
                </span>
              ),
          },
          { key: 'created', label: t('created'), render: (r) => <span class="nowrap small">{r.active ? fmtTime(r.active.created_ms) : '–'}</span> },
          {
            key: 'metrics',
            label: t('metrics'),
            render: (r) => {
              const m = r.active ? headline(r.active.metrics) : [];
              if (!m.length) return <span class="muted">–</span>;
              return (
                <div class="checks">
                  {m.map(([k, v]) => (
                    <span class="pill info" key={k}>
                      {k} {Math.abs(v) < 10 ? v.toFixed(3) : fmtNum(v)}
                    </span>
                  ))}
                </div>
              );
            },
          },
        ]}
      />
      <JsonView value={models.data} />
    </>
  );
}

export default function Page() {
  const t = useT(dict);
  useLang();
  const status = useAsync(() => apiGet<Status>('/v1/admin/status'), []);
  const quality = useAsync(() => apiGet<any>('/v1/admin/quality'), []);
  const s = status.data;
  const types = eventTypes(s, quality.data);
  const maxType = Math.max(1, ...types.map((x) => x.count));

  return (
    <div class="page" data-testid="page-overview">
      <PageHead title={t('title')} lead={t('lead')} />

      {status.error ? <ErrorBox error={status.error} path="/v1/admin/status" onRetry={status.reload} /> : null}
      {!s && status.loading && <Loading />}
      {s && (
        <div class="stats" data-testid="overview-stats">
          <Stat label={t('items')} value={<span data-testid="stat-items">{fmtNum(s.store.items)}</span>} hint={s.store.deleted_items ? t('deleted', { n: s.store.deleted_items }) : undefined} />
          <Stat label={t('events')} value={<span data-testid="stat-events">{fmtNum(s.store.events)}</span>} />
          <Stat label={t('users')} value={<span data-testid="stat-users">{fmtNum(s.store.users)}</span>} />
          <Stat label={t('sessions')} value={<span data-testid="stat-sessions">{fmtNum(s.store.sessions)}</span>} />
          <Stat label={t('quarantined')} value={<span data-testid="stat-quarantined">{fmtNum(s.store.quarantined)}</span>} />
        </div>
      )}

      <div class="grid cols-2">
        <Card title={t('eventsByType')} testid="events-by-type">
          {types.length === 0 ? (
            quality.loading ? <Loading /> : <p class="muted">–</p>
          ) : (
            <>
              <div class="drivers" style={{ gridTemplateColumns: 'minmax(0,1fr) minmax(80px,2fr) 5.5rem' }}>
                {types.map((x) => (
                  <Fragment key={x.type}>
                    <span>{dict.en[`type_${x.type}` as Key] ? t(`type_${x.type}` as Key) : x.type}</span>
                    <div class="hbar" role="meter" aria-label={x.type} aria-valuemin={0} aria-valuemax={maxType} aria-valuenow={x.count}>
                      <span style={{ width: `${(x.count / maxType) * 100}%` }} />
                    </div>
                    <span class="num" data-testid={`events-${x.type}`}>{fmtNum(x.count)}</span>
                  </Fragment>
                ))}
              </div>
              {!types[0]?.exact && <p class="muted small">{t('eventsByTypeNote')}</p>}
            </>
          )}
        </Card>
        <Card title={t('health')} testid="health">
          {s && (
            <>
              <div class="checks" data-testid="health-checks">
                <span class={`pill ${s.ready ? 'good' : 'bad'}`}>{s.ready ? t('ready') : s.status}</span>
                {Object.entries(s.checks ?? {}).map(([k, v]) => (
                  <span key={k} class={`pill ${v === 'ready' || v === 'ok' ? 'good' : 'warn'}`}>
                    {k}: {v}
                  </span>
                ))}
              </div>
              <p class="small">{t('uptime', { t: duration(s.uptime_s) })}</p>
              {s.engines && <p class="small muted">{t('generation', { g: s.engines.generation ?? '–', t: fmtTime(s.engines.loaded_ms) })}</p>}
              {s.sessions && <p class="small muted">{t('liveSessions', { open: s.sessions.open, users: s.sessions.users })}</p>}
              {s.jobs && <p class="small muted">{t('jobs', { running: s.jobs.running, queued: s.jobs.queued })}</p>}
            </>
          )}
        </Card>
      </div>

      <Card title={t('quality')} actions={<a href="#/quality">{t('moreQuality')}</a>} testid="quality-summary">
        <p class="muted small">{t('qualityLead')}</p>
        {quality.error ? <ErrorBox error={quality.error} path="/v1/admin/quality" /> : quality.data ? <Findings quality={quality.data} /> : <Loading />}
      </Card>

      <Card title={t('models')} testid="models">
        <p class="muted small">{t('modelsLead')}</p>
        <Models />
      </Card>

      <Traffic />

      <Card title={t('goTo')}>
        <nav class="links" aria-label={t('goTo')}>
          {(['search', 'shopper', 'evaluation', 'quality', 'experiments', 'learn'] as const).map((p) => (
            <a href={`#/${p}`} key={p}>
              {t(`link_${p}` as Key)}
              <small>{t(`link_${p}_d` as Key)}</small>
            </a>
          ))}
        </nav>
      </Card>
    </div>
  );
}
