// Experiments: A/B tests of search or recommendation configurations.
// POST /v1/experiments creates one, GET /v1/experiments lists them,
// GET /v1/experiments/{name}/results gives per-variant rates with confidence
// intervals, tests against the control and the sample-ratio check.
import { useMemo, useState } from 'preact/hooks';
import { apiGet, apiPost } from '../api';
import { Chart } from '../chart';
import type { EChartsCoreOption } from '../chart';
import { fmtNum, useT } from '../i18n';
import { Card, ErrorBox, JsonView, Loading, PageHead, Stat, Table, fix, fmtTime, useAsync } from '../ui';

const dict = {
  en: {
    title: 'Experiments',
    intro: 'A/B tests: users are split deterministically between variants; each variant can change the search or recommendation configuration.',
    list: 'Experiments',
    none: 'No experiments yet. Create one below.',
    name: 'Name',
    surface: 'Surface',
    status: 'Status',
    variants: 'Variants',
    created: 'Created',
    results: 'Results',
    open: 'Open results',
    create: 'Create an experiment',
    description: 'Description',
    surface_any: 'any (search and recommendations)',
    surface_search: 'search',
    surface_recommend: 'recommendations',
    control: 'Control variant',
    variant: 'Variant',
    variantName: 'Variant {i} name',
    share: 'Traffic share',
    shareOf: 'Variant {i} share',
    pipeline: 'Search pipeline',
    pipelineDefault: '(server default)',
    intentSwitch: 'Intent switch (recommendations)',
    default: '(default)',
    on: 'on',
    off: 'off',
    config: 'Extra config (JSON object)',
    configOf: 'Variant {i} extra config',
    addVariant: 'Add variant',
    remove: 'Remove',
    removeVariant: 'Remove variant {i}',
    sum: 'Sum of shares: {sum}',
    submit: 'Create',
    created_ok: 'Experiment {name} created.',
    err_name: 'Name: lowercase letters, digits, “-” and “_”, starting with a letter or digit (at most 64).',
    err_variants: 'At least two variants are needed.',
    err_variantName: 'Variant {i}: invalid name.',
    err_dupName: 'Variant names must be unique ({name}).',
    err_share: 'Variant {i}: the share must be a number in (0, 1].',
    err_sum: 'Shares must sum to 1 (now {sum}).',
    err_json: 'Variant {i}: extra config is not a JSON object.',
    stop: 'Stop experiment',
    stopped: 'stopped',
    running: 'running',
    confidence: 'Confidence level',
    users: 'Users',
    exposures: 'Exposures',
    clicks: 'Clickers',
    carts: 'Carters',
    purchasers: 'Purchasers',
    revenue: 'Revenue',
    conversion_rate: 'Conversion rate (purchasers / exposed users)',
    click_rate: 'Click rate',
    cart_rate: 'Add-to-cart rate',
    revenue_per_user: 'Revenue per exposed user',
    ciHint: 'Bars: confidence interval; dot: estimate; dashed line: control.',
    vsControl: 'Against the control',
    diff: 'Conversion difference',
    lift: 'Relative lift',
    pValue: 'p-value',
    significant: 'Significant',
    yes: 'yes',
    no: 'no',
    revDiff: 'Revenue/user difference',
    revP: 'Revenue p-value',
    srm: 'Sample-ratio check (SRM)',
    srmOk: 'No sample-ratio mismatch: the observed split matches the configured shares.',
    srmBad: 'Sample-ratio mismatch: the observed split differs from the configured shares — the results cannot be trusted.',
    expected: 'Expected share',
    observed: 'Observed users',
    chi2: 'χ²',
    summary: 'Summary',
    computed: 'Computed {t}',
    refresh: 'Refresh',
    controlMark: 'control',
  },
  zh: {
    title: '实验',
    intro: 'A/B 测试：用户被确定性地分配到各变体；每个变体可以改变搜索或推荐的配置。',
    list: '实验列表',
    none: '还没有实验。请在下方创建。',
    name: '名称',
    surface: '作用范围',
    status: '状态',
    variants: '变体',
    created: '创建时间',
    results: '结果',
    open: '查看结果',
    create: '创建实验',
    description: '描述',
    surface_any: '全部（搜索和推荐）',
    surface_search: '搜索',
    surface_recommend: '推荐',
    control: '对照组',
    variant: '变体',
    variantName: '变体 {i} 名称',
    share: '流量占比',
    shareOf: '变体 {i} 流量占比',
    pipeline: '搜索管线',
    pipelineDefault: '（服务器默认）',
    intentSwitch: '意图切换（推荐）',
    default: '（默认）',
    on: '开',
    off: '关',
    config: '额外配置（JSON 对象）',
    configOf: '变体 {i} 额外配置',
    addVariant: '添加变体',
    remove: '删除',
    removeVariant: '删除变体 {i}',
    sum: '占比之和：{sum}',
    submit: '创建',
    created_ok: '实验 {name} 已创建。',
    err_name: '名称：小写字母、数字、“-”和“_”，以字母或数字开头（最多 64 个字符）。',
    err_variants: '至少需要两个变体。',
    err_variantName: '变体 {i}：名称无效。',
    err_dupName: '变体名称必须唯一（{name}）。',
    err_share: '变体 {i}：占比必须是 (0, 1] 之间的数。',
    err_sum: '占比之和必须为 1（当前为 {sum}）。',
    err_json: '变体 {i}：额外配置不是 JSON 对象。',
    stop: '停止实验',
    stopped: '已停止',
    running: '运行中',
    confidence: '置信水平',
    users: '用户',
    exposures: '曝光次数',
    clicks: '点击用户',
    carts: '加购用户',
    purchasers: '购买用户',
    revenue: '收入',
    conversion_rate: '转化率（购买用户 / 曝光用户）',
    click_rate: '点击率',
    cart_rate: '加购率',
    revenue_per_user: '每位曝光用户的收入',
    ciHint: '柱形：置信区间；圆点：估计值；虚线：对照组。',
    vsControl: '与对照组比较',
    diff: '转化率差值',
    lift: '相对提升',
    pValue: 'p 值',
    significant: '显著',
    yes: '是',
    no: '否',
    revDiff: '人均收入差值',
    revP: '收入 p 值',
    srm: '样本比例检验（SRM）',
    srmOk: '没有样本比例失衡：实际分流与配置的占比一致。',
    srmBad: '样本比例失衡：实际分流与配置的占比不一致——结果不可信。',
    expected: '预期占比',
    observed: '实际用户数',
    chi2: 'χ²',
    summary: '摘要',
    computed: '计算于 {t}',
    refresh: '刷新',
    controlMark: '对照组',
  },
};
type Key = keyof (typeof dict)['en'];

export interface Variant {
  name: string;
  share: number;
  config?: Record<string, unknown>;
}
export interface Experiment {
  name: string;
  description?: string;
  surface: string;
  variants: Variant[];
  control?: string;
  status: string;
  created_ms?: number;
  stopped_ms?: number;
}
export interface Interval {
  value: number | null;
  low: number | null;
  high: number | null;
}
export interface VariantResult {
  name: string;
  share?: number;
  control?: boolean;
  users: number;
  exposures?: number;
  clicks?: number;
  carts?: number;
  purchases?: number;
  purchasers?: number;
  revenue?: number;
  click_rate?: Interval;
  cart_rate?: Interval;
  conversion_rate: Interval;
  revenue_per_user?: Interval;
  vs_control?: {
    conversion_diff?: Interval;
    conversion_lift?: number | null;
    p_value?: number | null;
    revenue_diff?: Interval;
    revenue_p_value?: number | null;
    significant?: boolean;
  } | null;
  summary?: string;
}
export interface Results {
  experiment: Experiment;
  confidence?: number;
  computed_ms?: number;
  srm: { chi2?: number; p_value: number | null; mismatch: boolean; expected?: Record<string, number>; observed?: Record<string, number>; warning?: string };
  variants: VariantResult[];
}

export const kPipelines = ['full', 'bm25', 'bm25+qu', 'dense', 'hybrid', 'hybrid+ltr'];
const kNameRe = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** An error-bar chart: one floating bar (low..high) and one dot per variant. */
export function intervalOption(variants: { name: string; iv?: Interval }[], controlValue: number | null, percent: boolean): EChartsCoreOption {
  const scale = percent ? 100 : 1;
  const v = (x: number | null | undefined) => (isNum(x) ? x * scale : null);
  return {
    tooltip: {
      trigger: 'axis',
      axisPointer: { type: 'shadow' },
      formatter: (ps: { dataIndex: number }[]) => {
        const r = variants[ps[0]?.dataIndex ?? 0];
        const f = (x: number | null | undefined) => (isNum(x) ? (x * scale).toFixed(percent ? 2 : 2) + (percent ? '%' : '') : '–');
        return `${r.name}: ${f(r.iv?.value)} [${f(r.iv?.low)} .. ${f(r.iv?.high)}]`;
      },
    },
    grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
    xAxis: { type: 'category', data: variants.map((x) => x.name) },
    yAxis: { type: 'value', axisLabel: { formatter: percent ? '{value}%' : '{value}' } },
    series: [
      { type: 'bar', stack: 'ci', silent: true, itemStyle: { color: 'transparent' }, data: variants.map((x) => v(x.iv?.low) ?? 0), barWidth: '35%' },
      {
        type: 'bar',
        stack: 'ci',
        itemStyle: { color: 'rgba(37, 99, 235, 0.25)', borderColor: '#2563eb', borderWidth: 1 },
        data: variants.map((x) => {
          const lo = v(x.iv?.low);
          const hi = v(x.iv?.high);
          return lo !== null && hi !== null ? hi - lo : 0;
        }),
        markLine:
          controlValue !== null
            ? { symbol: 'none', silent: true, lineStyle: { type: 'dashed', color: '#64748b' }, data: [{ yAxis: controlValue * scale }], label: { show: false } }
            : undefined,
      },
      { type: 'scatter', symbolSize: 12, itemStyle: { color: '#1e3a8a' }, data: variants.map((x) => v(x.iv?.value)) },
    ],
  };
}

function pct(x: number | null | undefined, digits = 2): string {
  return isNum(x) ? `${(x * 100).toFixed(digits)}%` : '–';
}
function pp(iv?: Interval): string {
  if (!iv || !isNum(iv.value)) return '–';
  const s = (x: number | null) => (isNum(x) ? `${x >= 0 ? '+' : ''}${(x * 100).toFixed(2)}` : '–');
  return `${s(iv.value)} pp [${s(iv.low)} .. ${s(iv.high)}]`;
}
function num(iv?: Interval): string {
  if (!iv || !isNum(iv.value)) return '–';
  return `${fix(iv.value, 2)} [${fix(iv.low, 2)} .. ${fix(iv.high, 2)}]`;
}

export default function Page() {
  const t = useT(dict);
  const list = useAsync(() => apiGet<{ experiments: Experiment[] }>('/v1/experiments'), []);
  const [open, setOpen] = useState<string | null>(null);
  const exps = list.data?.experiments ?? [];
  return (
    <div class="page" data-testid="page-experiments">
      <PageHead title={t('title')} lead={t('intro')} />
      <Card
        title={t('list')}
        actions={
          <button type="button" class="btn small" onClick={list.reload}>
            {t('refresh')}
          </button>
        }
      >
        {list.loading && !list.data && <Loading />}
        <ErrorBox error={list.error} path="GET /v1/experiments" onRetry={list.reload} />
        {list.data && exps.length === 0 && <p class="muted">{t('none')}</p>}
        {exps.length > 0 && (
          <Table
            testid="exp-list"
            caption={t('list')}
            rowKey={(e) => e.name}
            columns={[
              { key: 'name', label: t('name'), render: (e) => <strong data-testid={`exp-row-${e.name}`}>{e.name}</strong> },
              { key: 'surface', label: t('surface') },
              {
                key: 'status',
                label: t('status'),
                render: (e) => <span class={`pill ${e.status === 'running' ? 'good' : ''}`}>{e.status === 'running' ? t('running') : t('stopped')}</span>,
              },
              {
                key: 'variants',
                label: t('variants'),
                render: (e) => e.variants.map((v) => `${v.name} ${Math.round(v.share * 1000) / 10}%`).join(' · '),
              },
              { key: 'created', label: t('created'), render: (e) => <span class="nowrap small">{fmtTime(e.created_ms)}</span> },
              {
                key: 'open',
                label: t('results'),
                render: (e) => (
                  <button type="button" class="btn small" data-testid={`exp-open-${e.name}`} aria-pressed={e.name === open} onClick={() => setOpen(e.name)}>
                    {t('open')}
                  </button>
                ),
              },
            ]}
            rows={exps}
          />
        )}
      </Card>
      {open && <ResultsView key={open} name={open} onChanged={list.reload} />}
      <CreateForm
        onCreated={(name) => {
          list.reload();
          setOpen(name);
        }}
      />
    </div>
  );
}

// ---------------------------------------------------------------------------
// Create form

interface DraftVariant {
  name: string;
  share: string;
  pipeline: string;
  intentSwitch: '' | 'on' | 'off';
  config: string;
}

function blankVariant(name: string, share: string): DraftVariant {
  return { name, share, pipeline: '', intentSwitch: '', config: '' };
}

/** Client-side checks mirroring the server's (the server stays the judge). */
export function validateDraft(name: string, variants: { name: string; share: string; config: string }[]): { key: Key; vars?: Record<string, string | number> }[] {
  const errs: { key: Key; vars?: Record<string, string | number> }[] = [];
  if (!kNameRe.test(name)) errs.push({ key: 'err_name' });
  if (variants.length < 2) errs.push({ key: 'err_variants' });
  const seen = new Set<string>();
  let sum = 0;
  variants.forEach((v, i) => {
    if (!kNameRe.test(v.name)) errs.push({ key: 'err_variantName', vars: { i: i + 1 } });
    else if (seen.has(v.name)) errs.push({ key: 'err_dupName', vars: { name: v.name } });
    seen.add(v.name);
    const s = Number(v.share);
    if (v.share.trim() === '' || !Number.isFinite(s) || s <= 0 || s > 1) errs.push({ key: 'err_share', vars: { i: i + 1 } });
    else sum += s;
    if (v.config.trim()) {
      try {
        const j = JSON.parse(v.config);
        if (!j || typeof j !== 'object' || Array.isArray(j)) throw new Error('not an object');
      } catch {
        errs.push({ key: 'err_json', vars: { i: i + 1 } });
      }
    }
  });
  if (Math.abs(sum - 1) > 1e-6 && !errs.some((e) => e.key === 'err_share')) errs.push({ key: 'err_sum', vars: { sum: +sum.toFixed(6) } });
  return errs;
}

function CreateForm(props: { onCreated: (name: string) => void }) {
  const t = useT(dict);
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [surface, setSurface] = useState('search');
  const [control, setControl] = useState('');
  const [variants, setVariants] = useState<DraftVariant[]>([blankVariant('control', '0.5'), blankVariant('treatment', '0.5')]);
  const [errors, setErrors] = useState<{ key: Key; vars?: Record<string, string | number> }[]>([]);
  const [apiError, setApiError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState('');

  const sum = variants.reduce((s, v) => s + (Number.isFinite(Number(v.share)) ? Number(v.share) : 0), 0);
  const update = (i: number, patch: Partial<DraftVariant>) => setVariants(variants.map((v, j) => (j === i ? { ...v, ...patch } : v)));

  async function submit(e: Event) {
    e.preventDefault();
    setDone('');
    setApiError(null);
    const errs = validateDraft(name, variants);
    setErrors(errs);
    if (errs.length) return;
    const body = {
      name,
      description: description || undefined,
      surface,
      control: control || undefined,
      variants: variants.map((v) => {
        const config: Record<string, unknown> = v.config.trim() ? JSON.parse(v.config) : {};
        if (v.pipeline) config.pipeline = v.pipeline;
        if (v.intentSwitch) config.intent_switch = v.intentSwitch === 'on';
        return { name: v.name, share: Number(v.share), config };
      }),
    };
    setBusy(true);
    try {
      const created = await apiPost<Experiment>('/v1/experiments', body);
      setDone(t('created_ok', { name: created.name }));
      props.onCreated(created.name);
    } catch (err) {
      setApiError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Card title={t('create')} testid="exp-form">
      <form onSubmit={submit} noValidate>
        <div class="controls">
          <label class="field">
            <span>{t('name')}</span>
            <input type="text" data-testid="exp-name" value={name} placeholder="home-ranker-v2" onInput={(e) => setName((e.target as HTMLInputElement).value)} />
          </label>
          <label class="field">
            <span>{t('surface')}</span>
            <select data-testid="exp-surface" value={surface} onChange={(e) => setSurface((e.target as HTMLSelectElement).value)}>
              <option value="search">{t('surface_search')}</option>
              <option value="recommend">{t('surface_recommend')}</option>
              <option value="any">{t('surface_any')}</option>
            </select>
          </label>
          <label class="field">
            <span>{t('control')}</span>
            <select value={control} onChange={(e) => setControl((e.target as HTMLSelectElement).value)}>
              <option value="">{variants[0]?.name || '–'}</option>
              {variants.slice(1).map((v, i) => (
                <option key={i} value={v.name}>
                  {v.name}
                </option>
              ))}
            </select>
          </label>
          <label class="field" style={{ gridColumn: '1 / -1' }}>
            <span>{t('description')}</span>
            <input type="text" value={description} onInput={(e) => setDescription((e.target as HTMLInputElement).value)} />
          </label>
        </div>
        <h3>{t('variants')}</h3>
        {variants.map((v, i) => (
          <fieldset key={i} class="card" style={{ margin: '0.5rem 0', padding: '0.6rem' }} data-testid={`exp-variant-${i}`}>
            <legend class="small">
              {t('variant')} {i + 1}
            </legend>
            <div class="controls" style={{ marginTop: 0 }}>
              <label class="field">
                <span>{t('name')}</span>
                <input
                  type="text"
                  aria-label={t('variantName', { i: i + 1 })}
                  data-testid={`exp-variant-name-${i}`}
                  value={v.name}
                  onInput={(e) => update(i, { name: (e.target as HTMLInputElement).value })}
                />
              </label>
              <label class="field">
                <span>{t('share')}</span>
                <input
                  type="text"
                  inputMode="decimal"
                  aria-label={t('shareOf', { i: i + 1 })}
                  data-testid={`exp-variant-share-${i}`}
                  value={v.share}
                  onInput={(e) => update(i, { share: (e.target as HTMLInputElement).value })}
                />
              </label>
              {surface !== 'recommend' && (
                <label class="field">
                  <span>{t('pipeline')}</span>
                  <select data-testid={`exp-variant-pipeline-${i}`} value={v.pipeline} onChange={(e) => update(i, { pipeline: (e.target as HTMLSelectElement).value })}>
                    <option value="">{t('pipelineDefault')}</option>
                    {kPipelines.map((p) => (
                      <option key={p} value={p}>
                        {p}
                      </option>
                    ))}
                  </select>
                </label>
              )}
              {surface !== 'search' && (
                <label class="field">
                  <span>{t('intentSwitch')}</span>
                  <select value={v.intentSwitch} onChange={(e) => update(i, { intentSwitch: (e.target as HTMLSelectElement).value as DraftVariant['intentSwitch'] })}>
                    <option value="">{t('default')}</option>
                    <option value="on">{t('on')}</option>
                    <option value="off">{t('off')}</option>
                  </select>
                </label>
              )}
              <label class="field" style={{ gridColumn: '1 / -1' }}>
                <span>{t('config')}</span>
                <input
                  type="text"
                  class="mono"
                  aria-label={t('configOf', { i: i + 1 })}
                  placeholder='{"sort": "price_asc", "personalize": false}'
                  value={v.config}
                  onInput={(e) => update(i, { config: (e.target as HTMLInputElement).value })}
                />
              </label>
            </div>
            {variants.length > 2 && (
              <button type="button" class="btn small ghost" aria-label={t('removeVariant', { i: i + 1 })} onClick={() => setVariants(variants.filter((_, j) => j !== i))}>
                {t('remove')}
              </button>
            )}
          </fieldset>
        ))}
        <div class="row">
          <button
            type="button"
            class="btn small"
            data-testid="exp-add-variant"
            onClick={() => setVariants([...variants, blankVariant(`variant-${variants.length + 1}`, '')])}
          >
            {t('addVariant')}
          </button>
          <span class={`pill ${Math.abs(sum - 1) <= 1e-6 ? 'good' : 'warn'}`} data-testid="exp-share-sum">
            {t('sum', { sum: +sum.toFixed(6) })}
          </span>
        </div>
        {errors.length > 0 && (
          <ul class="error" role="alert" data-testid="exp-form-errors" style={{ listStyle: 'none' }}>
            {errors.map((e, i) => (
              <li key={i}>{t(e.key, e.vars)}</li>
            ))}
          </ul>
        )}
        <div data-testid="exp-form-api-error">
          <ErrorBox error={apiError} path="POST /v1/experiments" />
        </div>
        {done && (
          <p class="pill good" role="status" data-testid="exp-created">
            {done}
          </p>
        )}
        <div class="row" style={{ marginTop: '0.75rem' }}>
          <button type="submit" class="btn primary" data-testid="exp-submit" disabled={busy}>
            {t('submit')}
          </button>
        </div>
      </form>
    </Card>
  );
}

// ---------------------------------------------------------------------------
// Results

function ResultsView(props: { name: string; onChanged: () => void }) {
  const t = useT(dict);
  const [confidence, setConfidence] = useState('0.95');
  const res = useAsync(
    () => apiGet<Results>(`/v1/experiments/${encodeURIComponent(props.name)}/results`, { confidence }),
    [props.name, confidence],
  );
  const [stopErr, setStopErr] = useState<unknown>(null);
  const [stopping, setStopping] = useState(false);
  const r = res.data;

  async function stop() {
    setStopping(true);
    setStopErr(null);
    try {
      await apiPost(`/v1/experiments/${encodeURIComponent(props.name)}/stop`, {});
      res.reload();
      props.onChanged();
    } catch (e) {
      setStopErr(e);
    } finally {
      setStopping(false);
    }
  }

  return (
    <Card
      title={`${t('results')}: ${props.name}`}
      testid="exp-results"
      actions={
        <div class="row">
          <label class="field">
            <span>{t('confidence')}</span>
            <select data-testid="exp-confidence" value={confidence} onChange={(e) => setConfidence((e.target as HTMLSelectElement).value)}>
              <option value="0.9">90%</option>
              <option value="0.95">95%</option>
              <option value="0.99">99%</option>
            </select>
          </label>
          <button type="button" class="btn small" onClick={res.reload}>
            {t('refresh')}
          </button>
          {r?.experiment.status === 'running' && (
            <button type="button" class="btn small" data-testid="exp-stop" disabled={stopping} onClick={stop}>
              {t('stop')}
            </button>
          )}
        </div>
      }
    >
      {res.loading && !r && <Loading />}
      <ErrorBox error={res.error} onRetry={res.reload} />
      <ErrorBox error={stopErr} />
      {r && <ResultsBody r={r} />}
    </Card>
  );
}

function ResultsBody(props: { r: Results }) {
  const t = useT(dict);
  const r = props.r;
  const control = r.variants.find((v) => v.control) ?? r.variants[0];
  const metrics: [Key, keyof VariantResult, boolean][] = [
    ['conversion_rate', 'conversion_rate', true],
    ['click_rate', 'click_rate', true],
    ['cart_rate', 'cart_rate', true],
    ['revenue_per_user', 'revenue_per_user', false],
  ];
  const options = useMemo(
    () =>
      metrics.map(([, k, percent]) =>
        intervalOption(
          r.variants.map((v) => ({ name: v.name, iv: v[k] as Interval | undefined })),
          control ? ((control[k] as Interval | undefined)?.value ?? null) : null,
          percent,
        ),
      ),
    [r],
  );
  const total = r.variants.reduce((s, v) => s + v.users, 0);
  return (
    <>
      <p class="muted small">
        <span class={`pill ${r.experiment.status === 'running' ? 'good' : ''}`} data-testid="exp-status">
          {r.experiment.status === 'running' ? t('running') : t('stopped')}
        </span>{' '}
        {t('computed', { t: fmtTime(r.computed_ms) })} · {r.experiment.surface}
      </p>
      <div class="stats">
        {r.variants.map((v) => (
          <Stat
            key={v.name}
            label={
              <>
                {v.name} {v.control && <span class="pill info">{t('controlMark')}</span>}
              </>
            }
            value={fmtNum(v.users)}
            hint={`${t('users')} · ${pct(v.conversion_rate?.value)} ${t('conversion_rate').split(' (')[0].toLowerCase()}`}
          />
        ))}
      </div>
      <Table
        testid="exp-variants-table"
        caption={t('variants')}
        rowKey={(v) => v.name}
        columns={[
          { key: 'name', label: t('variant'), render: (v) => <strong>{v.name}</strong> },
          { key: 'users', label: t('users'), align: 'right', render: (v) => fmtNum(v.users) },
          { key: 'exposures', label: t('exposures'), align: 'right', render: (v) => fmtNum(v.exposures) },
          { key: 'clicks', label: t('clicks'), align: 'right', render: (v) => fmtNum(v.clicks) },
          { key: 'carts', label: t('carts'), align: 'right', render: (v) => fmtNum(v.carts) },
          { key: 'purchasers', label: t('purchasers'), align: 'right', render: (v) => fmtNum(v.purchasers) },
          { key: 'revenue', label: t('revenue'), align: 'right', render: (v) => fmtNum(v.revenue, 2) },
          {
            key: 'conv',
            label: t('conversion_rate'),
            align: 'right',
            render: (v) => `${pct(v.conversion_rate?.value)} [${pct(v.conversion_rate?.low)} .. ${pct(v.conversion_rate?.high)}]`,
          },
        ]}
        rows={r.variants}
      />
      <p class="muted small">{t('ciHint')}</p>
      <div class="grid cols-2">
        {metrics.map(([label], i) => (
          <div key={label}>
            <h3>{t(label)}</h3>
            <Chart option={options[i]} height={220} testid={i === 0 ? 'exp-ci-chart' : undefined} label={t(label)} />
          </div>
        ))}
      </div>
      <h3>{t('vsControl')}</h3>
      <Table
        testid="exp-vs-control"
        caption={t('vsControl')}
        rowKey={(v) => v.name}
        columns={[
          { key: 'name', label: t('variant'), render: (v) => <strong>{v.name}</strong> },
          { key: 'diff', label: t('diff'), align: 'right', render: (v) => pp(v.vs_control?.conversion_diff) },
          { key: 'lift', label: t('lift'), align: 'right', render: (v) => pct(v.vs_control?.conversion_lift, 1) },
          { key: 'p', label: t('pValue'), align: 'right', render: (v) => <span data-testid="exp-p-value">{fix(v.vs_control?.p_value, 4)}</span> },
          {
            key: 'sig',
            label: t('significant'),
            render: (v) =>
              v.vs_control ? <span class={`pill ${v.vs_control.significant ? 'good' : ''}`}>{v.vs_control.significant ? t('yes') : t('no')}</span> : '–',
          },
          { key: 'rdiff', label: t('revDiff'), align: 'right', render: (v) => num(v.vs_control?.revenue_diff) },
          { key: 'rp', label: t('revP'), align: 'right', render: (v) => fix(v.vs_control?.revenue_p_value, 4) },
        ]}
        rows={r.variants.filter((v) => !v.control)}
      />
      <h3>{t('srm')}</h3>
      <div data-testid="exp-srm">
        <p>
          <span class={`pill ${r.srm.mismatch ? 'bad' : 'good'}`}>{r.srm.mismatch ? 'SRM' : 'OK'}</span> {r.srm.mismatch ? t('srmBad') : t('srmOk')}
        </p>
        {r.srm.warning && <p class="notice">{r.srm.warning}</p>}
        <div class="stats">
          <Stat label={t('chi2')} value={fix(r.srm.chi2, 3)} />
          <Stat label={t('pValue')} value={fix(r.srm.p_value, 4)} />
        </div>
        <Table
          caption={t('srm')}
          columns={[
            { key: 'name', label: t('variant') },
            { key: 'e', label: t('expected'), align: 'right', render: (x) => pct(x.e, 1) },
            { key: 'o', label: t('observed'), align: 'right', render: (x) => `${fmtNum(x.o)} (${total ? pct(x.o / total, 1) : '–'})` },
          ]}
          rows={Object.keys(r.srm.expected ?? {}).map((name) => ({ name, e: r.srm.expected![name], o: r.srm.observed?.[name] ?? 0 }))}
        />
      </div>
      <h3>{t('summary')}</h3>
      <ul class="findings">
        {r.variants.map((v) => (
          <li key={v.name}>
            <strong>{v.name}</strong> <span>{v.summary}</span>
          </li>
        ))}
      </ul>
      <JsonView value={r} />
    </>
  );
}
