// Learn: guided tutorials on the demo store. Every step calls the live engine
// through the public API and shows what came back; nothing is a screenshot.
// Tutorials that write (cold start, A/B test) clean up after themselves in
// their last step, and also when the reader leaves half-way.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { ComponentChildren, FunctionComponent } from 'preact';
import { ApiError, apiDelete, apiGet, apiPost } from '../api';
import { Chart } from '../chart';
import type { EChartsCoreOption } from '../chart';
import { format, useLang, useT } from '../i18n';
import type { Lang } from '../i18n';
import { Card, ErrorBox, JsonView, Loading, PageHead, Stat, Table, fix } from '../ui';
import { findCurves, findExposureCurves, getReport, listReports, metricFamilies } from './evaluation';
import type { Report } from './evaluation';
import { intervalOption } from './experiments';
import type { Experiment, Results } from './experiments';

// ---------------------------------------------------------------------------
// Page chrome strings

const dict = {
  en: {
    title: 'Learn',
    intro: 'Guided tutorials on the demo store. Each step calls the running engine and shows its real answer.',
    tutorials: 'Tutorials',
    step: 'Step {i} of {n}',
    back: 'Back',
    next: 'Next',
    rerun: 'Run this step again',
    finished: 'End of the tutorial.',
    running: 'Calling the engine…',
    result: 'Live result',
    query: 'Query',
    run: 'Run',
  },
  zh: {
    title: '学习',
    intro: '基于演示商店的引导式教程。每一步都会调用正在运行的引擎并展示它的真实返回结果。',
    tutorials: '教程',
    step: '第 {i} 步，共 {n} 步',
    back: '上一步',
    next: '下一步',
    rerun: '重新运行此步',
    finished: '教程结束。',
    running: '正在调用引擎…',
    result: '实时结果',
    query: '查询',
    run: '运行',
  },
};

// ---------------------------------------------------------------------------
// Tutorial framework

type Bi = { en: string; zh: string };
const tr = (L: Lang, s: Bi, vars?: Record<string, string | number>) => format(s[L], vars);

/** Mutable state shared by the steps of one tutorial run. */
type State = Record<string, any>;

interface ViewProps {
  data: any;
  s: State;
  L: Lang;
  rerun: () => void;
}

interface StepDef {
  id: string;
  title: Bi;
  body: Bi;
  run: (s: State) => Promise<unknown>;
  View: FunctionComponent<ViewProps>;
}

interface TutorialDef {
  id: string;
  title: Bi;
  summary: Bi;
  steps: StepDef[];
  /** Undo what the tutorial wrote, if the reader leaves before the last step. */
  cleanup?: (s: State) => Promise<void>;
}

interface StepResult {
  state: 'loading' | 'done' | 'error';
  data?: unknown;
  error?: unknown;
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
/** Pills are nowrap by default; long ones must wrap at 375 px. */
const kWrap = { whiteSpace: 'normal', overflowWrap: 'anywhere' } as const;
const n4 = (v: unknown) => (isNum(v) ? (Number.isInteger(v) ? String(v) : fix(v, 4)) : '–');

/** True when the server rejects `pipeline=` (the parameter is not deployed yet). */
function pipelineUnsupported(e: unknown): boolean {
  return e instanceof ApiError && (e.field === 'pipeline' || (e.status === 400 && /pipeline/.test(e.message)));
}

// ---------------------------------------------------------------------------
// Search shapes

interface Explain {
  final?: number;
  fused?: number;
  lexical?: { score?: number; rank?: number; fields_bm25?: Record<string, number> };
  dense?: { score?: number; rank?: number };
  ltr?: { bias?: number; score?: number; contributions?: { feature: string; value: number }[] };
}
interface Hit {
  id: string;
  title: string;
  score: number;
  explain?: Explain;
}
interface SearchResp {
  hits: Hit[];
  total: number;
  query?: string;
  query_understanding?: Record<string, unknown>[];
  ranker?: string;
  encoder?: string;
  pipeline?: string;
  did_you_mean?: string;
}

const kRrfK = 60;
function rrf(e?: Explain): number | null {
  if (!e) return null;
  let s = 0;
  if (isNum(e.lexical?.rank)) s += 1 / (kRrfK + e.lexical!.rank!);
  if (isNum(e.dense?.rank)) s += 1 / (kRrfK + e.dense!.rank!);
  return s;
}

function contribMap(e?: Explain): Map<string, number> {
  return new Map((e?.ltr?.contributions ?? []).map((c) => [c.feature, c.value]));
}

/** "running shoes (99%)" for [{category, p}], "run shoe" for string lists, JSON otherwise. */
function quValue(v: unknown): string {
  if (typeof v === 'string' || typeof v === 'number') return String(v);
  if (Array.isArray(v)) {
    return v
      .map((x) => {
        if (typeof x === 'string') return x;
        if (x && typeof x === 'object') {
          const o = x as Record<string, unknown>;
          const label = o.category ?? o.text ?? o.value ?? o.name;
          if (label !== undefined) return isNum(o.p) ? `${label} (${Math.round(o.p * 100)}%)` : String(label);
        }
        return JSON.stringify(x);
      })
      .join(', ');
  }
  return JSON.stringify(v);
}

function qu(resp?: SearchResp): string[] {
  return (resp?.query_understanding ?? []).map((step) => {
    const name = String(step.step ?? '');
    const rest = Object.entries(step)
      .filter(([k]) => k !== 'step')
      .map(([k, v]) => `${k}: ${quValue(v)}`)
      .join('; ');
    return rest ? `${name} — ${rest}` : name;
  });
}

function HitTable(props: { hits: Hit[]; L: Lang; mark?: string[] }) {
  const L = props.L;
  return (
    <Table
      caption="hits"
      rowKey={(h) => h.id}
      columns={[
        { key: 'rank', label: tr(L, { en: 'Rank', zh: '排名' }), align: 'right', render: (_h, i) => i + 1 },
        {
          key: 'id',
          label: 'ID',
          render: (h, i) =>
            i === 0 ? (
              <code data-testid="learn-top-hit" data-id={h.id}>
                {h.id}
              </code>
            ) : (
              <code>{h.id}</code>
            ),
        },
        {
          key: 'title',
          label: tr(L, { en: 'Title', zh: '标题' }),
          render: (h) => (props.mark?.includes(h.id) ? <strong>{h.title}</strong> : h.title),
        },
        { key: 'score', label: tr(L, { en: 'Score', zh: '得分' }), align: 'right', render: (h) => n4(h.score) },
      ]}
      rows={props.hits}
    />
  );
}

function QueryBox(props: { s: State; rerun: () => void; testid?: string }) {
  const t = useT(dict);
  const [q, setQ] = useState<string>(props.s.query ?? '');
  return (
    <form
      class="row"
      onSubmit={(e) => {
        e.preventDefault();
        props.s.query = q.trim() || props.s.query;
        props.rerun();
      }}
    >
      <input type="search" aria-label={t('query')} value={q} data-testid={props.testid} onInput={(e) => setQ((e.target as HTMLInputElement).value)} />
      <button type="submit" class="btn small">
        {t('run')}
      </button>
    </form>
  );
}

function groupedBars(cats: string[], series: { name: string; data: (number | null)[] }[], horizontal = false): EChartsCoreOption {
  const cat = { type: 'category', data: cats, axisLabel: { fontSize: 11, interval: 0, rotate: horizontal ? 0 : 30 } };
  return {
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    legend: { top: 0 },
    grid: { left: 8, right: 16, top: 28, bottom: 8, containLabel: true },
    xAxis: horizontal ? { type: 'value' } : cat,
    yAxis: horizontal ? { ...cat, inverse: true } : { type: 'value' },
    series: series.map((s) => ({ name: s.name, type: 'bar', data: s.data })),
  };
}

// ---------------------------------------------------------------------------
// Tutorial 1: why did this product rank first

const t1: TutorialDef = {
  id: 'rank-first',
  title: { en: 'Why did this product rank first?', zh: '为什么这个商品排第一？' },
  summary: {
    en: 'Take a search apart: text match (BM25), meaning match (dense vectors), fusion and the learned ranker.',
    zh: '拆解一次搜索：文本匹配（BM25）、语义匹配（稠密向量）、融合以及学习排序模型。',
  },
  steps: [
    {
      id: 'search',
      title: { en: 'Run a query with explanations', zh: '运行一个带解释的查询' },
      body: {
        en: 'We ask GET /v1/search with explain=true. Besides the hits, the engine returns how it understood the query (normalization, analysis into stems, category intent, spelling) and, per hit, every score component.',
        zh: '我们调用 GET /v1/search 并设置 explain=true。除了结果之外，引擎还会返回它如何理解查询（规范化、词干分析、类目意图、拼写纠正），以及每个结果的全部得分组成。',
      },
      run: async (s) => {
        s.query = s.query ?? 'running shoes';
        return apiGet<SearchResp>('/v1/search', { q: s.query, explain: true, limit: 10 });
      },
      View: ({ data, s, L, rerun }) => {
        const r = data as SearchResp;
        return (
          <>
            <QueryBox s={s} rerun={rerun} testid="learn-query" />
            <p class="small">
              {tr(L, { en: '{total} matching products; ranker: {ranker}.', zh: '共 {total} 个匹配商品；排序模型：{ranker}。' }, { total: r.total, ranker: r.ranker ?? '–' })}
            </p>
            <div class="checks">
              {qu(r).map((x) => (
                <span key={x} class="pill info" style={kWrap}>
                  {x}
                </span>
              ))}
            </div>
            <HitTable hits={r.hits} L={L} />
          </>
        );
      },
    },
    {
      id: 'components',
      title: { en: 'The top hit against the second one', zh: '第一名与第二名的对比' },
      body: {
        en: 'GET /v1/explain/search?q=…&item=… explains one product for one query. We ask it for #1 and #2: the lexical (BM25) score and rank, the dense (embedding) score and rank, their fusion, and the final learned-ranker score that decides the order.',
        zh: 'GET /v1/explain/search?q=…&item=… 针对某个查询解释某个商品。我们分别查询第 1 名和第 2 名：词法（BM25）得分与排名、稠密（向量）得分与排名、两者的融合分数，以及决定最终顺序的学习排序得分。',
      },
      run: async (s) => {
        const hits: Hit[] = s.search?.hits ?? [];
        if (hits.length < 2) throw new Error('the query needs at least two hits; try another query in step 1');
        const [a, b] = await Promise.all(
          hits.slice(0, 2).map((h) => apiGet<{ hit: Hit; rank: number }>('/v1/explain/search', { q: s.query, item: h.id })),
        );
        return { a: a.hit, b: b.hit, rankA: a.rank, rankB: b.rank };
      },
      View: ({ data, L }) => {
        const { a, b } = data as { a: Hit; b: Hit };
        const rows: [string, number | undefined, number | undefined][] = [
          [tr(L, { en: 'lexical BM25 score', zh: '词法 BM25 得分' }), a.explain?.lexical?.score, b.explain?.lexical?.score],
          [tr(L, { en: 'lexical rank', zh: '词法排名' }), a.explain?.lexical?.rank, b.explain?.lexical?.rank],
          [tr(L, { en: 'dense similarity', zh: '稠密相似度' }), a.explain?.dense?.score, b.explain?.dense?.score],
          [tr(L, { en: 'dense rank', zh: '稠密排名' }), a.explain?.dense?.rank, b.explain?.dense?.rank],
          [tr(L, { en: 'fused (RRF)', zh: '融合（RRF）' }), a.explain?.fused, b.explain?.fused],
          [tr(L, { en: 'learned ranker (final)', zh: '学习排序（最终）' }), a.explain?.final ?? a.score, b.explain?.final ?? b.score],
        ];
        return (
          <>
            <p>
              <strong>#1</strong> <code data-testid="learn-explained-top" data-id={a.id}>{a.id}</code> {a.title}
              <br />
              <strong>#2</strong> <code>{b.id}</code> {b.title}
            </p>
            <Table
              caption="components"
              columns={[
                { key: 'c', label: tr(L, { en: 'Component', zh: '组成部分' }), render: (r) => r[0] },
                { key: 'a', label: '#1', align: 'right', render: (r) => n4(r[1]) },
                { key: 'b', label: '#2', align: 'right', render: (r) => n4(r[2]) },
                { key: 'd', label: 'Δ', align: 'right', render: (r) => (isNum(r[1]) && isNum(r[2]) ? n4(r[1] - r[2]) : '–') },
              ]}
              rows={rows}
            />
            <p class="muted small">
              {tr(L, {
                en: 'A lower rank number is better. The final score is what orders the list; the other rows are its inputs.',
                zh: '排名数字越小越好。最终得分决定列表顺序，其余各行是它的输入。',
              })}
            </p>
          </>
        );
      },
    },
    {
      id: 'bm25',
      title: { en: 'BM25, field by field', zh: 'BM25：逐个字段' },
      body: {
        en: 'BM25 rewards query terms that are rare in the catalog (IDF), with diminishing returns for repeats (term-frequency saturation) and a penalty for long fields. Souk scores each field separately — title, brand, category, description, attributes — and adds them with field weights.',
        zh: 'BM25 奖励在商品库中少见的查询词（IDF），重复出现的收益递减（词频饱和），并对较长的字段进行惩罚。Souk 对每个字段（标题、品牌、类目、描述、属性）分别打分，再按字段权重相加。',
      },
      run: async (s) => s.components,
      View: ({ data, L }) => {
        const { a, b } = data as { a: Hit; b: Hit };
        const fields = [...new Set([...Object.keys(a.explain?.lexical?.fields_bm25 ?? {}), ...Object.keys(b.explain?.lexical?.fields_bm25 ?? {})])];
        const option = useMemo(
          () =>
            groupedBars(fields, [
              { name: `#1 ${a.id}`, data: fields.map((f) => a.explain?.lexical?.fields_bm25?.[f] ?? 0) },
              { name: `#2 ${b.id}`, data: fields.map((f) => b.explain?.lexical?.fields_bm25?.[f] ?? 0) },
            ]),
          [data],
        );
        const best = fields.sort((x, y) => (a.explain?.lexical?.fields_bm25?.[y] ?? 0) - (a.explain?.lexical?.fields_bm25?.[x] ?? 0))[0];
        return (
          <>
            <Chart option={option} height={260} testid="learn-bm25-chart" label="BM25" />
            <p>
              {tr(
                L,
                {
                  en: 'For #1 the strongest field is “{f}”. Total BM25: {a} vs {b}.',
                  zh: '第 1 名得分最高的字段是“{f}”。BM25 总分：{a} 对 {b}。',
                },
                { f: best ?? '–', a: n4(a.explain?.lexical?.score), b: n4(b.explain?.lexical?.score) },
              )}
            </p>
          </>
        );
      },
    },
    {
      id: 'fusion',
      title: { en: 'Dense score and fusion', zh: '稠密得分与融合' },
      body: {
        en: 'The dense retriever embeds the query and every product into vectors; similarity finds products that mean the same thing with other words. The two ranked lists are merged by reciprocal-rank fusion: fused = Σ 1 / (60 + rank) over the lists where the product appears. Fusion only uses ranks, so the two scales never need to be comparable.',
        zh: '稠密检索把查询和每个商品编码成向量；通过相似度找到用词不同但含义相同的商品。两份排序列表通过倒数排名融合（RRF）合并：fused = Σ 1 / (60 + 排名)，对商品出现的每个列表求和。融合只用排名，因此两种分数的尺度无需可比。',
      },
      run: async (s) => s.components,
      View: ({ data, L }) => {
        const { a, b } = data as { a: Hit; b: Hit };
        const rows = [a, b].map((h, i) => ({ h, i, computed: rrf(h.explain), reported: h.explain?.fused }));
        return (
          <>
            <Table
              caption="fusion"
              columns={[
                { key: 'h', label: '#', render: (r) => `#${r.i + 1} ${r.h.id}` },
                { key: 'lr', label: tr(L, { en: 'lexical rank', zh: '词法排名' }), align: 'right', render: (r) => r.h.explain?.lexical?.rank ?? '–' },
                { key: 'dr', label: tr(L, { en: 'dense rank', zh: '稠密排名' }), align: 'right', render: (r) => r.h.explain?.dense?.rank ?? '–' },
                { key: 'c', label: tr(L, { en: 'Σ 1/(60+rank)', zh: 'Σ 1/(60+排名)' }), align: 'right', render: (r) => n4(r.computed) },
                { key: 'f', label: tr(L, { en: 'fused (engine)', zh: '融合（引擎）' }), align: 'right', render: (r) => n4(r.reported) },
                {
                  key: 'ok',
                  label: '=',
                  render: (r) =>
                    isNum(r.computed) && isNum(r.reported) && Math.abs(r.computed - r.reported) < 1e-4 ? (
                      <span class="pill good">✓</span>
                    ) : (
                      <span class="pill warn">≠</span>
                    ),
                },
              ]}
              rows={rows}
            />
            <p class="muted small">
              {tr(L, {
                en: 'A “≠” means the engine weighted or capped the lists differently from the plain formula; the engine’s number is the one used.',
                zh: '“≠”表示引擎对列表的加权或截断与简单公式不同；以引擎的数值为准。',
              })}
            </p>
          </>
        );
      },
    },
    {
      id: 'ltr',
      title: { en: 'The learned ranker decides', zh: '由学习排序模型决定' },
      body: {
        en: 'A gradient-boosted ranker trained on the store’s clicks and purchases combines ~30 features (text match, dense score, fusion, popularity, click-through, conversion, personal affinity…). Its score is bias + the sum of per-feature contributions (SHAP values), so we can see exactly which features put #1 ahead of #2.',
        zh: '一个基于本店点击和购买数据训练的梯度提升排序模型，组合了约 30 个特征（文本匹配、稠密得分、融合分数、热度、点击率、转化率、个人偏好等）。它的得分等于偏置加上每个特征的贡献（SHAP 值）之和，因此可以准确看到是哪些特征让第 1 名领先第 2 名。',
      },
      run: async (s) => s.components,
      View: ({ data, L }) => {
        const { a, b } = data as { a: Hit; b: Hit };
        const ca = contribMap(a.explain);
        const cb = contribMap(b.explain);
        const feats = [...new Set([...ca.keys(), ...cb.keys()])]
          .map((f) => ({ f, a: ca.get(f) ?? 0, b: cb.get(f) ?? 0 }))
          .sort((x, y) => Math.abs(y.a - y.b) - Math.abs(x.a - x.b));
        const top = feats.slice(0, 10);
        const option = useMemo(
          () =>
            groupedBars(
              top.map((x) => x.f),
              [
                { name: `#1 ${a.id}`, data: top.map((x) => x.a) },
                { name: `#2 ${b.id}`, data: top.map((x) => x.b) },
              ],
              true,
            ),
          [data],
        );
        const sumA = (a.explain?.ltr?.bias ?? 0) + [...ca.values()].reduce((s, v) => s + v, 0);
        const gap = (a.explain?.final ?? a.score) - (b.explain?.final ?? b.score);
        const drivers = top
          .filter((x) => x.a - x.b > 0)
          .slice(0, 3)
          .map((x) => `${x.f} (+${fix(x.a - x.b, 3)})`)
          .join(', ');
        return (
          <>
            <div class="stats">
              <Stat label={tr(L, { en: 'bias', zh: '偏置' })} value={n4(a.explain?.ltr?.bias)} />
              <Stat label={tr(L, { en: 'bias + Σ contributions (#1)', zh: '偏置 + 贡献之和（#1）' })} value={n4(sumA)} />
              <Stat label={tr(L, { en: 'ranker score (#1)', zh: '排序得分（#1）' })} value={n4(a.explain?.ltr?.score)} />
              <Stat label={tr(L, { en: 'lead over #2', zh: '领先第 2 名' })} value={n4(gap)} />
            </div>
            <h3>{tr(L, { en: 'Features that differ most between #1 and #2', zh: '第 1 名与第 2 名差异最大的特征' })}</h3>
            <Chart option={option} height={340} testid="learn-ltr-chart" label="LTR" />
            <p data-testid="learn-conclusion">
              {drivers
                ? tr(L, { en: '#1 ranks first mostly because of: {d}.', zh: '第 1 名排在最前主要因为：{d}。' }, { d: drivers })
                : tr(L, { en: 'No single feature favours #1; the gap is spread over many small contributions.', zh: '没有单个特征明显偏向第 1 名；差距由许多小贡献累积而成。' })}
            </p>
          </>
        );
      },
    },
  ],
};

// ---------------------------------------------------------------------------
// Tutorial 2: what fine-tuning changes

const kComparePipelines = ['bm25', 'dense', 'hybrid+ltr'];

function RankLists(props: { lists: { name: string; hits: Hit[] }[]; L: Lang }) {
  const base = props.lists[0];
  const baseRank = new Map(base.hits.map((h, i) => [h.id, i]));
  return (
    <div class="grid cols-3" data-testid="learn-pipelines">
      {props.lists.map((l, li) => (
        <div key={l.name}>
          <h3>
            <code>{l.name}</code>
          </h3>
          <ol class="rank-list">
            {l.hits.map((h, i) => {
              const br = baseRank.get(h.id);
              const cls = li === 0 ? 'same' : br === undefined ? 'new' : br > i ? 'up' : br < i ? 'down' : 'same';
              const delta = li === 0 ? '' : br === undefined ? tr(props.L, { en: 'new', zh: '新' }) : br === i ? '=' : br > i ? `▲${br - i}` : `▼${i - br}`;
              return (
                <li key={h.id} class={cls}>
                  <span class="muted">{i + 1}</span>
                  <span title={h.title} style={{ overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' }}>
                    {h.title}
                  </span>
                  <span class={`delta ${cls}`}>{delta}</span>
                </li>
              );
            })}
          </ol>
        </div>
      ))}
    </div>
  );
}

const t2: TutorialDef = {
  id: 'fine-tuning',
  title: { en: 'What fine-tuning changes', zh: '微调带来了什么变化' },
  summary: {
    en: 'Run one query through the plain text index, the embedding model and the full learned pipeline, then look at how the models were trained.',
    zh: '用纯文本索引、向量模型和完整的学习排序管线分别运行同一个查询，再看看这些模型是如何训练的。',
  },
  steps: [
    {
      id: 'pipelines',
      title: { en: 'Three pipelines, one query', zh: '一个查询，三条管线' },
      body: {
        en: 'pipeline=bm25 uses only the text index; pipeline=dense only the (fine-tuned) embedding model; pipeline=hybrid+ltr fuses both and re-ranks with the ranker learned from behaviour. Arrows show the move against the bm25 list; “new” marks products bm25 did not have in its top 10.',
        zh: 'pipeline=bm25 只用文本索引；pipeline=dense 只用（微调过的）向量模型；pipeline=hybrid+ltr 融合两者并用从用户行为中学到的排序模型重排。箭头表示相对 bm25 列表的名次变化；“新”表示 bm25 前 10 名里没有的商品。',
      },
      run: async (s) => {
        s.query = s.query ?? 'running shoes';
        try {
          const lists = await Promise.all(
            kComparePipelines.map(async (p) => ({ name: p, hits: (await apiGet<SearchResp>('/v1/search', { q: s.query, pipeline: p, limit: 10 })).hits })),
          );
          return { lists };
        } catch (e) {
          if (pipelineUnsupported(e)) return { unsupported: (e as Error).message };
          throw e;
        }
      },
      View: ({ data, s, L, rerun }) => (
        <>
          <QueryBox s={s} rerun={rerun} />
          {data.unsupported ? (
            <p class="notice">
              {tr(L, {
                en: 'This server does not accept pipeline= yet, so the three pipelines cannot be compared live here. ({m})',
                zh: '此服务器尚不支持 pipeline= 参数，因此无法在这里实时比较三条管线。（{m}）',
              }, { m: data.unsupported })}
            </p>
          ) : (
            <RankLists lists={data.lists} L={L} />
          )}
        </>
      ),
    },
    {
      id: 'models',
      title: { en: 'How much the learned ranker adds', zh: '学习排序带来了多少提升' },
      body: {
        en: 'GET /v1/admin/models lists the active model versions with the metrics measured when they were trained. For the ranker, the engine held out part of the logged searches and compared plain fusion with the learned ranker on them (NDCG@10 and MRR@10: higher is better). Below, the overlap between the pipelines’ top 10s from step 1.',
        zh: 'GET /v1/admin/models 列出当前启用的模型版本及其训练时测得的指标。对于排序模型，引擎留出了一部分搜索日志，在其上比较了简单融合与学习排序（NDCG@10 和 MRR@10，越高越好）。下方是第 1 步中各管线前 10 名的重合度。',
      },
      run: async () => apiGet<{ models: Record<string, { active: boolean; version: string; metrics?: Record<string, any> }[]> }>('/v1/admin/models'),
      View: ({ data, s, L }) => {
        const models = data.models ?? {};
        const ltr = (models.ltr ?? []).find((m: { active: boolean }) => m.active) ?? (models.ltr ?? [])[0];
        const met = ltr?.metrics ?? {};
        const keys = ['ndcg@10', 'mrr@10'];
        const groups = Object.entries(met).filter(([, v]) => v && typeof v === 'object' && !Array.isArray(v) && keys.some((k) => isNum((v as any)[k])));
        const option = useMemo(
          () => groupedBars(keys, groups.map(([name, v]) => ({ name, data: keys.map((k) => (v as any)[k] ?? null) }))),
          [data],
        );
        const lists: { name: string; hits: Hit[] }[] = s.pipelines?.lists ?? [];
        const pairs: { a: string; b: string; overlap: number }[] = [];
        for (let i = 0; i < lists.length; i++)
          for (let j = i + 1; j < lists.length; j++) {
            const A = new Set(lists[i].hits.map((h) => h.id));
            pairs.push({ a: lists[i].name, b: lists[j].name, overlap: lists[j].hits.filter((h) => A.has(h.id)).length });
          }
        return (
          <>
            <div class="stats">
              {Object.entries(models).map(([kind, vs]) => {
                const active = (vs as { active: boolean; version: string }[]).find((v) => v.active);
                return <Stat key={kind} label={kind} value={<span class="small mono">{active?.version ?? '–'}</span>} />;
              })}
            </div>
            {groups.length > 0 ? (
              <Chart option={option} height={240} testid="learn-ltr-metrics" label="ranker metrics" />
            ) : (
              <p class="muted">{tr(L, { en: 'The active ranker carries no holdout metrics.', zh: '当前排序模型没有留出集指标。' })}</p>
            )}
            {pairs.length > 0 && (
              <Table
                caption="overlap"
                columns={[
                  { key: 'p', label: tr(L, { en: 'Pipelines', zh: '管线' }), render: (p) => `${p.a} ↔ ${p.b}` },
                  { key: 'o', label: tr(L, { en: 'Shared products in the top 10', zh: '前 10 名中的共同商品' }), align: 'right', render: (p) => `${p.overlap} / 10` },
                ]}
                rows={pairs}
              />
            )}
          </>
        );
      },
    },
    {
      id: 'curves',
      title: { en: 'The fine-tuning loss curve', zh: '微调的损失曲线' },
      body: {
        en: 'The embedding model is first pre-trained on the catalog text, then fine-tuned on query–product pairs. The loss should fall quickly and flatten; the validation curve (NDCG on held-out queries) should rise. These curves come from the newest search evaluation report.',
        zh: '向量模型先在商品文本上预训练，然后在“查询—商品”对上微调。损失应当迅速下降并趋于平稳；验证曲线（留出查询上的 NDCG）应当上升。这些曲线来自最新的搜索评估报告。',
      },
      run: async () => {
        try {
          const reports = (await listReports()).filter((r) => r.task === 'search');
          for (const info of reports) {
            const rep = await getReport(info.name);
            const curves = findCurves(rep.extra ?? {});
            if (curves.length) return { name: info.name, curves, ablations: rep.ablations ?? {} };
          }
          return { none: true };
        } catch (e) {
          if (e instanceof ApiError && e.notAvailable) return { none: true, noRoute: true };
          throw e;
        }
      },
      View: ({ data, L }) => {
        const loss = (data.curves ?? []).filter((c: { key: string }) => /loss/.test(c.key));
        const val = (data.curves ?? []).filter((c: { key: string }) => !/loss/.test(c.key));
        const mk = (cs: { path: string; values: number[] }[]): EChartsCoreOption => ({
          tooltip: { trigger: 'axis' },
          legend: { type: 'scroll', bottom: 0 },
          grid: { left: 8, right: 16, top: 16, bottom: 48, containLabel: true },
          xAxis: { type: 'value', minInterval: 1 },
          yAxis: { type: 'value', scale: true },
          series: cs.map((c) => ({ name: c.path.replace(/^timing\./, ''), type: 'line', data: c.values.map((v, i) => [i + 1, v]), showSymbol: false })),
        });
        const lossOpt = useMemo(() => mk(loss), [data]);
        const valOpt = useMemo(() => mk(val), [data]);
        if (data.none)
          return (
            <p class="notice">
              {tr(L, {
                en: 'No search report with training curves is available{x}. Produce one with: souk eval search --protocol homedepot --products products.csv --judgments judgments.dev.csv --hd-encoder bert --json',
                zh: '没有带训练曲线的搜索评估报告{x}。可以这样生成：souk eval search --protocol homedepot --products products.csv --judgments judgments.dev.csv --hd-encoder bert --json',
              }, { x: data.noRoute ? tr(L, { en: ' (the reports API is not on this server yet)', zh: '（此服务器尚未提供报告 API）' }) : '' })}
            </p>
          );
        const abl = Object.entries(data.ablations as Report['ablations'] ?? {})
          .map(([name, m]) => ({ name, v: [...(metricFamilies(m).get('full_ndcg') ?? new Map()).values()][0] }))
          .filter((x) => isNum(x.v));
        return (
          <>
            <p class="small muted">{data.name}</p>
            <div class="grid cols-2">
              <div>
                <h3>{tr(L, { en: 'Training loss', zh: '训练损失' })}</h3>
                <Chart option={lossOpt} height={280} testid="learn-loss-chart" label="loss" />
              </div>
              {val.length > 0 && (
                <div>
                  <h3>{tr(L, { en: 'Validation', zh: '验证' })}</h3>
                  <Chart option={valOpt} height={280} label="validation" />
                </div>
              )}
            </div>
            {abl.length > 0 && (
              <Table
                caption="ablations"
                columns={[
                  { key: 'name', label: tr(L, { en: 'Pipeline', zh: '管线' }), render: (x) => <code>{x.name}</code> },
                  { key: 'v', label: 'NDCG@10', align: 'right', render: (x) => n4(x.v) },
                ]}
                rows={abl}
              />
            )}
          </>
        );
      },
    },
  ],
};

// ---------------------------------------------------------------------------
// Tutorial 3: cold start

interface Item {
  id: string;
  title?: string;
  description?: string;
  brand?: string;
  category?: string | string[];
  price?: number;
  currency?: string;
  attributes?: Record<string, string>;
  in_stock?: boolean;
  language?: string;
}

async function removeColdItem(s: State) {
  if (s.newId && !s.deleted) {
    s.deleted = true;
    try {
      await apiDelete(`/v1/items/${encodeURIComponent(s.newId)}`);
    } catch {
      /* already gone */
    }
  }
}

const t3: TutorialDef = {
  id: 'cold-start',
  title: { en: 'Cold start: a brand-new product', zh: '冷启动：一个全新的商品' },
  summary: {
    en: 'Add a product nobody has seen, search for it, ask for similar products, then remove it again.',
    zh: '添加一个还没人见过的商品，搜索它，请求相似商品推荐，然后再把它删除。',
  },
  cleanup: removeColdItem,
  steps: [
    {
      id: 'template',
      title: { en: 'Pick an existing product as a model', zh: '选一个现有商品作为模板' },
      body: {
        en: 'We take the top hit for “running shoes” and read it with GET /v1/items/{id}. The new product will copy its brand, category and description, so it is very similar to something the engine already knows well.',
        zh: '我们取“running shoes”的第一个搜索结果，并用 GET /v1/items/{id} 读取它。新商品会复制它的品牌、类目和描述，因此与引擎已经非常熟悉的商品非常相似。',
      },
      run: async () => {
        const r = await apiGet<SearchResp>('/v1/search', { q: 'running shoes', limit: 1 });
        if (!r.hits.length) throw new Error('no product found for “running shoes”');
        return apiGet<Item>(`/v1/items/${encodeURIComponent(r.hits[0].id)}`);
      },
      View: ({ data }) => <ItemCard item={data as Item} />,
    },
    {
      id: 'created',
      title: { en: 'Add the new product', zh: '添加新商品' },
      body: {
        en: 'POST /v1/items upserts products. The answer tells what changed in the live indexes: the text index is updated at once, without a rebuild.',
        zh: 'POST /v1/items 用于新增或更新商品。返回结果说明实时索引发生了什么变化：文本索引会立即更新，无需重建。',
      },
      run: async (s) => {
        const tpl = s.template as Item;
        s.newId = s.newId && !s.deleted ? s.newId : `learn-cold-${Date.now().toString(36)}`;
        s.deleted = false;
        const item: Item = {
          id: s.newId,
          title: `${tpl.title} – New Edition`,
          description: tpl.description,
          brand: tpl.brand,
          category: tpl.category,
          price: tpl.price,
          currency: tpl.currency,
          attributes: tpl.attributes,
          in_stock: true,
          language: tpl.language,
        };
        const res = await apiPost('/v1/items', { items: [item] });
        return { item, res };
      },
      View: ({ data }) => (
        <>
          <ItemCard item={data.item} />
          <JsonView value={data.res} label="POST /v1/items" open />
        </>
      ),
    },
    {
      id: 'found',
      title: { en: 'Can search find it?', zh: '搜索能找到它吗？' },
      body: {
        en: 'We search for the model product’s title and ask the engine to explain the new product for that query. It matches the text as well as its model, but it has no clicks, no purchases and possibly no embedding yet — watch the popularity, click-through and dense rows.',
        zh: '我们用模板商品的标题进行搜索，并让引擎解释新商品在该查询下的得分。它在文本上与模板一样匹配，但还没有点击、购买，可能也还没有向量——请注意热度、点击率和稠密相关的行。',
      },
      run: async (s) => {
        const q = (s.template as Item).title ?? 'running shoes';
        const [search, mine, tpl] = await Promise.all([
          apiGet<SearchResp>('/v1/search', { q, limit: 20 }),
          apiGet<{ hit: Hit; rank: number }>('/v1/explain/search', { q, item: s.newId }),
          apiGet<{ hit: Hit; rank: number }>('/v1/explain/search', { q, item: s.template.id }),
        ]);
        return { q, search, mine, tpl };
      },
      View: ({ data, s, L }) => {
        const rank = (data.search as SearchResp).hits.findIndex((h) => h.id === s.newId);
        const a: Hit = data.mine.hit;
        const b: Hit = data.tpl.hit;
        const ca = contribMap(a.explain);
        const cb = contribMap(b.explain);
        const feats = ['popularity', 'ctr', 'conversion', 'dense_score', 'lex_score', 'matched_frac'].filter((f) => ca.has(f) || cb.has(f));
        const rows: [string, unknown, unknown][] = [
          [tr(L, { en: 'rank for this query', zh: '在此查询中的排名' }), data.mine.rank, data.tpl.rank],
          [tr(L, { en: 'lexical BM25 score', zh: '词法 BM25 得分' }), a.explain?.lexical?.score, b.explain?.lexical?.score],
          [tr(L, { en: 'dense similarity', zh: '稠密相似度' }), a.explain?.dense?.score, b.explain?.dense?.score],
          [tr(L, { en: 'final score', zh: '最终得分' }), a.explain?.final ?? a.score, b.explain?.final ?? b.score],
          ...feats.map((f) => [`LTR: ${f}`, ca.get(f), cb.get(f)] as [string, unknown, unknown]),
        ];
        return (
          <>
            <p>
              {rank >= 0
                ? tr(L, { en: 'The new product is #{r} in the top 20 for “{q}”.', zh: '新商品在“{q}”的前 20 名中排第 {r}。' }, { r: rank + 1, q: data.q })
                : tr(L, { en: 'The new product is not in the top 20 for “{q}” (it ranks #{r}).', zh: '新商品不在“{q}”的前 20 名中（排第 {r} 名）。' }, { q: data.q, r: data.mine.rank ?? '–' })}
            </p>
            <Table
              caption="cold vs template"
              columns={[
                { key: 'k', label: '', render: (r) => r[0] },
                { key: 'a', label: tr(L, { en: 'new product', zh: '新商品' }), align: 'right', render: (r) => (isNum(r[1]) ? n4(r[1]) : '–') },
                { key: 'b', label: tr(L, { en: 'model product', zh: '模板商品' }), align: 'right', render: (r) => (isNum(r[2]) ? n4(r[2]) : '–') },
              ]}
              rows={rows}
            />
          </>
        );
      },
    },
    {
      id: 'similar',
      title: { en: 'Is it recommendable?', zh: '它能被推荐吗？' },
      body: {
        en: 'We ask GET /v1/recommendations/similar?item=<new id>&explain=true, and check whether the new product appears among the products similar to its model.',
        zh: '我们请求 GET /v1/recommendations/similar?item=<新商品 id>&explain=true，并检查新商品是否出现在其模板商品的相似商品中。',
      },
      run: async (s) => {
        let own: unknown = null;
        let ownError: unknown = null;
        try {
          own = await apiGet('/v1/recommendations/similar', { item: s.newId, n: 8, explain: true, lang: s.L });
        } catch (e) {
          ownError = e;
        }
        const viaTemplate = await apiGet<{ items: { id: string }[] }>('/v1/recommendations/similar', { item: s.template.id, n: 50 });
        return { own, ownError, inTemplate: viaTemplate.items.some((i) => i.id === s.newId) };
      },
      View: ({ data, L }) => (
        <>
          {data.own ? (
            <>
              <p class="pill good">{tr(L, { en: 'Recommendable right away', zh: '立即可以被推荐' })}</p>
              <p>
                {tr(L, {
                  en: 'The recommender was trained before this product existed. Its title, brand, category and description were embedded at request time by the content source (the same text encoder that embedded the catalog) and matched against every known product: the answer says cold_start. Behavior-based sources (co-views, bought together, the sequential model) learn about it at the next `souk train recommender`; until then it is not in other products’ lists.',
                  zh: '推荐模型训练时这个商品还不存在。请求时，内容召回源用同一个文本编码器把它的标题、品牌、类目和描述编码成向量，再与所有已知商品比较：返回结果标记为 cold_start。基于行为的召回源（共同浏览、经常一起买、序列模型）要到下一次 `souk train recommender` 才认识它；在那之前它不会出现在其他商品的推荐列表里。',
                })}
              </p>
              <RecList recs={(data.own as { items: RecItem[] }).items} L={L} />
            </>
          ) : (
            <>
              <ErrorBox error={data.ownError} />
              <p>
                {tr(L, {
                  en: 'The recommendation models only know the products that existed when they were last trained. Search picked the new product up at once, recommendations will after the next `souk train recommender` (or the scheduled retraining).',
                  zh: '推荐模型只认识上次训练时已经存在的商品。搜索立刻就能找到新商品，而推荐要等到下一次 `souk train recommender`（或定时重训）之后。',
                })}
              </p>
            </>
          )}
          <p>
            {data.inTemplate
              ? tr(L, { en: 'It also appears among the products similar to its model.', zh: '它也出现在模板商品的相似商品中。' })
              : tr(L, { en: 'It does not (yet) appear among the 50 products most similar to its model.', zh: '它（暂时）没有出现在模板商品最相似的 50 个商品中。' })}
          </p>
        </>
      ),
    },
    {
      id: 'cleanup',
      title: { en: 'Clean up', zh: '清理' },
      body: {
        en: 'DELETE /v1/items/{id} removes the product from the catalog and the live indexes; a GET afterwards answers 404.',
        zh: 'DELETE /v1/items/{id} 会把商品从商品库和实时索引中删除；之后再 GET 会返回 404。',
      },
      run: async (s) => {
        const del = await apiDelete(`/v1/items/${encodeURIComponent(s.newId)}`);
        s.deleted = true;
        let status = 200;
        try {
          await apiGet(`/v1/items/${encodeURIComponent(s.newId)}`);
        } catch (e) {
          status = e instanceof ApiError ? e.status : 0;
        }
        return { del, status };
      },
      View: ({ data, L }) => (
        <>
          <JsonView value={data.del} label="DELETE /v1/items/{id}" open />
          <p>
            {tr(L, { en: 'GET after the delete answered HTTP {s}.', zh: '删除后 GET 返回 HTTP {s}。' }, { s: data.status })}{' '}
            {data.status === 404 && <span class="pill good">✓</span>}
          </p>
        </>
      ),
    },
  ],
};

function ItemCard(props: { item: Item }) {
  const i = props.item;
  return (
    <div class="card" style={{ boxShadow: 'none' }}>
      <strong>{i.title}</strong> <code class="small">{i.id}</code>
      <div class="small muted">
        {i.brand} · {Array.isArray(i.category) ? i.category.join(' > ') : i.category} · {i.price} {i.currency}
      </div>
      {i.description && <p class="small">{i.description}</p>}
    </div>
  );
}

interface RecItem {
  id: string;
  title: string;
  score: number;
  reason: string;
  explain?: { features?: Record<string, number | null> };
}

function RecList(props: { recs: RecItem[]; L: Lang; extra?: (r: RecItem) => ComponentChildren }) {
  const L = props.L;
  return (
    <Table
      caption="recommendations"
      rowKey={(r) => r.id}
      columns={[
        { key: 'n', label: '#', align: 'right', render: (_r, i) => i + 1 },
        { key: 'title', label: tr(L, { en: 'Product', zh: '商品' }), render: (r) => r.title },
        { key: 'reason', label: tr(L, { en: 'Reason', zh: '理由' }), render: (r) => <span class="small">{r.reason}</span> },
        ...(props.extra ? [{ key: 'x', label: '', render: (r: RecItem) => props.extra!(r) }] : []),
      ]}
      rows={props.recs}
    />
  );
}

// ---------------------------------------------------------------------------
// Tutorial 4: diversity and the long tail

function topCategory(c: string | string[] | undefined): string {
  if (!c) return '–';
  const s = Array.isArray(c) ? c[0] : c.split('>')[0];
  return (s ?? '–').trim();
}

function pieOption(counts: [string, number][]): EChartsCoreOption {
  return {
    tooltip: { trigger: 'item' },
    series: [{ type: 'pie', radius: ['35%', '65%'], data: counts.map(([name, value]) => ({ name, value })), label: { fontSize: 10 } }],
  };
}

function countBy<T>(xs: T[], f: (x: T) => string): [string, number][] {
  const m = new Map<string, number>();
  for (const x of xs) m.set(f(x), (m.get(f(x)) ?? 0) + 1);
  return [...m.entries()].sort((a, b) => b[1] - a[1]);
}

async function itemsOf(ids: string[]): Promise<Item[]> {
  return Promise.all(ids.map((id) => apiGet<Item>(`/v1/items/${encodeURIComponent(id)}`).catch(() => ({ id }) as Item)));
}

const t4: TutorialDef = {
  id: 'long-tail',
  title: { en: 'Diversity and the long tail', zh: '多样性与长尾' },
  summary: {
    en: 'Compare a shopper’s personal recommendations with what is simply popular: how many categories, brands and less-known products each shows.',
    zh: '把某位顾客的个性化推荐与单纯的热门商品比较：各自展示了多少类目、品牌和冷门商品。',
  },
  steps: [
    {
      id: 'recs',
      title: { en: 'A shopper’s home page', zh: '一位顾客的首页推荐' },
      body: {
        en: 'We pick a shopper with a real history (GET /v1/users) and ask GET /v1/recommendations/home for 12 products, with reasons.',
        zh: '我们选一位有真实浏览历史的顾客（GET /v1/users），请求 GET /v1/recommendations/home 返回 12 个商品及推荐理由。',
      },
      run: async (s) => {
        let user = 'U000012';
        try {
          const r = await apiGet<{ users: { id: string; events: number }[] }>('/v1/users', { sort: 'events', limit: 100 });
          const pick = r.users.find((u) => u.events >= 20 && u.events <= 300) ?? r.users[0];
          if (pick) user = pick.id;
        } catch (e) {
          if (!(e instanceof ApiError && e.notAvailable)) throw e;
        }
        s.user = user;
        const recs = await apiGet<{ items: RecItem[]; notes: string[] }>('/v1/recommendations/home', { user, n: 12, explain: true, lang: s.L });
        return { user, recs };
      },
      View: ({ data, L }) => (
        <>
          <p>
            {tr(L, { en: 'Shopper: {u}', zh: '顾客：{u}' }, { u: data.user })}{' '}
            {(data.recs.notes ?? []).map((n: string) => (
              <span key={n} class="pill info" style={kWrap}>
                {n}
              </span>
            ))}
          </p>
          <RecList recs={data.recs.items} L={L} />
        </>
      ),
    },
    {
      id: 'spread',
      title: { en: 'Category and brand spread', zh: '类目和品牌的分布' },
      body: {
        en: 'We read every recommended product (GET /v1/items/{id}) and do the same for the 12 trending products that everybody gets (GET /v1/recommendations/trending). A personal list should cover the shopper’s interests rather than the store’s best-sellers.',
        zh: '我们读取每个推荐商品（GET /v1/items/{id}），并对所有人都会看到的 12 个热门商品（GET /v1/recommendations/trending）做同样的处理。个性化列表应当覆盖顾客自己的兴趣，而不是店里的畅销榜。',
      },
      run: async (s) => {
        const trending = await apiGet<{ items: RecItem[] }>('/v1/recommendations/trending', { n: 12 });
        const [mine, pop] = await Promise.all([itemsOf(s.recs.recs.items.map((r: RecItem) => r.id)), itemsOf(trending.items.map((r) => r.id))]);
        return { mine, pop };
      },
      View: ({ data, L }) => {
        const mineCats = countBy(data.mine as Item[], (i) => topCategory(i.category));
        const popCats = countBy(data.pop as Item[], (i) => topCategory(i.category));
        const o1 = useMemo(() => pieOption(mineCats), [data]);
        const o2 = useMemo(() => pieOption(popCats), [data]);
        const brands = (xs: Item[]) => new Set(xs.map((i) => i.brand ?? '–')).size;
        const cats = (xs: Item[]) => new Set(xs.map((i) => (Array.isArray(i.category) ? i.category.join('>') : i.category) ?? '–')).size;
        return (
          <>
            <Table
              caption="spread"
              columns={[
                { key: 'k', label: '', render: (r) => r[0] },
                { key: 'a', label: tr(L, { en: 'personal', zh: '个性化' }), align: 'right', render: (r) => r[1] },
                { key: 'b', label: tr(L, { en: 'trending', zh: '热门' }), align: 'right', render: (r) => r[2] },
              ]}
              rows={[
                [tr(L, { en: 'distinct categories', zh: '不同类目数' }), cats(data.mine), cats(data.pop)],
                [tr(L, { en: 'distinct top-level departments', zh: '不同一级类目数' }), mineCats.length, popCats.length],
                [tr(L, { en: 'distinct brands', zh: '不同品牌数' }), brands(data.mine), brands(data.pop)],
              ]}
            />
            <div class="grid cols-2">
              <div>
                <h3>{tr(L, { en: 'Personal: departments', zh: '个性化：一级类目' })}</h3>
                <Chart option={o1} height={240} testid="learn-pie-personal" label="personal" />
              </div>
              <div>
                <h3>{tr(L, { en: 'Trending: departments', zh: '热门：一级类目' })}</h3>
                <Chart option={o2} height={240} label="trending" />
              </div>
            </div>
          </>
        );
      },
    },
    {
      id: 'popularity',
      title: { en: 'How popular are the recommended products?', zh: '推荐的商品有多热门？' },
      body: {
        en: 'The data-quality report measures how concentrated interactions are. We compare each recommended product’s popularity feature (log of its interaction count, from explain=true) and check whether it is among the 100 most popular products (trending). Products outside are the long tail.',
        zh: '数据质量报告衡量了交互的集中程度。我们比较每个推荐商品的热度特征（交互次数的对数，来自 explain=true），并检查它是否位于最热门的 100 个商品（热门榜）之中。榜外的商品属于长尾。',
      },
      run: async () => {
        const [trending, quality] = await Promise.all([
          apiGet<{ items: RecItem[] }>('/v1/recommendations/trending', { n: 100 }),
          apiGet<{ popularity?: Record<string, number> }>('/v1/admin/quality'),
        ]);
        return { head: trending.items.map((i) => i.id), pop: quality.popularity ?? {} };
      },
      View: ({ data, s, L }) => {
        const recs: RecItem[] = s.recs.recs.items;
        const head = new Set<string>(data.head);
        const inHead = recs.filter((r) => head.has(r.id)).length;
        const option = useMemo<EChartsCoreOption>(
          () => ({
            tooltip: { trigger: 'axis' },
            grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
            xAxis: { type: 'category', data: recs.map((_, i) => `#${i + 1}`) },
            yAxis: { type: 'value', name: 'log(popularity)' },
            series: [
              {
                type: 'bar',
                data: recs.map((r) => ({
                  value: r.explain?.features?.log_popularity ?? 0,
                  itemStyle: { color: head.has(r.id) ? '#f59e0b' : '#10b981' },
                })),
              },
            ],
          }),
          [data],
        );
        const p = data.pop as Record<string, number>;
        return (
          <>
            <div class="stats">
              <Stat label={tr(L, { en: 'recommended from the top 100', zh: '来自前 100 热门' })} value={`${inHead} / ${recs.length}`} />
              <Stat label={tr(L, { en: 'from the long tail', zh: '来自长尾' })} value={`${recs.length - inHead} / ${recs.length}`} />
              {isNum(p.top1_share) && <Stat label={tr(L, { en: 'interactions on the top 1% of items', zh: '前 1% 商品的交互占比' })} value={`${fix(p.top1_share * 100, 1)}%`} />}
              {isNum(p.gini) && <Stat label="Gini" value={fix(p.gini, 3)} />}
            </div>
            <Chart option={option} height={240} testid="learn-popularity-chart" label="popularity" />
            <p class="muted small">
              {tr(L, { en: 'Orange: among the 100 most popular products. Green: long tail.', zh: '橙色：属于最热门的 100 个商品。绿色：长尾。' })}
            </p>
          </>
        );
      },
    },
    {
      id: 'tradeoff',
      title: { en: 'The accuracy–exposure trade-off', zh: '准确率与曝光的权衡' },
      body: {
        en: 'Showing more of the long tail usually costs a little accuracy. We look at which knobs the recommendation API exposes (from /v1/openapi.json) and at the newest recommendation evaluation report: its accuracy-vs-exposure curve if it has one, otherwise how a popularity-only baseline compares with the engine.',
        zh: '更多地展示长尾商品通常会损失一点准确率。我们查看推荐 API 提供了哪些可调参数（来自 /v1/openapi.json），并查看最新的推荐评估报告：如果有“准确率—曝光”曲线就展示它，否则比较纯热度基线与引擎的效果。',
      },
      run: async () => {
        const spec = await apiGet<{ paths: Record<string, Record<string, { parameters?: { name: string; description?: string }[] }>> }>('/v1/openapi.json');
        const params = spec.paths['/v1/recommendations/{scenario}']?.get?.parameters ?? [];
        let report: Report | null = null;
        let name = '';
        let noRoute = false;
        try {
          const rec = (await listReports()).filter((r) => r.task === 'rec');
          if (rec.length) {
            name = rec[0].name;
            report = await getReport(name);
          }
        } catch (e) {
          if (e instanceof ApiError && e.notAvailable) noRoute = true;
          else throw e;
        }
        return { params, report, name, noRoute };
      },
      View: ({ data, L }) => {
        const knobs = (data.params as { name: string; description?: string }[]).filter((p) => /divers|tail|novel|explor|popular/i.test(p.name));
        const curves = data.report ? findExposureCurves(data.report) : [];
        const report = data.report as Report | null;
        const bars = useMemo(() => {
          if (!report) return null;
          const rows: { name: string; v: number }[] = [];
          const fam = (m?: Record<string, number | null>) => {
            for (const f of ['recall', 'ndcg', 'hr']) {
              const x = metricFamilies(m).get(f);
              if (x && x.size) return { f, k: [...x.keys()][0], v: [...x.values()][0] };
            }
            return null;
          };
          const head = fam(report.metrics);
          if (!head) return null;
          rows.push({ name: 'engine', v: head.v });
          for (const [n, m] of Object.entries(report.ablations ?? {})) {
            const v = m[`${head.f}@${head.k}`];
            if (isNum(v)) rows.push({ name: n, v });
          }
          return { metric: `${head.f}@${head.k}`, rows };
        }, [data]);
        const curveOpt = useMemo<EChartsCoreOption | null>(
          () =>
            curves.length
              ? {
                  tooltip: { trigger: 'item' },
                  grid: { left: 8, right: 16, top: 16, bottom: 24, containLabel: true },
                  xAxis: { type: 'value', name: curves[0].xKey, scale: true },
                  yAxis: { type: 'value', name: curves[0].yKey, scale: true },
                  series: [{ type: 'line', data: curves[0].points.map((p) => [p.x, p.y]), symbolSize: 8 }],
                }
              : null,
          [data],
        );
        const barOpt = useMemo<EChartsCoreOption | null>(
          () =>
            bars
              ? {
                  tooltip: { trigger: 'axis' },
                  grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
                  xAxis: { type: 'category', data: bars.rows.map((r) => r.name), axisLabel: { rotate: 30, interval: 0, fontSize: 11 } },
                  yAxis: { type: 'value', name: bars.metric },
                  series: [
                    {
                      type: 'bar',
                      data: bars.rows.map((r) => ({ value: r.v, itemStyle: { color: /popular/.test(r.name) ? '#f59e0b' : r.name === 'engine' ? '#2563eb' : '#94a3b8' } })),
                    },
                  ],
                }
              : null,
          [data],
        );
        return (
          <>
            <p>
              {knobs.length
                ? tr(L, { en: 'Diversity / exposure parameters: {p}', zh: '多样性 / 曝光参数：{p}' }, { p: knobs.map((k) => k.name).join(', ') })
                : tr(L, {
                    en: 'The recommendation API has no diversity or long-tail parameter yet (its parameters: {p}); the balance is fixed by the trained blend.',
                    zh: '推荐 API 目前没有多样性或长尾参数（现有参数：{p}）；两者的平衡由训练好的融合模型决定。',
                  }, { p: (data.params as { name: string }[]).map((p) => p.name).join(', ') })}
            </p>
            {data.noRoute && <p class="notice">{tr(L, { en: 'The reports API is not on this server yet.', zh: '此服务器尚未提供报告 API。' })}</p>}
            {curveOpt && (
              <>
                <h3>{tr(L, { en: 'Accuracy vs exposure ({n})', zh: '准确率与曝光（{n}）' }, { n: data.name })}</h3>
                <Chart option={curveOpt} height={260} testid="learn-exposure-chart" label="exposure" />
              </>
            )}
            {!curveOpt && barOpt && bars && (
              <>
                <p>
                  {tr(L, {
                    en: 'The newest recommendation report ({n}) has no exposure curve; here is {m} for the engine and its baselines. The popularity-only baselines (orange) show what “just show best-sellers” costs in accuracy.',
                    zh: '最新的推荐评估报告（{n}）没有曝光曲线；下面是引擎及各基线的 {m}。纯热度基线（橙色）说明“只展示畅销品”在准确率上的代价。',
                  }, { n: data.name, m: bars.metric })}
                </p>
                <Chart option={barOpt} height={260} testid="learn-rec-ablation-chart" label="ablations" />
              </>
            )}
            {!data.report && !data.noRoute && <p class="muted">{tr(L, { en: 'No recommendation report yet: souk eval rec --protocol online-retail --data FILE --cutoff 2011-09-01 --json', zh: '还没有推荐评估报告：souk eval rec --protocol online-retail --data FILE --cutoff 2011-09-01 --json' })}</p>}
          </>
        );
      },
    },
  ],
};

// ---------------------------------------------------------------------------
// Tutorial 5: reading an A/B test

const kAbUsers = 24;

/** A deterministic number in [0, 1) from a string (FNV-1a). */
function unit(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) / 4294967296;
}

async function abCleanup(s: State) {
  if (s.expName && !s.stopped) {
    s.stopped = true;
    await apiPost(`/v1/experiments/${encodeURIComponent(s.expName)}/stop`, {}).catch(() => undefined);
  }
  if (s.abUsers && !s.usersDeleted) {
    s.usersDeleted = true;
    await Promise.all((s.abUsers as string[]).map((u) => apiDelete(`/v1/users/${encodeURIComponent(u)}`).catch(() => undefined)));
  }
}

const t5: TutorialDef = {
  id: 'ab-test',
  title: { en: 'Reading an A/B test', zh: '解读 A/B 测试' },
  summary: {
    en: 'Create a small experiment, send a few simulated shoppers through it, and read every number of the result.',
    zh: '创建一个小实验，让几位模拟顾客参与其中，并逐一解读结果中的每个数字。',
  },
  cleanup: abCleanup,
  steps: [
    {
      id: 'exp',
      title: { en: 'Create the experiment', zh: '创建实验' },
      body: {
        en: 'POST /v1/experiments with two variants of the recommendation surface: “control” (the engine as is) and “no-switch” (the intent switch turned off). Users are assigned by a hash of (experiment, user), so a shopper always sees the same variant.',
        zh: '通过 POST /v1/experiments 为推荐场景创建两个变体：“control”（引擎原样）和“no-switch”（关闭意图切换）。用户按（实验名，用户）的哈希分配，因此同一位顾客总是看到同一个变体。',
      },
      run: async (s) => {
        if (s.expName && !s.stopped) return s.exp;
        s.expName = `learn-ab-${Date.now().toString(36)}`;
        s.stopped = false;
        return apiPost<Experiment>('/v1/experiments', {
          name: s.expName,
          description: 'Learn tutorial: reading an A/B test (stopped at the end)',
          surface: 'recommend',
          variants: [
            { name: 'control', share: 0.5 },
            { name: 'no-switch', share: 0.5, config: { intent_switch: false } },
          ],
        });
      },
      View: ({ data }) => <JsonView value={data} label="POST /v1/experiments" open />,
    },
    {
      id: 'simulate',
      title: { en: 'Simulate shoppers', zh: '模拟顾客' },
      body: {
        en: '{n} synthetic shoppers open the home page (GET /v1/recommendations/home — this is the exposure that assigns them a variant), then we post their behaviour with POST /v1/events: everyone views the first product, some add it to the cart, some buy. The simulation makes “no-switch” buyers a little more likely, so there is an effect to find.',
        zh: '{n} 位模拟顾客打开首页（GET /v1/recommendations/home——这次曝光把他们分配到某个变体），然后我们用 POST /v1/events 发送他们的行为：每人都浏览第一个商品，一部分人加购，一部分人购买。模拟中“no-switch”的购买概率略高，因此存在可以发现的效果。',
      },
      run: async (s) => {
        const users = Array.from({ length: kAbUsers }, (_, i) => `${s.expName}-u${String(i + 1).padStart(2, '0')}`);
        s.abUsers = users;
        s.usersDeleted = false;
        const rows = await Promise.all(
          users.map(async (user) => {
            const r = await apiGet<{ items: RecItem[]; experiment?: { variant: string } }>('/v1/recommendations/home', { user, n: 3 });
            return { user, variant: r.experiment?.variant ?? '–', item: r.items[0]?.id };
          }),
        );
        const events: Record<string, unknown>[] = [];
        const out = rows.map((r) => {
          const u = unit(r.user);
          const pBuy = r.variant === 'no-switch' ? 0.45 : 0.2;
          const cart = u < pBuy + 0.2;
          const buy = u < pBuy;
          const session = `${r.user}-s1`;
          if (r.item) {
            events.push({ type: 'view', user: r.user, item: r.item, session });
            if (cart) events.push({ type: 'add_to_cart', user: r.user, item: r.item, session });
            if (buy) events.push({ type: 'purchase', user: r.user, item: r.item, session, price: 40, quantity: 1 });
          }
          return { ...r, cart, buy };
        });
        const ingest = await apiPost('/v1/events', { events });
        return { rows: out, ingest };
      },
      View: ({ data, L }) => {
        const by = countBy(data.rows as { variant: string }[], (r) => r.variant);
        return (
          <>
            <div class="stats">
              {by.map(([v, n]) => (
                <Stat key={v} label={v} value={n} hint={tr(L, { en: 'shoppers', zh: '位顾客' })} />
              ))}
            </div>
            <Table<{ user: string; variant: string; cart: boolean; buy: boolean }>
              caption="shoppers"
              rowKey={(r) => r.user}
              columns={[
                { key: 'user', label: tr(L, { en: 'Shopper', zh: '顾客' }), render: (r) => <code class="small">{r.user}</code> },
                { key: 'variant', label: tr(L, { en: 'Variant', zh: '变体' }) },
                { key: 'cart', label: tr(L, { en: 'Cart', zh: '加购' }), render: (r) => (r.cart ? '✓' : '') },
                { key: 'buy', label: tr(L, { en: 'Purchase', zh: '购买' }), render: (r) => (r.buy ? '✓' : '') },
              ]}
              rows={data.rows}
            />
          </>
        );
      },
    },
    {
      id: 'results',
      title: { en: 'Read the results', zh: '解读结果' },
      body: {
        en: 'GET /v1/experiments/{name}/results. Each number, explained with the live values below.',
        zh: 'GET /v1/experiments/{name}/results。下面用实时数值逐一解释每个数字。',
      },
      run: async (s) => apiGet<Results>(`/v1/experiments/${encodeURIComponent(s.expName)}/results`),
      View: ({ data, L }) => {
        const r = data as Results;
        const c = r.variants.find((v) => v.control) ?? r.variants[0];
        const tv = r.variants.find((v) => v !== c);
        const option = useMemo(
          () => intervalOption(r.variants.map((v) => ({ name: v.name, iv: v.conversion_rate })), c?.conversion_rate?.value ?? null, true),
          [data],
        );
        const pc = (x: number | null | undefined) => (isNum(x) ? `${fix(x * 100, 1)}%` : '–');
        const conf = `${Math.round((r.confidence ?? 0.95) * 100)}%`;
        return (
          <>
            <Chart option={option} height={220} testid="learn-ab-chart" label="conversion" />
            <ul class="findings" data-testid="learn-ab-explained">
              {c && (
                <li>
                  <span class="pill info">CI</span>
                  <span>
                    {tr(L, {
                      en: '{v}: {k} of {n} exposed shoppers bought — a conversion of {p}. The {conf} confidence interval [{lo} .. {hi}] is the range of true rates compatible with this little data; with only {n} shoppers it is wide.',
                      zh: '{v}：{n} 位曝光顾客中有 {k} 位购买，转化率 {p}。{conf} 置信区间 [{lo} .. {hi}] 是与这点数据相容的真实转化率范围；只有 {n} 位顾客，因此区间很宽。',
                    }, { v: c.name, k: c.purchasers ?? 0, n: c.users, p: pc(c.conversion_rate?.value), lo: pc(c.conversion_rate?.low), hi: pc(c.conversion_rate?.high), conf })}
                  </span>
                </li>
              )}
              {tv && (
                <li>
                  <span class="pill info">Δ</span>
                  <span>
                    {tr(L, {
                      en: '{v} vs {c}: difference {d} percentage points, interval [{lo} .. {hi}]. If the interval contains 0, the data cannot tell which variant is better.',
                      zh: '{v} 对比 {c}：差值 {d} 个百分点，区间 [{lo} .. {hi}]。如果区间包含 0，数据就无法判断哪个变体更好。',
                    }, {
                      v: tv.name,
                      c: c!.name,
                      d: isNum(tv.vs_control?.conversion_diff?.value) ? fix(tv.vs_control!.conversion_diff!.value! * 100, 1) : '–',
                      lo: isNum(tv.vs_control?.conversion_diff?.low) ? fix(tv.vs_control!.conversion_diff!.low! * 100, 1) : '–',
                      hi: isNum(tv.vs_control?.conversion_diff?.high) ? fix(tv.vs_control!.conversion_diff!.high! * 100, 1) : '–',
                    })}
                  </span>
                </li>
              )}
              {tv && (
                <li>
                  <span class={`pill ${tv.vs_control?.significant ? 'good' : 'warn'}`}>p</span>
                  <span data-testid="learn-ab-p">
                    {tr(L, {
                      en: 'p-value {p}: if both variants truly converted equally, a difference at least this large would show up {pp} of the time by chance. It is {sig} at the {conf} level (p < {a}).',
                      zh: 'p 值 {p}：如果两个变体的真实转化率相同，出现至少这么大差异的概率是 {pp}。在 {conf} 水平下它{sig}（p < {a}）。',
                    }, {
                      p: fix(tv.vs_control?.p_value, 3),
                      pp: pc(tv.vs_control?.p_value),
                      sig: tv.vs_control?.significant ? tr(L, { en: 'significant', zh: '显著' }) : tr(L, { en: 'not significant', zh: '不显著' }),
                      conf,
                      a: fix(1 - (r.confidence ?? 0.95), 2),
                    })}
                  </span>
                </li>
              )}
              <li>
                <span class={`pill ${r.srm.mismatch ? 'bad' : 'good'}`}>SRM</span>
                <span>
                  {tr(L, {
                    en: 'Sample-ratio check: observed split {o} for configured shares {e}; χ² p = {p}. {verdict}',
                    zh: '样本比例检验：实际分流 {o}，配置占比 {e}；χ² p = {p}。{verdict}',
                  }, {
                    o: Object.entries(r.srm.observed ?? {}).map(([k, v]) => `${k} ${v}`).join(' / '),
                    e: Object.entries(r.srm.expected ?? {}).map(([k, v]) => `${k} ${v}`).join(' / '),
                    p: fix(r.srm.p_value, 3),
                    verdict: r.srm.mismatch
                      ? tr(L, { en: 'Mismatch: assignment or logging is broken, do not trust the comparison.', zh: '失衡：分配或日志记录有问题，不要相信比较结果。' })
                      : tr(L, { en: 'No mismatch: the split looks like chance, assignment works.', zh: '没有失衡：分流差异在随机范围内，分配正常。' }),
                  })}
                </span>
              </li>
            </ul>
          </>
        );
      },
    },
    {
      id: 'power',
      title: { en: 'How many shoppers would we need?', zh: '需要多少顾客？' },
      body: {
        en: 'A rule of thumb for 80% power at a 5% significance level: n per variant ≈ 16 · p · (1 − p) / δ², with p the control rate and δ the difference worth detecting. We re-read the live results and plug in their numbers.',
        zh: '在 5% 显著性水平、80% 检验功效下的经验公式：每个变体需要 n ≈ 16 · p · (1 − p) / δ²，其中 p 为对照组转化率，δ 为希望检测到的差值。我们重新读取实时结果并代入其中的数值。',
      },
      run: async (s) => apiGet<Results>(`/v1/experiments/${encodeURIComponent(s.expName)}/results`),
      View: ({ data, L }) => {
        const r = data as Results;
        const c = r.variants.find((v) => v.control) ?? r.variants[0];
        const tv = r.variants.find((v) => v !== c);
        const p = Math.min(0.99, Math.max(0.01, c?.conversion_rate?.value ?? 0.1));
        const observed = Math.abs(tv?.vs_control?.conversion_diff?.value ?? 0);
        const rows = [observed, 0.05, 0.01]
          .filter((d) => d > 0)
          .map((d) => ({ d, n: Math.ceil((16 * p * (1 - p)) / (d * d)) }));
        return (
          <>
            <p>{tr(L, { en: 'Control rate p = {p}; shoppers per variant now: {n}.', zh: '对照组转化率 p = {p}；目前每个变体的顾客数：{n}。' }, { p: fix(p, 3), n: c?.users ?? 0 })}</p>
            <Table
              caption="sample size"
              columns={[
                { key: 'd', label: tr(L, { en: 'difference δ', zh: '差值 δ' }), align: 'right', render: (x) => `${fix(x.d * 100, 1)} pp` },
                { key: 'n', label: tr(L, { en: 'shoppers per variant', zh: '每个变体的顾客数' }), align: 'right', render: (x) => x.n.toLocaleString() },
              ]}
              rows={rows}
            />
          </>
        );
      },
    },
    {
      id: 'cleanup',
      title: { en: 'Clean up', zh: '清理' },
      body: {
        en: 'POST /v1/experiments/{name}/stop ends assignment (the results stay readable), and DELETE /v1/users/{id} forgets the synthetic shoppers and their events.',
        zh: 'POST /v1/experiments/{name}/stop 结束分配（结果仍可查看），DELETE /v1/users/{id} 删除模拟顾客及其事件。',
      },
      run: async (s) => {
        const exp = await apiPost<Experiment>(`/v1/experiments/${encodeURIComponent(s.expName)}/stop`, {});
        s.stopped = true;
        const users: string[] = s.abUsers ?? [];
        const forgotten = await Promise.all(users.map((u) => apiDelete<{ events_removed?: number }>(`/v1/users/${encodeURIComponent(u)}`)));
        s.usersDeleted = true;
        return { status: exp.status, users: users.length, events: forgotten.reduce((n, f) => n + (f?.events_removed ?? 0), 0) };
      },
      View: ({ data, L }) => (
        <p>
          {tr(L, { en: 'Experiment status: {s}. Forgot {u} shoppers and {e} events.', zh: '实验状态：{s}。已删除 {u} 位顾客和 {e} 个事件。' }, { s: data.status, u: data.users, e: data.events })}
        </p>
      ),
    },
  ],
};

const kTutorials: TutorialDef[] = [t1, t2, t3, t4, t5];

// ---------------------------------------------------------------------------
// Runner and page

function Runner(props: { tut: TutorialDef }) {
  const t = useT(dict);
  const L = useLang();
  const tut = props.tut;
  const [i, setI] = useState(0);
  const [results, setResults] = useState<Record<number, StepResult>>({});
  const state = useRef<State>({});
  const seq = useRef(0);
  state.current.L = L;

  const run = (k: number) => {
    const my = ++seq.current;
    setResults((r) => {
      // A re-run makes the later steps stale.
      const next: Record<number, StepResult> = {};
      for (const [key, v] of Object.entries(r)) if (Number(key) < k) next[Number(key)] = v;
      next[k] = { state: 'loading' };
      return next;
    });
    tut.steps[k].run(state.current).then(
      (data) => {
        state.current[tut.steps[k].id] = data;
        if (my === seq.current) setResults((r) => ({ ...r, [k]: { state: 'done', data } }));
      },
      (error) => {
        if (my === seq.current) setResults((r) => ({ ...r, [k]: { state: 'error', error } }));
      },
    );
  };

  useEffect(() => {
    if (!results[i]) run(i);
  }, [i]);
  useEffect(
    () => () => {
      tut.cleanup?.(state.current).catch(() => undefined);
    },
    [],
  );

  const step = tut.steps[i];
  const res = results[i];
  const View = step.View;
  return (
    <Card title={tr(L, tut.title)} testid={`learn-tutorial-view-${tut.id}`}>
      <ol class="checks" aria-label={t('tutorials')} style={{ listStyle: 'none', padding: 0 }}>
        {tut.steps.map((st, k) => (
          <li key={st.id}>
            <span class={`pill ${k === i ? 'info' : results[k]?.state === 'done' ? 'good' : ''}`} style={kWrap} aria-current={k === i ? 'step' : undefined}>
              {k + 1}. {tr(L, st.title)}
            </span>
          </li>
        ))}
      </ol>
      <h3 data-testid="learn-step-title">
        {t('step', { i: i + 1, n: tut.steps.length })}: {tr(L, step.title)}
      </h3>
      <p>{format(step.body[L], { n: kAbUsers })}</p>
      <div
        class="card"
        style={{ boxShadow: 'none', background: '#fbfcfe' }}
        data-testid="learn-step-result"
        data-step={step.id}
        data-state={res?.state ?? 'loading'}
        aria-live="polite"
        aria-busy={res?.state === 'loading'}
      >
        <div class="small muted">{t('result')}</div>
        {(!res || res.state === 'loading') && <Loading label={t('running')} />}
        {res?.state === 'error' && <ErrorBox error={res.error} onRetry={() => run(i)} />}
        {res?.state === 'done' && <View data={res.data} s={state.current} L={L} rerun={() => run(i)} />}
      </div>
      <div class="row" style={{ marginTop: '0.75rem', justifyContent: 'space-between' }}>
        <button type="button" class="btn" data-testid="learn-back" disabled={i === 0} onClick={() => setI(i - 1)}>
          {t('back')}
        </button>
        <button type="button" class="btn small ghost" data-testid="learn-rerun" disabled={res?.state === 'loading'} onClick={() => run(i)}>
          {t('rerun')}
        </button>
        {i < tut.steps.length - 1 ? (
          <button type="button" class="btn primary" data-testid="learn-next" disabled={res?.state !== 'done'} onClick={() => setI(i + 1)}>
            {t('next')}
          </button>
        ) : (
          <span class="pill good" data-testid="learn-finished">
            {t('finished')}
          </span>
        )}
      </div>
    </Card>
  );
}

export default function Page() {
  const t = useT(dict);
  const L = useLang();
  const [current, setCurrent] = useState(kTutorials[0].id);
  const tut = kTutorials.find((x) => x.id === current)!;
  return (
    <div class="page" data-testid="page-learn">
      <PageHead title={t('title')} lead={t('intro')} />
      <nav aria-label={t('tutorials')} class="links" style={{ margin: '1rem 0' }}>
        {kTutorials.map((x, k) => (
          <button
            key={x.id}
            type="button"
            class="btn"
            data-testid={`learn-tutorial-${k + 1}`}
            aria-pressed={x.id === current}
            onClick={() => setCurrent(x.id)}
            style={{ textAlign: 'left', whiteSpace: 'normal', fontWeight: x.id === current ? 700 : 400, borderColor: x.id === current ? 'var(--accent)' : undefined }}
          >
            {k + 1}. {tr(L, x.title)}
            <small class="muted" style={{ display: 'block', fontWeight: 400 }}>
              {tr(L, x.summary)}
            </small>
          </button>
        ))}
      </nav>
      <Runner key={tut.id} tut={tut} />
    </div>
  );
}
