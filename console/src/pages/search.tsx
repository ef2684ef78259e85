// Search playground: query box with autocomplete, facets and filters, the
// query-understanding steps, hits, a per-hit explanation of the score, and a
// side-by-side comparison of two pipeline configurations.
import type { ComponentChildren } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, apiGet } from '../api';
import { Chart } from '../chart';
import { fmtNum, useT } from '../i18n';
import { replaceQuery, useRoute } from '../router';
import { Bar, Card, ErrorBox, JsonView, Loading, PageHead, Tabs, useDebounced } from '../ui';

const dict = {
  en: {
    title: 'Search playground',
    lead: 'Type a query and see what the engine understood, what it returned, and why each hit ranks where it does.',
    query: 'Query',
    queryPlaceholder: 'e.g. wireless headphnes, red lipstick under 20',
    search: 'Search',
    suggestions: 'Suggestions',
    sort: 'Sort',
    sort_relevance: 'Relevance',
    sort_price_asc: 'Price: low to high',
    sort_price_desc: 'Price: high to low',
    sort_popularity: 'Popularity',
    pipeline: 'Pipeline',
    asShopper: 'As shopper (user id)',
    asShopperPh: 'e.g. U000012',
    priceMin: 'Min price',
    priceMax: 'Max price',
    tabResults: 'Results',
    tabCompare: 'Compare pipelines',
    filters: 'Filters',
    clearFilters: 'Clear filters',
    allValues: 'Show all values',
    fewerValues: 'Show fewer values',
    facet_brand: 'Brand',
    facet_category: 'Category',
    facet_price: 'Price',
    facet_in_stock: 'In stock',
    yes: 'yes',
    no: 'no',
    didYouMean: 'Did you mean',
    understanding: 'Query understanding',
    step_normalize: 'Normalized',
    step_analyze: 'Terms',
    step_spelling: 'Spelling',
    step_synonyms: 'Synonyms',
    step_category_intent: 'Category intent',
    step_extract_price: 'Price filter',
    step_extract_color: 'Color',
    extracted: 'Extracted filters',
    removed: 'Removed words',
    confidence: 'confidence {c}',
    noSteps: 'No query-understanding steps were reported.',
    results: '{total} results · {ms} ms · ranker {ranker}',
    noHits: 'No hits. Try fewer filters or another spelling.',
    enterQuery: 'Enter a query to start, or search with an empty query to browse the catalog.',
    more: 'Load more',
    score: 'score',
    rank: '#{n}',
    whyTitle: 'Why is “{title}” #{rank}?',
    pickHit: 'Click a hit to see how its score was computed.',
    ltrChart: 'Learning-to-rank: contribution of each feature (SHAP) to the final score',
    bm25Chart: 'Lexical match: BM25 per field',
    persChart: 'Personalization',
    component: 'Component',
    value: 'Value',
    group_lexical: 'Lexical (BM25)',
    group_dense: 'Dense (embedding)',
    group_fused: 'Fusion',
    group_ltr: 'Learning-to-rank',
    group_personalization: 'Personalization',
    group_final: 'Final',
    group_other: 'Other',
    noExplain: 'This hit carries no explanation.',
    close: 'Close',
    pipelineUnavailable: 'This server does not accept a pipeline choice yet; the default pipeline was used.',
    compareLead: 'Run the same query through two configurations. Arrows show how far each item moved from A to B.',
    configA: 'A',
    configB: 'B',
    run: 'Compare',
    inOther: 'in A: #{n}',
    notInOther: 'not in A',
    inB: 'in B: #{n}',
    notInB: 'dropped in B',
    up: '▲ {n}',
    down: '▼ {n}',
    same: '=',
    newItem: 'new',
    overlap: 'Top-{k} overlap: {n} items · {moved} moved · {fresh} new in B',
    needQuery: 'Enter a query above first.',
    brand: 'Brand',
    price: 'Price',
    outOfStock: 'out of stock',
    image: 'image',
    imageHost: 'Image not loaded ({host} is a placeholder domain)',
  },
  zh: {
    title: '搜索试验场',
    lead: '输入查询，看看引擎理解了什么、返回了什么，以及每个结果为什么排在那里。',
    query: '查询',
    queryPlaceholder: '例如 wireless headphnes、red lipstick under 20',
    search: '搜索',
    suggestions: '联想建议',
    sort: '排序',
    sort_relevance: '相关度',
    sort_price_asc: '价格从低到高',
    sort_price_desc: '价格从高到低',
    sort_popularity: '热门程度',
    pipeline: '检索流程',
    asShopper: '以顾客身份（用户 ID）',
    asShopperPh: '例如 U000012',
    priceMin: '最低价',
    priceMax: '最高价',
    tabResults: '结果',
    tabCompare: '比较流程',
    filters: '筛选',
    clearFilters: '清除筛选',
    allValues: '显示全部取值',
    fewerValues: '收起',
    facet_brand: '品牌',
    facet_category: '类目',
    facet_price: '价格',
    facet_in_stock: '有货',
    yes: '是',
    no: '否',
    didYouMean: '您是不是要找',
    understanding: '查询理解',
    step_normalize: '规范化',
    step_analyze: '词项',
    step_spelling: '拼写纠正',
    step_synonyms: '同义词',
    step_category_intent: '类目意图',
    step_extract_price: '价格条件',
    step_extract_color: '颜色',
    extracted: '提取的筛选条件',
    removed: '删除的词',
    confidence: '置信度 {c}',
    noSteps: '没有返回查询理解步骤。',
    results: '{total} 个结果 · {ms} 毫秒 · 排序器 {ranker}',
    noHits: '没有结果。试试减少筛选条件或换一种拼写。',
    enterQuery: '输入查询开始；空查询可以浏览整个目录。',
    more: '加载更多',
    score: '分数',
    rank: '第 {n} 名',
    whyTitle: '为什么“{title}”排第 {rank}？',
    pickHit: '点击一个结果，查看它的分数是怎么算出来的。',
    ltrChart: '排序学习：各特征对最终分数的贡献（SHAP）',
    bm25Chart: '词汇匹配：各字段的 BM25',
    persChart: '个性化',
    component: '组成部分',
    value: '数值',
    group_lexical: '词汇匹配（BM25）',
    group_dense: '向量检索',
    group_fused: '融合',
    group_ltr: '排序学习',
    group_personalization: '个性化',
    group_final: '最终分数',
    group_other: '其他',
    noExplain: '这个结果没有解释信息。',
    close: '关闭',
    pipelineUnavailable: '此服务器尚不支持选择检索流程；已使用默认流程。',
    compareLead: '用两种配置运行同一个查询。箭头表示每个商品从 A 到 B 移动了几位。',
    configA: 'A',
    configB: 'B',
    run: '比较',
    inOther: 'A 中：第 {n}',
    notInOther: 'A 中没有',
    inB: 'B 中：第 {n}',
    notInB: 'B 中消失',
    up: '▲ {n}',
    down: '▼ {n}',
    same: '=',
    newItem: '新',
    overlap: '前 {k} 名重合 {n} 个 · {moved} 个移动 · B 中新出现 {fresh} 个',
    needQuery: '请先在上方输入查询。',
    brand: '品牌',
    price: '价格',
    outOfStock: '缺货',
    image: '图片',
    imageHost: '未加载图片（{host} 是占位域名）',
  },
};
type T = (k: keyof typeof dict.en, v?: Record<string, string | number>) => string;

export const PIPELINES = ['full', 'bm25', 'bm25+qu', 'dense', 'hybrid', 'hybrid+ltr'] as const;
const FACETS = ['brand', 'category', 'price', 'in_stock'];
const PAGE = 20;

interface Hit {
  id: string;
  score: number;
  title?: string;
  explain?: Record<string, any>;
  [k: string]: unknown;
}
interface SearchResponse {
  query: string;
  total: number;
  hits: Hit[];
  facets?: Record<string, { value: string; count: number }[]>;
  did_you_mean?: string;
  spelling_confidence?: number;
  extracted_filters?: Record<string, unknown>;
  query_understanding?: Record<string, any>[];
  parsed?: Record<string, any>;
  removed_words?: string[];
  ranker?: string;
  pipeline?: string;
  took_ms?: number;
  next_offset?: number | null;
  offset?: number;
}
interface Item {
  id: string;
  title?: string;
  brand?: string;
  category?: string;
  price?: number;
  currency?: string;
  in_stock?: boolean;
  images?: string[];
  image?: string;
  attributes?: Record<string, unknown>;
}

/** Selected facet values: facet name -> values. Same facet = OR, different facets = AND. */
type Selected = Record<string, string[]>;

/** Turns facet selections and a price range into `filter=` values. */
export function buildFilters(sel: Selected, priceMin: string, priceMax: string): string[] {
  const out: string[] = [];
  for (const [facet, values] of Object.entries(sel)) {
    for (const v of values) {
      if (facet === 'price') {
        const m = /^(\d+(?:\.\d+)?)\s*-\s*(\d+(?:\.\d+)?)$/.exec(v);
        const plus = /^(\d+(?:\.\d+)?)\+$/.exec(v);
        if (m) out.push(`price=${m[1]}..${m[2]}`);
        else if (plus) out.push(`price>=${plus[1]}`);
      } else out.push(`${facet}=${v}`);
    }
  }
  if (priceMin.trim() !== '' && Number.isFinite(Number(priceMin))) out.push(`price>=${Number(priceMin)}`);
  if (priceMax.trim() !== '' && Number.isFinite(Number(priceMax))) out.push(`price<=${Number(priceMax)}`);
  return out;
}

/**
 * Flattens a hit's `explain` object into [path, number] rows: nested numbers
 * become 'a.b.c'; arrays of {feature, value} become 'a.b.<feature>'.
 * The e2e test applies the same rule to the API answer.
 */
export function flattenExplain(o: unknown, prefix = '', out: [string, number][] = []): [string, number][] {
  if (typeof o === 'number') {
    out.push([prefix, o]);
  } else if (Array.isArray(o)) {
    o.forEach((x, i) => {
      if (x && typeof x === 'object' && 'feature' in x && typeof (x as any).value === 'number') out.push([`${prefix}.${(x as any).feature}`, (x as any).value]);
      else flattenExplain(x, `${prefix}.${i}`, out);
    });
  } else if (o && typeof o === 'object') {
    for (const [k, v] of Object.entries(o)) flattenExplain(v, prefix ? `${prefix}.${k}` : k, out);
  }
  return out;
}

/** Shown precision of explanation numbers (the e2e test uses the same). */
function showNum(key: string, v: number): string {
  return /(^|\.)rank$/.test(key) ? String(Math.round(v)) : v.toFixed(4);
}

const PLACEHOLDER_HOST = /(^|\.)(example\.(com|org|net)|example|test|invalid|localhost)$/i;

/** The first image URL worth loading (placeholder domains such as example.com never serve images). */
function imageOf(item: Item | undefined): { url?: string; host?: string } {
  const url = item?.images?.[0] ?? item?.image;
  if (!url) return {};
  try {
    const u = new URL(url, location.href);
    if (PLACEHOLDER_HOST.test(u.hostname)) return { host: u.hostname };
    if (u.protocol !== 'https:' && u.protocol !== 'http:' && u.protocol !== 'data:') return {};
    return { url: u.href };
  } catch {
    return {};
  }
}

// Item details for hit cards, fetched once per id.
const itemCache = new Map<string, Promise<Item | undefined>>();
function loadItem(id: string): Promise<Item | undefined> {
  let p = itemCache.get(id);
  if (!p) {
    p = apiGet<Item>(`/v1/items/${encodeURIComponent(id)}`).catch(() => undefined);
    itemCache.set(id, p);
  }
  return p;
}
function useItems(ids: string[]): Record<string, Item | undefined> {
  const [items, setItems] = useState<Record<string, Item | undefined>>({});
  const key = ids.join(',');
  useEffect(() => {
    let alive = true;
    Promise.all(ids.map((id) => loadItem(id).then((it) => [id, it] as const))).then((pairs) => {
      if (alive) setItems((old) => ({ ...old, ...Object.fromEntries(pairs) }));
    });
    return () => {
      alive = false;
    };
  }, [key]);
  return items;
}

function money(p: number | undefined, currency = 'USD'): string {
  if (p === undefined || p === null || !Number.isFinite(p)) return '–';
  try {
    return p.toLocaleString(undefined, { style: 'currency', currency });
  } catch {
    return p.toFixed(2);
  }
}

interface Params {
  q: string;
  filters: string[];
  sort: string;
  pipeline: string;
  user: string;
  limit: number;
  offset?: number;
}

/**
 * Runs one search; `pipeline` is only sent when it is not the default. A server
 * that does not know the parameter answers 400 (field 'pipeline'): the search is
 * then repeated without it and the caller is told the choice was ignored.
 */
async function runSearch(p: Params): Promise<{ res: SearchResponse; pipelineIgnored: boolean }> {
  const params = {
    q: p.q,
    filter: p.filters,
    facet: FACETS,
    sort: p.sort === 'relevance' ? undefined : p.sort,
    user: p.user.trim() || undefined,
    limit: p.limit,
    offset: p.offset || undefined,
    explain: true,
    pipeline: p.pipeline === 'full' ? undefined : p.pipeline,
  };
  try {
    return { res: await apiGet<SearchResponse>('/v1/search', params), pipelineIgnored: false };
  } catch (e) {
    if (params.pipeline && e instanceof ApiError && e.status === 400 && e.field === 'pipeline' && /unknown parameter/.test(e.message)) {
      return { res: await apiGet<SearchResponse>('/v1/search', { ...params, pipeline: undefined }), pipelineIgnored: true };
    }
    throw e;
  }
}

// ---------------------------------------------------------------- autocomplete

function QueryBox(props: { value: string; onChange: (v: string) => void; onSubmit: (v: string) => void; t: T }) {
  const { t } = props;
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  const [items, setItems] = useState<{ text: string; source?: string }[]>([]);
  const typed = useRef(false);
  const prefix = useDebounced(props.value, 150);

  useEffect(() => {
    if (!typed.current || !prefix.trim()) {
      setItems([]);
      return;
    }
    let alive = true;
    apiGet<{ completions: { text: string; source?: string }[] }>('/v1/autocomplete', { q: prefix })
      .then((r) => {
        if (!alive) return;
        setItems(r.completions ?? []);
        setActive(-1);
        setOpen(true);
      })
      .catch(() => alive && setItems([]));
    return () => {
      alive = false;
    };
  }, [prefix]);

  const show = open && items.length > 0;
  const pick = (text: string) => {
    typed.current = false;
    setOpen(false);
    props.onChange(text);
    props.onSubmit(text);
  };

  return (
    <div class="ac">
      <label class="sr-only" for="search-q">
        {t('query')}
      </label>
      <input
        id="search-q"
        type="search"
        data-testid="search-input"
        role="combobox"
        aria-autocomplete="list"
        aria-expanded={show}
        aria-controls="search-ac"
        aria-activedescendant={show && active >= 0 ? `search-ac-${active}` : undefined}
        autocomplete="off"
        placeholder={t('queryPlaceholder')}
        value={props.value}
        onInput={(e) => {
          typed.current = true;
          props.onChange((e.target as HTMLInputElement).value);
        }}
        onBlur={() => setTimeout(() => setOpen(false), 150)}
        onFocus={() => items.length && setOpen(true)}
        onKeyDown={(e) => {
          if (e.key === 'ArrowDown' && items.length) {
            e.preventDefault();
            setOpen(true);
            setActive((a) => (a + 1) % items.length);
          } else if (e.key === 'ArrowUp' && items.length) {
            e.preventDefault();
            setActive((a) => (a <= 0 ? items.length - 1 : a - 1));
          } else if (e.key === 'Escape' && show) {
            e.preventDefault(); // keep the text (a search input clears itself on Escape)
            setOpen(false);
          } else if (e.key === 'Enter') {
            e.preventDefault();
            if (show && active >= 0) pick(items[active].text);
            else {
              typed.current = false;
              setOpen(false);
              props.onSubmit(props.value);
            }
          }
        }}
      />
      {show && (
        <ul class="ac-list" id="search-ac" role="listbox" aria-label={t('suggestions')} data-testid="autocomplete-list">
          {items.map((it, i) => (
            <li
              key={it.text}
              id={`search-ac-${i}`}
              role="option"
              aria-selected={i === active}
              data-testid="autocomplete-option"
              onMouseDown={(e) => {
                e.preventDefault();
                pick(it.text);
              }}
            >
              <span>{it.text}</span>
              {it.source && <span class="ac-kind">{it.source}</span>}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

// ---------------------------------------------------------------- query understanding

function Step(props: { step: Record<string, any>; t: T }) {
  const { step, t } = props;
  const name = String(step.step ?? '?');
  const label = (dict.en as Record<string, string>)[`step_${name}`] ? t(`step_${name}` as keyof typeof dict.en) : name.replace(/_/g, ' ');
  let body: ComponentChildren;
  if (name === 'normalize') body = <code>{step.text}</code>;
  else if (name === 'analyze' && Array.isArray(step.terms)) body = step.terms.map((x: string) => <span class="pill" key={x}>{x}</span>);
  else if (name === 'spelling')
    body = (
      <span>
        {(step.changes ?? []).map((c: any, i: number) => (
          <span key={i}>
            <s>{c.from}</s> → <strong>{c.to}</strong>{' '}
            <span class="muted small">{t('confidence', { c: Number(c.confidence ?? step.confidence ?? 0).toFixed(2) })}</span>{' '}
          </span>
        ))}
      </span>
    );
  else if (name === 'category_intent' && Array.isArray(step.categories))
    body = (
      <div class="drivers" style={{ gridTemplateColumns: 'minmax(0,1fr) 100px 3rem' }}>
        {step.categories.map((c: any) => [
          <span key={c.category + 'n'}>{c.category}</span>,
          <Bar key={c.category + 'b'} value={c.p} max={1} label={c.category} />,
          <span key={c.category + 'v'} class="num small">
            {(c.p * 100).toFixed(0)}%
          </span>,
        ])}
      </div>
    );
  else if (name === 'synonyms' && (step.expansions || step.synonyms)) {
    const ex = step.expansions ?? step.synonyms;
    body = Array.isArray(ex) ? (
      ex.map((x: any, i: number) => <span class="pill" key={i}>{typeof x === 'string' ? x : `${x.from ?? x.term ?? ''} → ${x.to ?? (x.synonyms ?? []).join(', ')}`}</span>)
    ) : (
      <code>{JSON.stringify(ex)}</code>
    );
  } else {
    const { step: _s, ...rest } = step;
    body = (
      <span>
        {Object.entries(rest).map(([k, v]) => (
          <span class="pill" key={k}>
            {k}: {typeof v === 'object' ? JSON.stringify(v) : String(v)}
          </span>
        ))}
      </span>
    );
  }
  return (
    <>
      <dt>{label}</dt>
      <dd data-testid={`qu-step-${name}`}>{body}</dd>
    </>
  );
}

function Understanding(props: { res: SearchResponse; t: T }) {
  const { res, t } = props;
  const steps = res.query_understanding ?? (Array.isArray(res.parsed?.steps) ? res.parsed!.steps : []);
  const extracted = res.extracted_filters ?? res.parsed?.extracted_filters;
  const removed = res.removed_words ?? res.parsed?.removed_words;
  return (
    <Card title={t('understanding')} testid="qu-panel" class="qu">
      {steps.length === 0 && <p class="muted small">{t('noSteps')}</p>}
      <dl>
        {steps.map((s: Record<string, any>, i: number) => (
          <Step key={i} step={s} t={t} />
        ))}
        {extracted && Object.keys(extracted).length > 0 && (
          <>
            <dt>{t('extracted')}</dt>
            <dd data-testid="qu-extracted">
              {Object.entries(extracted).map(([k, v]) => (
                <span class="pill info" key={k}>
                  {k} = {String(v)}
                </span>
              ))}
            </dd>
          </>
        )}
        {Array.isArray(removed) && removed.length > 0 && (
          <>
            <dt>{t('removed')}</dt>
            <dd>{removed.map((w: string) => <s key={w} class="pill">{w}</s>)}</dd>
          </>
        )}
      </dl>
    </Card>
  );
}

// ---------------------------------------------------------------- facets

function Facets(props: {
  facets: SearchResponse['facets'];
  selected: Selected;
  onToggle: (facet: string, value: string) => void;
  onClear: () => void;
  t: T;
}) {
  const { t } = props;
  const anySelected = Object.values(props.selected).some((v) => v.length);
  const [expanded, setExpanded] = useState(false);
  return (
    <aside class={expanded ? 'facets card expanded' : 'facets card'} data-testid="facets" aria-label={t('filters')}>
      <div class="card-head">
        <h2>{t('filters')}</h2>
        {anySelected && (
          <button type="button" class="btn small" data-testid="clear-filters" onClick={props.onClear}>
            {t('clearFilters')}
          </button>
        )}
      </div>
      {FACETS.map((f) => {
        const values = props.facets?.[f] ?? [];
        const sel = props.selected[f] ?? [];
        // Keep selected values visible even when the narrowed result no longer counts them.
        const shown = [...values];
        for (const v of sel) if (!shown.some((x) => x.value === v)) shown.push({ value: v, count: 0 });
        if (!shown.length) return null;
        return (
          <fieldset class="facet" key={f} style={{ border: 'none', padding: 0, margin: 0 }}>
            <legend>
              <h3>{t(`facet_${f}` as keyof typeof dict.en)}</h3>
            </legend>
            {shown.slice(0, f === 'category' ? 14 : 10).map((v) => (
              <label key={v.value}>
                <input
                  type="checkbox"
                  data-testid="facet-option"
                  data-facet={f}
                  data-value={v.value}
                  checked={sel.includes(v.value)}
                  onChange={() => props.onToggle(f, v.value)}
                />
                <span>{f === 'in_stock' ? (v.value === 'true' ? t('yes') : t('no')) : v.value}</span>
                <span class="count">{fmtNum(v.count)}</span>
              </label>
            ))}
          </fieldset>
        );
      })}
      <button type="button" class="btn small phone-only" aria-expanded={expanded} onClick={() => setExpanded(!expanded)}>
        {expanded ? t('fewerValues') : t('allValues')}
      </button>
    </aside>
  );
}

// ---------------------------------------------------------------- hits

function HitCard(props: { hit: Hit; rank: number; item?: Item; selected: boolean; onPick: () => void; t: T }) {
  const { hit, item, t } = props;
  const img = imageOf(item);
  const [broken, setBroken] = useState(false);
  const title = hit.title ?? item?.title ?? hit.id;
  return (
    <button
      type="button"
      class={props.selected ? 'hit selected' : 'hit'}
      data-testid="hit"
      data-id={hit.id}
      aria-pressed={props.selected}
      onClick={props.onPick}
    >
      {img.url && !broken ? (
        <img class="thumb" src={img.url} alt="" loading="lazy" onError={() => setBroken(true)} />
      ) : (
        <div class="thumb" title={img.host ? t('imageHost', { host: img.host }) : undefined} aria-hidden="true">
          {(item?.category ?? '').split('>').pop()?.trim().slice(0, 1) || '◇'}
        </div>
      )}
      <div class="meta">
        <span class="rank">{t('rank', { n: props.rank })}</span>
        <span class="mono">{hit.id}</span>
      </div>
      <div class="title">{title}</div>
      <div class="meta">
        <span>{item?.brand ?? ''}</span>
        <span>
          {item ? money(item.price, item.currency) : ''}
          {item?.in_stock === false && <span class="pill bad">{t('outOfStock')}</span>}
        </span>
      </div>
      <div class="meta">
        <span>{t('score')}</span>
        <span class="mono" data-testid="hit-score">
          {hit.score.toFixed(4)}
        </span>
      </div>
    </button>
  );
}

const GROUPS = ['lexical', 'dense', 'fused', 'ltr', 'personalization', 'final'];

function Explanation(props: { hit: Hit; rank: number; t: T; onClose: () => void }) {
  const { hit, t } = props;
  const ex = hit.explain;
  // Rows in pipeline order: lexical, dense, fused, ltr, personalization, final.
  const rows = useMemo(() => {
    const r = ex ? flattenExplain(ex) : [];
    const gi = (k: string) => {
      const i = GROUPS.indexOf(k.split('.')[0]);
      return i < 0 ? GROUPS.length : i;
    };
    return r.map((x, i) => [x, i] as const).sort((a, b) => gi(a[0][0]) - gi(b[0][0]) || a[1] - b[1]).map((x) => x[0]);
  }, [ex]);

  const ltrOption = useMemo(() => {
    const ltr = ex?.ltr;
    if (!ltr) return null;
    const contrib: { feature: string; value: number }[] = Array.isArray(ltr.contributions) ? [...ltr.contributions] : [];
    contrib.sort((a, b) => Math.abs(b.value) - Math.abs(a.value));
    const top = contrib.slice(0, 12);
    const rest = contrib.slice(12).reduce((s, c) => s + c.value, 0);
    const bars = [
      ...(typeof ltr.bias === 'number' ? [{ name: 'bias', value: ltr.bias }] : []),
      ...top.map((c) => ({ name: c.feature, value: c.value })),
      ...(contrib.length > 12 ? [{ name: `+${contrib.length - 12} more`, value: rest }] : []),
    ].reverse();
    return {
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
      grid: { left: 8, right: 24, top: 8, bottom: 24, containLabel: true },
      xAxis: { type: 'value' },
      yAxis: { type: 'category', data: bars.map((b) => b.name), axisLabel: { fontSize: 11 } },
      series: [
        {
          type: 'bar',
          data: bars.map((b) => ({ value: +b.value.toFixed(4), itemStyle: { color: b.value >= 0 ? '#059669' : '#dc2626' } })),
          label: { show: true, position: 'right', fontSize: 10, formatter: (p: any) => Number(p.value).toFixed(3) },
        },
      ],
      height: undefined,
      _n: bars.length,
    };
  }, [ex]);

  const bm25Option = useMemo(() => {
    const f = ex?.lexical?.fields_bm25;
    if (!f || typeof f !== 'object') return null;
    const entries = Object.entries(f as Record<string, number>);
    return {
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
      grid: { left: 8, right: 24, top: 8, bottom: 24, containLabel: true },
      xAxis: { type: 'value' },
      yAxis: { type: 'category', data: entries.map(([k]) => k) },
      series: [{ type: 'bar', data: entries.map(([, v]) => +v.toFixed(4)), label: { show: true, position: 'right', fontSize: 10 } }],
    };
  }, [ex]);

  const persOption = useMemo(() => {
    const p = ex?.personalization;
    if (!p) return null;
    const flat = flattenExplain(p);
    return {
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
      grid: { left: 8, right: 24, top: 8, bottom: 24, containLabel: true },
      xAxis: { type: 'value' },
      yAxis: { type: 'category', data: flat.map(([k]) => k) },
      series: [{ type: 'bar', data: flat.map(([, v]) => +v.toFixed(4)), itemStyle: { color: '#8b5cf6' }, label: { show: true, position: 'right', fontSize: 10 } }],
    };
  }, [ex]);

  const groupOf = (k: string) => {
    const g = k.split('.')[0];
    return GROUPS.includes(g) ? g : 'other';
  };

  return (
    <Card
      title={t('whyTitle', { title: hit.title ?? hit.id, rank: props.rank })}
      actions={
        <button type="button" class="btn small" onClick={props.onClose} data-testid="explain-close">
          {t('close')}
        </button>
      }
      testid="explain-panel"
      class="explain-panel"
      id="explain-panel"
    >
      {!ex ? (
        <p class="muted">{t('noExplain')}</p>
      ) : (
        <>
          <div class="stats">
            {typeof ex.lexical?.score === 'number' && <StatMini label={t('group_lexical')} value={ex.lexical.score} rank={ex.lexical.rank} />}
            {typeof ex.dense?.score === 'number' && <StatMini label={t('group_dense')} value={ex.dense.score} rank={ex.dense.rank} />}
            {typeof ex.fused === 'number' && <StatMini label={t('group_fused')} value={ex.fused} />}
            {typeof ex.ltr?.score === 'number' && <StatMini label={t('group_ltr')} value={ex.ltr.score} />}
            {typeof ex.personalization?.boost === 'number' && <StatMini label={t('group_personalization')} value={ex.personalization.boost} />}
            {typeof ex.final === 'number' && <StatMini label={t('group_final')} value={ex.final} />}
          </div>
          <div class="grid cols-2">
            {ltrOption && (
              <div>
                <h3>{t('ltrChart')}</h3>
                <Chart option={ltrOption} height={Math.max(200, (ltrOption._n as number) * 22 + 40)} testid="explain-chart-ltr" label={t('ltrChart')} />
              </div>
            )}
            <div>
              {bm25Option && (
                <>
                  <h3>{t('bm25Chart')}</h3>
                  <Chart option={bm25Option} height={200} testid="explain-chart-bm25" label={t('bm25Chart')} />
                </>
              )}
              {persOption && (
                <>
                  <h3>{t('persChart')}</h3>
                  <Chart option={persOption} height={170} testid="explain-chart-personalization" label={t('persChart')} />
                </>
              )}
            </div>
          </div>
          <div class="table-wrap explain-rows" tabIndex={0} role="region" aria-label={t('component')}>
            <table data-testid="explain-table">
              <thead>
                <tr>
                  <th scope="col">{t('component')}</th>
                  <th scope="col" style={{ textAlign: 'right' }}>
                    {t('value')}
                  </th>
                </tr>
              </thead>
              <tbody>
                {rows.map(([k, v], i) => {
                  const g = groupOf(k);
                  const first = i === 0 || groupOf(rows[i - 1][0]) !== g;
                  return [
                    first && (
                      <tr key={g + '-head'}>
                        <th colSpan={2} scope="colgroup" style={{ textAlign: 'left' }}>
                          {t(`group_${g}` as keyof typeof dict.en)}
                        </th>
                      </tr>
                    ),
                    <tr key={k} data-testid="explain-row" data-key={k}>
                      <td class="mono">{k}</td>
                      <td class="num mono" data-testid="explain-value" data-raw={String(v)}>
                        {showNum(k, v)}
                      </td>
                    </tr>,
                  ];
                })}
              </tbody>
            </table>
          </div>
          <JsonView value={ex} />
        </>
      )}
    </Card>
  );
}

function StatMini(props: { label: string; value: number; rank?: number }) {
  return (
    <div class="stat">
      <div class="stat-label">{props.label}</div>
      <div class="stat-value" style={{ fontSize: '1.15rem' }}>
        {props.value.toFixed(4)}
      </div>
      {typeof props.rank === 'number' && <div class="stat-hint">#{props.rank}</div>}
    </div>
  );
}

// ---------------------------------------------------------------- compare

interface Side {
  pipeline: string;
  user: string;
}

/** Rank movement of `id` from list `from` (1-based) to its rank `to` in the other list. */
export function movement(fromRank: number | undefined, toRank: number): { kind: 'up' | 'down' | 'same' | 'new'; n: number } {
  if (fromRank === undefined) return { kind: 'new', n: 0 };
  if (fromRank > toRank) return { kind: 'up', n: fromRank - toRank };
  if (fromRank < toRank) return { kind: 'down', n: toRank - fromRank };
  return { kind: 'same', n: 0 };
}

function Compare(props: { q: string; filters: string[]; sort: string; t: T; initial?: { a?: Side; b?: Side } }) {
  const { t } = props;
  const [a, setA] = useState<Side>(props.initial?.a ?? { pipeline: 'bm25', user: '' });
  const [b, setB] = useState<Side>(props.initial?.b ?? { pipeline: 'full', user: '' });
  const [state, setState] = useState<{ loading: boolean; error?: unknown; ra?: SearchResponse; rb?: SearchResponse; ca?: Side; cb?: Side; ignored?: boolean }>({
    loading: false,
  });
  const k = 10;

  const run = async () => {
    if (!props.q.trim()) return;
    setState({ loading: true });
    try {
      const [x, y] = await Promise.all([
        runSearch({ q: props.q, filters: props.filters, sort: props.sort, pipeline: a.pipeline, user: a.user, limit: k }),
        runSearch({ q: props.q, filters: props.filters, sort: props.sort, pipeline: b.pipeline, user: b.user, limit: k }),
      ]);
      setState({ loading: false, ra: x.res, rb: y.res, ca: { ...a }, cb: { ...b }, ignored: x.pipelineIgnored || y.pipelineIgnored });
    } catch (e) {
      setState({ loading: false, error: e });
    }
  };
  useEffect(() => {
    run();
  }, [props.q, props.filters.join('|'), props.sort]);

  const items = useItems([...(state.ra?.hits ?? []), ...(state.rb?.hits ?? [])].map((h) => h.id));
  const rankA = new Map((state.ra?.hits ?? []).map((h, i) => [h.id, i + 1]));
  const rankB = new Map((state.rb?.hits ?? []).map((h, i) => [h.id, i + 1]));
  const overlap = [...rankB.keys()].filter((id) => rankA.has(id)).length;
  const moved = [...rankB.entries()].filter(([id, r]) => rankA.has(id) && rankA.get(id) !== r).length;
  const fresh = rankB.size - overlap;

  const sideForm = (label: string, side: Side, set: (s: Side) => void, id: string) => (
    <fieldset class="card" style={{ margin: 0 }} data-testid={`compare-config-${id}`}>
      <legend>
        <strong>{label}</strong>
      </legend>
      <div class="controls" style={{ marginTop: 0 }}>
        <label class="field">
          <span>{t('pipeline')}</span>
          <select data-testid={`compare-pipeline-${id}`} value={side.pipeline} onChange={(e) => set({ ...side, pipeline: (e.target as HTMLSelectElement).value })}>
            {PIPELINES.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        </label>
        <label class="field">
          <span>{t('asShopper')}</span>
          <input type="text" list="shopper-ids" data-testid={`compare-user-${id}`} placeholder={t('asShopperPh')} value={side.user} onInput={(e) => set({ ...side, user: (e.target as HTMLInputElement).value })} />
        </label>
      </div>
    </fieldset>
  );

  const list = (res: SearchResponse | undefined, other: Map<string, number>, isB: boolean, id: string) => (
    <ol class="rank-list" data-testid={`compare-list-${id}`} aria-label={id.toUpperCase()}>
      {(res?.hits ?? []).map((h, i) => {
        const r = i + 1;
        const o = other.get(h.id);
        // Column B: movement from A to B. Column A: where the item went in B.
        const mv = isB ? movement(o, r) : o === undefined ? { kind: 'new' as const, n: 0 } : movement(r, o);
        const cls = isB ? mv.kind : o === undefined ? 'new' : mv.kind;
        const text = isB
          ? mv.kind === 'new'
            ? t('newItem')
            : mv.kind === 'same'
              ? t('same')
              : t(mv.kind, { n: mv.n })
          : o === undefined
            ? t('notInB')
            : mv.kind === 'same'
              ? t('same')
              : t(mv.kind as 'up' | 'down', { n: mv.n });
        const it = items[h.id];
        return (
          <li key={h.id} class={cls} data-testid="compare-item" data-id={h.id} data-rank={r}>
            <span class="rank">{r}</span>
            <span>
              <span class="title">{h.title ?? it?.title ?? h.id}</span>
              <br />
              <span class="muted small">
                {isB ? (o ? t('inOther', { n: o }) : t('notInOther')) : o ? t('inB', { n: o }) : t('notInB')} · {h.score.toFixed(3)}
              </span>
            </span>
            <span class={`delta ${cls}`} data-testid="rank-change" data-kind={cls}>
              {text}
            </span>
          </li>
        );
      })}
    </ol>
  );

  return (
    <div class="page" style={{ gap: '0.75rem' }} data-testid="compare-view">
      <p class="muted">{t('compareLead')}</p>
      <div class="compare">
        {sideForm(t('configA'), a, setA, 'a')}
        {sideForm(t('configB'), b, setB, 'b')}
      </div>
      <div class="row">
        <button type="button" class="btn primary" data-testid="compare-run" onClick={run} disabled={!props.q.trim()}>
          {t('run')}
        </button>
        {!props.q.trim() && <span class="muted">{t('needQuery')}</span>}
        {state.ra && state.rb && (
          <span class="muted small" data-testid="compare-summary">
            {t('overlap', { k, n: overlap, moved, fresh })}
          </span>
        )}
      </div>
      {state.ignored && <div class="notice">{t('pipelineUnavailable')}</div>}
      {state.error ? <ErrorBox error={state.error} path="/v1/search" /> : null}
      {state.loading && <Loading />}
      {state.ra && state.rb && (
        <div class="compare">
          <Card title={`A · ${state.ra.pipeline ?? state.ca?.pipeline}${state.ca?.user ? ' · ' + state.ca.user : ''}`} testid="compare-col-a">
            <p class="muted small">{state.ra.ranker}</p>
            {list(state.ra, rankB, false, 'a')}
          </Card>
          <Card title={`B · ${state.rb.pipeline ?? state.cb?.pipeline}${state.cb?.user ? ' · ' + state.cb.user : ''}`} testid="compare-col-b">
            <p class="muted small">{state.rb.ranker}</p>
            {list(state.rb, rankA, true, 'b')}
          </Card>
        </div>
      )}
    </div>
  );
}

// ---------------------------------------------------------------- page

export default function Page() {
  const t = useT(dict);
  const route = useRoute();
  const init = useRef(route.query).current;
  const [input, setInput] = useState(init.q ?? '');
  const [q, setQ] = useState<string | null>(init.q !== undefined ? init.q : null);
  const [selected, setSelected] = useState<Selected>({});
  const [priceMin, setPriceMin] = useState('');
  const [priceMax, setPriceMax] = useState('');
  const [sort, setSort] = useState(init.sort ?? 'relevance');
  const [pipeline, setPipeline] = useState(init.pipeline ?? 'full');
  const [user, setUser] = useState(init.user ?? '');
  const [tab, setTab] = useState<'results' | 'compare'>(init.tab === 'compare' ? 'compare' : 'results');
  const [res, setRes] = useState<SearchResponse | null>(null);
  const [hits, setHits] = useState<Hit[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);
  const [ignored, setIgnored] = useState(false);
  const [pick, setPick] = useState<string | null>(null);
  const seq = useRef(0);

  const filters = buildFilters(selected, priceMin, priceMax);
  // Suggestions for the "as shopper" fields: the most active shoppers.
  const [shoppers, setShoppers] = useState<{ id: string; events?: number }[]>([]);
  useEffect(() => {
    apiGet<{ users: { id: string; events?: number }[] }>('/v1/users', { sort: 'events', limit: 20 }).then(
      (r) => setShoppers(r.users ?? []),
      () => setShoppers([]),
    );
  }, []);
  const debouncedPrice = useDebounced(`${priceMin}|${priceMax}`, 400);

  const run = async (offset = 0) => {
    if (q === null) return;
    const my = ++seq.current;
    setLoading(true);
    setError(null);
    try {
      const r = await runSearch({ q, filters, sort, pipeline, user, limit: PAGE, offset });
      if (my !== seq.current) return;
      setRes(r.res);
      setIgnored(r.pipelineIgnored);
      setHits((old) => (offset ? [...old, ...r.res.hits] : r.res.hits));
      if (!offset) setPick(null);
    } catch (e) {
      if (my === seq.current) setError(e);
    } finally {
      if (my === seq.current) setLoading(false);
    }
  };

  useEffect(() => {
    if (q === null) return;
    replaceQuery({ q, sort: sort === 'relevance' ? undefined : sort, pipeline: pipeline === 'full' ? undefined : pipeline, user: user || undefined, tab: tab === 'compare' ? tab : undefined });
    if (tab === 'results') run(0);
  }, [q, JSON.stringify(selected), debouncedPrice, sort, pipeline, tab]);

  const items = useItems(hits.map((h) => h.id));
  const picked = pick ? hits.findIndex((h) => h.id === pick) : -1;

  useEffect(() => {
    if (picked >= 0) document.getElementById('explain-panel')?.scrollIntoView({ behavior: 'smooth', block: 'start' });
  }, [pick]);

  const submit = (v: string) => {
    setQ(v);
    if (v === q && tab === 'results') run(0);
  };
  const toggle = (f: string, v: string) =>
    setSelected((s) => {
      const cur = s[f] ?? [];
      return { ...s, [f]: cur.includes(v) ? cur.filter((x) => x !== v) : [...cur, v] };
    });

  return (
    <div class="page" data-testid="page-search">
      <PageHead title={t('title')} lead={t('lead')} />

      <Card>
        <form
          class="search-bar"
          role="search"
          onSubmit={(e) => {
            e.preventDefault();
            submit(input);
          }}
        >
          <QueryBox value={input} onChange={setInput} onSubmit={submit} t={t} />
          <button type="submit" class="btn primary" data-testid="search-submit">
            {t('search')}
          </button>
        </form>
        <div class="controls">
          <label class="field">
            <span>{t('sort')}</span>
            <select data-testid="search-sort" value={sort} onChange={(e) => setSort((e.target as HTMLSelectElement).value)}>
              {['relevance', 'price_asc', 'price_desc', 'popularity'].map((s) => (
                <option key={s} value={s}>
                  {t(`sort_${s}` as keyof typeof dict.en)}
                </option>
              ))}
            </select>
          </label>
          <label class="field">
            <span>{t('pipeline')}</span>
            <select data-testid="search-pipeline" value={pipeline} onChange={(e) => setPipeline((e.target as HTMLSelectElement).value)}>
              {PIPELINES.map((p) => (
                <option key={p} value={p}>
                  {p}
                </option>
              ))}
            </select>
          </label>
          <label class="field">
            <span>{t('asShopper')}</span>
            <input
              type="text"
              data-testid="search-user"
              list="shopper-ids"
              placeholder={t('asShopperPh')}
              value={user}
              onInput={(e) => setUser((e.target as HTMLInputElement).value)}
              onKeyDown={(e) => e.key === 'Enter' && (e.preventDefault(), run(0))}
              onBlur={() => q !== null && run(0)}
            />
          </label>
          <label class="field">
            <span>{t('priceMin')}</span>
            <input type="number" min="0" inputMode="decimal" data-testid="price-min" value={priceMin} onInput={(e) => setPriceMin((e.target as HTMLInputElement).value)} />
          </label>
          <label class="field">
            <span>{t('priceMax')}</span>
            <input type="number" min="0" inputMode="decimal" data-testid="price-max" value={priceMax} onInput={(e) => setPriceMax((e.target as HTMLInputElement).value)} />
          </label>
        </div>
      </Card>

      <datalist id="shopper-ids">
        {shoppers.map((u) => (
          <option key={u.id} value={u.id}>
            {u.events !== undefined ? `${u.id} · ${u.events}` : u.id}
          </option>
        ))}
      </datalist>
      <Tabs
        label={t('title')}
        tabs={[
          { key: 'results', label: t('tabResults') },
          { key: 'compare', label: t('tabCompare') },
        ]}
        value={tab}
        onChange={setTab}
      />

      {tab === 'compare' ? (
        <Compare
          q={q ?? input}
          filters={filters}
          sort={sort}
          t={t}
          initial={init.a_pipeline || init.b_pipeline ? { a: { pipeline: init.a_pipeline ?? 'bm25', user: init.a_user ?? '' }, b: { pipeline: init.b_pipeline ?? 'full', user: init.b_user ?? '' } } : undefined}
        />
      ) : (
        <>
          {ignored && <div class="notice">{t('pipelineUnavailable')}</div>}
          {error ? <ErrorBox error={error} path="/v1/search" onRetry={() => run(0)} /> : null}
          {q === null && <p class="muted">{t('enterQuery')}</p>}
          {res && res.did_you_mean && (
            <div class="dym">
              {t('didYouMean')}{' '}
              <a
                href="#"
                data-testid="did-you-mean"
                onClick={(e) => {
                  e.preventDefault();
                  setInput(res.did_you_mean!);
                  setQ(res.did_you_mean!);
                }}
              >
                {res.did_you_mean}
              </a>
              ?
              {typeof res.spelling_confidence === 'number' && <span class="muted small"> ({t('confidence', { c: res.spelling_confidence.toFixed(2) })})</span>}
            </div>
          )}
          {res && (
            <div class="search-layout">
              <Facets facets={res.facets} selected={selected} onToggle={toggle} onClear={() => (setSelected({}), setPriceMin(''), setPriceMax(''))} t={t} />
              <div class="page" style={{ gap: '0.75rem' }}>
                <Understanding res={res} t={t} />
                {picked >= 0 && <Explanation hit={hits[picked]} rank={picked + 1} t={t} onClose={() => setPick(null)} />}
                <div class="row" style={{ justifyContent: 'space-between' }}>
                  <span class="muted small" data-testid="search-summary" data-total={res.total}>
                    {t('results', { total: fmtNum(res.total), ms: (res.took_ms ?? 0).toFixed(1), ranker: res.ranker ?? '–' })}
                    {res.pipeline && <span class="pill info">{res.pipeline}</span>}
                  </span>
                  {picked < 0 && hits.length > 0 && <span class="muted small">{t('pickHit')}</span>}
                </div>
                {hits.length === 0 && !loading && <p class="muted">{t('noHits')}</p>}
                <div class="hits" data-testid="hits">
                  {hits.map((h, i) => (
                    <HitCard key={h.id + i} hit={h} rank={i + 1} item={items[h.id]} selected={h.id === pick} onPick={() => setPick(h.id === pick ? null : h.id)} t={t} />
                  ))}
                </div>
                {res.next_offset != null && res.next_offset < res.total && (
                  <button type="button" class="btn" data-testid="search-more" onClick={() => run(hits.length)} disabled={loading}>
                    {t('more')}
                  </button>
                )}
              </div>
            </div>
          )}
          {loading && <Loading />}
        </>
      )}
    </div>
  );
}
