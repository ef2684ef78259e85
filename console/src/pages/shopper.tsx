// Shopper view: pick a shopper, read their history, see their purchase intent
// and its drivers, and the recommendations per scenario with reasons. Buttons
// simulate view / add to cart / purchase in a console session and show what
// changed in intent and recommendations.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, apiGet, apiPost } from '../api';
import { fmtNum, useLang, useT } from '../i18n';
import { replaceQuery, useRoute } from '../router';
import { Bar, Card, ErrorBox, JsonView, Loading, PageHead, Tabs, fmtTime, useDebounced } from '../ui';

const dict = {
  en: {
    title: 'Shopper view',
    lead: 'One shopper through the engine’s eyes: history, purchase intent and why, and what it recommends — then act as the shopper and watch it change.',
    findUser: 'Find a shopper',
    userPrefix: 'User id or prefix',
    userPh: 'e.g. U0001',
    open: 'Open',
    mostActive: 'Most active shoppers',
    matches: 'Matching shoppers',
    events: '{n} events',
    lastSeen: 'last seen {t}',
    usersUnavailable: 'Listing shoppers needs GET /v1/users, which this server does not have yet. Type a user id above (e.g. U000012) and press Open.',
    noUsers: 'No shopper matches.',
    pickUser: 'Pick a shopper on the left to start.',
    history: 'History',
    historyUnavailable: 'The history timeline needs GET /v1/users/{id}/events, which this server does not have yet.',
    noHistory: 'No events recorded for this shopper.',
    session: 'Session {id}',
    sessionEvents: '{n} events',
    consoleSession: 'console session',
    intent: 'Purchase intent',
    intentLead: 'Probability that the shopper buys, with the signals that push it up (green) or down (red).',
    sessionIntent: 'This session',
    customerIntent: 'This customer (all history)',
    level: 'level: {l}',
    drivers: 'Drivers',
    sessionLabel: 'session {id}',
    noIntent: 'No intent model answer.',
    recs: 'Recommendations',
    recsLead: 'What each placement would show this shopper now, and why.',
    sc_home: 'Home',
    sc_next: 'Next',
    sc_fbt: 'Bought together',
    'sc_buy-again': 'Buy again',
    sc_similar: 'Similar',
    sc_trending: 'Trending',
    forItem: 'for {title}',
    noContextItem: 'This placement needs a product: view one first (history or a button below).',
    noRecs: 'Nothing to recommend here.',
    coldStart: 'cold start',
    candidates: '{n} candidates',
    view: 'View',
    cart: 'Add to cart',
    purchase: 'Purchase',
    simulating: 'Sending {type}…',
    changed: 'After “{type}” on {title}: {fresh} new and {moved} moved recommendations in “{scenario}”; session intent {from} → {to}.',
    unchanged: 'After “{type}” on {title}: recommendations in “{scenario}” did not change; session intent {from} → {to}.',
    new: 'new',
    up: '▲ {n}',
    down: '▼ {n}',
    resetSession: 'New console session',
    simulatedNote: 'Simulated events go to session {id} (real events in the store, marked as this console’s).',
    reason: 'Why',
    whyRank: 'Why this rank (ranker contributions)',
    itemIntent: 'Purchase probability per item in the session',
    sources: 'sources',
    score: 'score {s}',
    type_view: 'view',
    type_add_to_cart: 'add to cart',
    type_purchase: 'purchase',
    type_search: 'search',
    type_click: 'click',
    type_rating: 'rating',
    type_remove_from_cart: 'remove from cart',
    type_impression: 'impression',
    type_return: 'return',
  },
  zh: {
    title: '顾客视图',
    lead: '从引擎的角度看一位顾客：历史、购买意向及其原因、推荐了什么——然后扮演这位顾客，看看它们如何变化。',
    findUser: '查找顾客',
    userPrefix: '用户 ID 或前缀',
    userPh: '例如 U0001',
    open: '打开',
    mostActive: '最活跃的顾客',
    matches: '匹配的顾客',
    events: '{n} 个事件',
    lastSeen: '最近活动 {t}',
    usersUnavailable: '列出顾客需要 GET /v1/users，此服务器尚未提供。请在上方输入用户 ID（如 U000012）并点击“打开”。',
    noUsers: '没有匹配的顾客。',
    pickUser: '请先在左侧选择一位顾客。',
    history: '历史',
    historyUnavailable: '历史时间线需要 GET /v1/users/{id}/events，此服务器尚未提供。',
    noHistory: '这位顾客没有记录的事件。',
    session: '会话 {id}',
    sessionEvents: '{n} 个事件',
    consoleSession: '控制台会话',
    intent: '购买意向',
    intentLead: '顾客购买的概率，以及把它推高（绿色）或拉低（红色）的信号。',
    sessionIntent: '本次会话',
    customerIntent: '这位顾客（全部历史）',
    level: '等级：{l}',
    drivers: '驱动因素',
    sessionLabel: '会话 {id}',
    noIntent: '意向模型没有返回结果。',
    recs: '推荐',
    recsLead: '每个推荐位此刻会给这位顾客展示什么，以及原因。',
    sc_home: '首页',
    sc_next: '下一步',
    sc_fbt: '经常一起买',
    'sc_buy-again': '再次购买',
    sc_similar: '相似商品',
    sc_trending: '热门趋势',
    forItem: '针对 {title}',
    noContextItem: '这个推荐位需要一个商品：请先浏览一个商品（历史或下面的按钮）。',
    noRecs: '这里没有可推荐的商品。',
    coldStart: '冷启动',
    candidates: '{n} 个候选',
    view: '浏览',
    cart: '加入购物车',
    purchase: '购买',
    simulating: '正在发送 {type}…',
    changed: '对 {title} 执行“{type}”后：“{scenario}”中有 {fresh} 个新推荐、{moved} 个位置变化；会话意向 {from} → {to}。',
    unchanged: '对 {title} 执行“{type}”后：“{scenario}”中的推荐没有变化；会话意向 {from} → {to}。',
    new: '新',
    up: '▲ {n}',
    down: '▼ {n}',
    resetSession: '新建控制台会话',
    simulatedNote: '模拟的事件写入会话 {id}（是存储中的真实事件，标记为来自本控制台）。',
    reason: '原因',
    whyRank: '为什么排在这里（排序模型贡献）',
    itemIntent: '本次会话中各商品的购买概率',
    sources: '来源',
    score: '分数 {s}',
    type_view: '浏览',
    type_add_to_cart: '加购',
    type_purchase: '购买',
    type_search: '搜索',
    type_click: '点击',
    type_rating: '评分',
    type_remove_from_cart: '移出购物车',
    type_impression: '曝光',
    type_return: '退货',
  },
};
type Key = keyof typeof dict.en;

const SCENARIOS = ['home', 'next', 'fbt', 'buy-again', 'similar', 'trending'] as const;
type Scenario = (typeof SCENARIOS)[number];
const NEEDS_ITEM: Scenario[] = ['fbt', 'similar'];

interface UserRow {
  id: string;
  events?: number;
  last_event_ms?: number;
}
interface UserEvent {
  item?: string;
  title?: string;
  type: string;
  timestamp_ms?: number;
  session?: string;
  value?: number;
  query?: string;
}
interface Driver {
  feature: string;
  contribution: number;
  text?: string;
  value?: number | null;
}
interface IntentPart {
  probability: number;
  level?: string;
  drivers?: Driver[];
}
interface Intent {
  items?: { item: string; probability: number }[];
  user?: string;
  session?: string;
  session_intent?: IntentPart;
  customer_intent?: IntentPart;
  notes?: string[];
  model?: string;
}
interface RecItem {
  id: string;
  title?: string;
  reason?: string;
  reasons?: string[];
  score: number;
  sources?: { kind?: string; source?: string; rank?: number; score?: number }[];
  explain?: { contributions?: Record<string, number>; features?: Record<string, number | null> };
}
interface Recs {
  items: RecItem[];
  candidates?: number;
  cold_start?: boolean;
  intent?: number;
  intent_level?: string;
  notes?: string[];
  pipeline?: string;
  ranked?: boolean;
}

const TYPE_BADGE: Record<string, { letter: string; color: string }> = {
  view: { letter: 'V', color: '#2563eb' },
  click: { letter: 'K', color: '#0891b2' },
  add_to_cart: { letter: 'C', color: '#d97706' },
  remove_from_cart: { letter: '−', color: '#6b7280' },
  purchase: { letter: '$', color: '#047857' },
  search: { letter: 'S', color: '#7c3aed' },
  rating: { letter: '★', color: '#ca8a04' },
  return: { letter: 'R', color: '#b91c1c' },
  impression: { letter: 'I', color: '#9ca3af' },
};

function newSessionId(): string {
  const rnd = Math.random().toString(36).slice(2, 10);
  return `console-${rnd}`;
}

function pct(p: number | undefined): string {
  if (p === undefined || !Number.isFinite(p)) return '–';
  return p < 0.001 && p > 0 ? '<0.1%' : `${(p * 100).toFixed(1)}%`;
}

// ---------------------------------------------------------------- user picker

function UserPicker(props: { current: string; onPick: (id: string) => void }) {
  const t = useT(dict);
  const [text, setText] = useState(props.current);
  const prefix = useDebounced(text.trim(), 250);
  const [rows, setRows] = useState<UserRow[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);

  useEffect(() => {
    let alive = true;
    setLoading(true);
    apiGet<{ users: UserRow[] }>('/v1/users', { prefix: prefix || undefined, sort: 'events', limit: 20 })
      .then((r) => alive && (setRows(r.users ?? []), setError(null)))
      .catch((e) => alive && (setRows(null), setError(e)))
      .finally(() => alive && setLoading(false));
    return () => {
      alive = false;
    };
  }, [prefix]);

  const unavailable = error instanceof ApiError && error.notAvailable;
  return (
    <Card title={t('findUser')} testid="user-picker">
      <form
        class="row"
        onSubmit={(e) => {
          e.preventDefault();
          if (text.trim()) props.onPick(text.trim());
        }}
      >
        <label class="sr-only" for="user-search">
          {t('userPrefix')}
        </label>
        <input id="user-search" type="text" data-testid="user-search" placeholder={t('userPh')} value={text} onInput={(e) => setText((e.target as HTMLInputElement).value)} />
        <button type="submit" class="btn primary" data-testid="user-open">
          {t('open')}
        </button>
      </form>
      {unavailable ? (
        <p class="notice small" data-testid="not-available">
          {t('usersUnavailable')}
        </p>
      ) : error ? (
        <ErrorBox error={error} path="/v1/users" />
      ) : null}
      {rows && (
        <>
          <h3>{prefix ? t('matches') : t('mostActive')}</h3>
          {rows.length === 0 && <p class="muted small">{t('noUsers')}</p>}
          <ul class="user-list" data-testid="user-list">
            {rows.map((u) => (
              <li key={u.id}>
                <button type="button" data-testid="user-option" data-id={u.id} aria-pressed={u.id === props.current} onClick={() => props.onPick(u.id)}>
                  <span class="mono">{u.id}</span>
                  <span class="muted small">
                    {u.events !== undefined && t('events', { n: fmtNum(u.events) })}
                    {u.last_event_ms ? ` · ${new Date(u.last_event_ms).toLocaleDateString()}` : ''}
                  </span>
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
      {loading && !rows && !error && <Loading />}
    </Card>
  );
}

// ---------------------------------------------------------------- history

function TypeBadge(props: { type: string }) {
  const t = useT(dict);
  const b = TYPE_BADGE[props.type] ?? { letter: '•', color: '#6b7280' };
  const label = (dict.en as Record<string, string>)[`type_${props.type}`] ? t(`type_${props.type}` as Key) : props.type;
  return (
    <span class="ev-icon" title={label}>
      <span aria-hidden="true" style={{ display: 'inline-block', width: '1.3rem', height: '1.3rem', lineHeight: '1.3rem', borderRadius: '50%', background: b.color, color: '#fff', fontSize: '0.72rem', fontWeight: 700 }}>
        {b.letter}
      </span>
      <span class="sr-only">{label}</span>
    </span>
  );
}

function Timeline(props: { events: UserEvent[]; consoleSession: string }) {
  const t = useT(dict);
  // Newest session first; events inside a session oldest first.
  const groups = useMemo(() => {
    const m = new Map<string, UserEvent[]>();
    for (const e of props.events) {
      const k = e.session ?? '–';
      if (!m.has(k)) m.set(k, []);
      m.get(k)!.push(e);
    }
    return [...m.entries()].sort((a, b) => (b[1][b[1].length - 1]?.timestamp_ms ?? 0) - (a[1][a[1].length - 1]?.timestamp_ms ?? 0));
  }, [props.events]);
  if (!props.events.length) return <p class="muted">{t('noHistory')}</p>;
  return (
    <ol class="timeline" data-testid="timeline" tabIndex={0} aria-label={t('history')}>
      {groups.map(([sid, evs]) => (
        <li class="session" key={sid} data-testid="timeline-session">
          <div class="session-head">
            <span>
              {t('session', { id: sid })}
              {sid === props.consoleSession && <span class="pill warn">{t('consoleSession')}</span>}
            </span>
            <span>
              {t('sessionEvents', { n: evs.length })} · {fmtTime(evs[0]?.timestamp_ms)}
            </span>
          </div>
          <ol style={{ listStyle: 'none', padding: 0, margin: 0 }}>
            {evs.map((e, i) => (
              <li class="ev" key={i} data-testid="timeline-event" data-type={e.type}>
                <TypeBadge type={e.type} />
                <span>
                  {e.title ?? e.item ?? e.query ?? ''}
                  {e.item && e.title && <span class="muted small mono"> {e.item}</span>}
                  {e.value !== undefined && e.value !== null && <span class="muted small"> · {e.value}</span>}
                </span>
                <span class="when">{e.timestamp_ms ? new Date(e.timestamp_ms).toLocaleTimeString() : ''}</span>
              </li>
            ))}
          </ol>
        </li>
      ))}
    </ol>
  );
}

// ---------------------------------------------------------------- intent

function IntentGauge(props: { label: string; part?: IntentPart; sub?: string; testid: string }) {
  const t = useT(dict);
  const p = props.part;
  const drivers = [...(p?.drivers ?? [])].sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution)).slice(0, 8);
  const max = Math.max(1e-9, ...drivers.map((d) => Math.abs(d.contribution)));
  return (
    <div class="gauge" data-testid={props.testid}>
      <div class="row" style={{ justifyContent: 'space-between' }}>
        <strong>{props.label}</strong>
        {p?.level && <span class={`pill ${p.level === 'high' ? 'good' : p.level === 'medium' ? 'warn' : ''}`}>{t('level', { l: p.level })}</span>}
      </div>
      {props.sub && <span class="muted small">{props.sub}</span>}
      <span class="gauge-value" data-testid={`${props.testid}-value`} data-value={p?.probability ?? ''}>
        {pct(p?.probability)}
      </span>
      <div class="gauge-track" role="meter" aria-label={props.label} aria-valuemin={0} aria-valuemax={1} aria-valuenow={p?.probability ?? 0}>
        <span style={{ width: `${Math.min(100, (p?.probability ?? 0) * 100)}%` }} />
      </div>
      {drivers.length > 0 && (
        <>
          <h3>{t('drivers')}</h3>
          <div class="drivers" data-testid={`${props.testid}-drivers`}>
            {drivers.map((d) => [
              <span key={d.feature + 'l'} title={d.feature} data-testid="driver">
                {d.text ?? d.feature}
              </span>,
              <Bar key={d.feature + 'b'} value={d.contribution} max={max} signed label={d.text ?? d.feature} />,
              <span key={d.feature + 'v'} class="num small mono">
                {d.contribution >= 0 ? '+' : ''}
                {d.contribution.toFixed(3)}
              </span>,
            ])}
          </div>
        </>
      )}
    </div>
  );
}

// ---------------------------------------------------------------- recommendations

type Change = { kind: 'new' | 'up' | 'down' | 'same'; n: number };

function RecCard(props: { item: RecItem; rank: number; change?: Change; busy: boolean; onAct: (type: string) => void }) {
  const t = useT(dict);
  const { item, change } = props;
  const reasons = item.reasons?.length ? item.reasons : item.reason ? [item.reason] : [];
  const cls = change && change.kind !== 'same' ? (change.kind === 'new' ? 'rec new' : 'rec moved') : 'rec';
  return (
    <div class={cls} data-testid="rec-item" data-id={item.id} data-change={change?.kind ?? ''}>
      <div class="row" style={{ justifyContent: 'space-between' }}>
        <span class="rank">#{props.rank}</span>
        {change && change.kind !== 'same' && (
          <span class={`delta ${change.kind}`} data-testid="rec-change">
            {change.kind === 'new' ? t('new') : t(change.kind, { n: change.n })}
          </span>
        )}
        <span class="mono muted small">{item.id}</span>
      </div>
      <div class="title">{item.title ?? item.id}</div>
      {reasons.length > 0 && (
        <div class="reason" data-testid="rec-reason">
          <span class="sr-only">{t('reason')}: </span>
          {reasons.join(' · ')}
        </div>
      )}
      <div class="small">
        {(item.sources ?? []).map((s, i) => (
          <span class="pill" key={i} title={s.score !== undefined ? t('score', { s: s.score.toFixed(3) }) : undefined}>
            {s.source ?? s.kind}
            {s.kind && s.source && s.kind !== s.source ? ` · ${s.kind}` : ''}
            {s.rank !== undefined ? ` #${s.rank}` : ''}
          </span>
        ))}
        <span class="muted"> {t('score', { s: item.score.toFixed(3) })}</span>
      </div>
      <RecWhy item={item} />
      <div class="actions">
        <button type="button" class="btn small" data-testid="act-view" disabled={props.busy} onClick={() => props.onAct('view')}>
          {t('view')}
        </button>
        <button type="button" class="btn small" data-testid="act-cart" disabled={props.busy} onClick={() => props.onAct('add_to_cart')}>
          {t('cart')}
        </button>
        <button type="button" class="btn small" data-testid="act-purchase" disabled={props.busy} onClick={() => props.onAct('purchase')}>
          {t('purchase')}
        </button>
      </div>
    </div>
  );
}

/** The ranker's top feature contributions for one recommended item. */
function RecWhy(props: { item: RecItem }) {
  const t = useT(dict);
  const c = props.item.explain?.contributions;
  if (!c) return null;
  const feats = props.item.explain?.features ?? {};
  const top = Object.entries(c)
    .filter(([k, v]) => k !== 'bias' && v !== 0)
    .sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]))
    .slice(0, 6);
  if (!top.length) return null;
  const max = Math.max(1e-9, ...top.map(([, v]) => Math.abs(v)));
  return (
    <details class="small" data-testid="rec-why">
      <summary>{t('whyRank')}</summary>
      <div class="drivers" style={{ gridTemplateColumns: 'minmax(0,1fr) 70px 3.6rem', marginTop: '0.3rem' }}>
        {top.map(([k, v]) => [
          <span key={k + 'l'} class="mono" title={feats[k] !== undefined && feats[k] !== null ? `${k} = ${Number(feats[k]).toFixed(3)}` : k}>
            {k}
          </span>,
          <Bar key={k + 'b'} value={v} max={max} signed label={k} />,
          <span key={k + 'v'} class="num mono">
            {v >= 0 ? '+' : ''}
            {v.toFixed(3)}
          </span>,
        ])}
      </div>
    </details>
  );
}

function diff(before: RecItem[] | undefined, after: RecItem[]): Map<string, Change> {
  const m = new Map<string, Change>();
  if (!before) return m;
  const old = new Map(before.map((x, i) => [x.id, i + 1]));
  after.forEach((x, i) => {
    const r = i + 1;
    const o = old.get(x.id);
    if (o === undefined) m.set(x.id, { kind: 'new', n: 0 });
    else if (o > r) m.set(x.id, { kind: 'up', n: o - r });
    else if (o < r) m.set(x.id, { kind: 'down', n: r - o });
    else m.set(x.id, { kind: 'same', n: 0 });
  });
  return m;
}

// ---------------------------------------------------------------- page

interface Snapshot {
  recs: Partial<Record<Scenario, Recs | ApiError>>;
  intent?: Intent | ApiError;
}

export default function Page() {
  const t = useT(dict);
  const lang = useLang();
  const route = useRoute();
  const [user, setUser] = useState<string>(route.query.user ?? '');
  const [session, setSession] = useState(newSessionId);
  const [simulated, setSimulated] = useState(false);
  const [events, setEvents] = useState<UserEvent[] | null>(null);
  const [eventsError, setEventsError] = useState<unknown>(null);
  const [snap, setSnap] = useState<Snapshot>({ recs: {} });
  const [prevSnap, setPrevSnap] = useState<Snapshot | null>(null);
  const [loading, setLoading] = useState(false);
  const [scenario, setScenario] = useState<Scenario>('home');
  const [busy, setBusy] = useState<string | null>(null);
  const [banner, setBanner] = useState<string | null>(null);
  const [contextItem, setContextItem] = useState<{ id: string; title?: string } | null>(null);
  const seq = useRef(0);

  const pickUser = (id: string) => {
    setUser(id);
    setSession(newSessionId());
    setSimulated(false);
    setPrevSnap(null);
    setBanner(null);
    setContextItem(null);
    replaceQuery({ user: id });
  };

  // History.
  const loadEvents = async (u: string) => {
    try {
      const r = await apiGet<{ events: UserEvent[] }>(`/v1/users/${encodeURIComponent(u)}/events`, { limit: 100 });
      setEvents(r.events ?? []);
      setEventsError(null);
      return r.events ?? [];
    } catch (e) {
      setEvents(null);
      setEventsError(e);
      return null;
    }
  };

  // Intent + all scenarios, as one snapshot.
  const loadSnapshot = async (u: string, useSession: boolean, item: string | undefined): Promise<Snapshot> => {
    const sessionParam = useSession ? session : undefined;
    const intentP = apiGet<Intent>('/v1/intent', { user: u, session: sessionParam, lang, drivers: 8 }).catch((e) => e as ApiError);
    const recP = SCENARIOS.map((s) => {
      if (NEEDS_ITEM.includes(s) && !item) return Promise.resolve([s, undefined] as const);
      return apiGet<Recs>(`/v1/recommendations/${s}`, { user: u, session: sessionParam, item: NEEDS_ITEM.includes(s) || s === 'next' ? item : undefined, n: 8, lang, explain: true })
        .then((r) => [s, r] as const)
        .catch((e) => [s, e as ApiError] as const);
    });
    const [intent, ...recs] = await Promise.all([intentP, ...recP]);
    const out: Snapshot = { intent: intent as Intent | ApiError, recs: {} };
    for (const [s, r] of recs as (readonly [Scenario, Recs | ApiError | undefined])[]) if (r) out.recs[s] = r;
    return out;
  };

  useEffect(() => {
    if (!user) return;
    const my = ++seq.current;
    setLoading(true);
    setEvents(null);
    setSnap({ recs: {} });
    (async () => {
      const evs = await loadEvents(user);
      if (my !== seq.current) return;
      const lastViewed = [...(evs ?? [])].reverse().find((e) => e.item);
      const ctx = lastViewed?.item ? { id: lastViewed.item, title: lastViewed.title } : null;
      setContextItem(ctx);
      const s = await loadSnapshot(user, false, ctx?.id);
      if (my !== seq.current) return;
      setSnap(s);
      setLoading(false);
    })();
  }, [user, lang]);

  const act = async (type: string, item: RecItem) => {
    if (!user) return;
    setBusy(type);
    setBanner(null);
    try {
      await apiPost('/v1/events', { events: [{ type, user, item: item.id, session, ...(type === 'purchase' ? { quantity: 1 } : {}) }] });
      const before = snap;
      const ctx = { id: item.id, title: item.title };
      setContextItem(ctx);
      setSimulated(true);
      const [after] = await Promise.all([loadSnapshotFor(user, ctx.id), loadEvents(user)]);
      setPrevSnap(before);
      setSnap(after);
      const b = before.recs[scenario];
      const a = after.recs[scenario];
      const bi = b && !(b instanceof ApiError) ? b.items : [];
      const ai = a && !(a instanceof ApiError) ? a.items : [];
      const d = diff(bi, ai);
      const fresh = [...d.values()].filter((c) => c.kind === 'new').length;
      const moved = [...d.values()].filter((c) => c.kind === 'up' || c.kind === 'down').length;
      const pFrom = before.intent && !(before.intent instanceof ApiError) ? before.intent.session_intent?.probability : undefined;
      const pTo = after.intent && !(after.intent instanceof ApiError) ? after.intent.session_intent?.probability : undefined;
      const vars = { type: t(`type_${type}` as Key), title: item.title ?? item.id, scenario: t(`sc_${scenario}` as Key), fresh, moved, from: pct(pFrom), to: pct(pTo) };
      setBanner(fresh || moved ? t('changed', vars) : t('unchanged', vars));
    } catch (e) {
      setBanner(null);
      setEventsError(e);
    } finally {
      setBusy(null);
    }
  };
  // After a simulated event the console session is the one that counts.
  const loadSnapshotFor = (u: string, item: string) => loadSnapshot(u, true, item);

  const cur = snap.recs[scenario];
  const prev = prevSnap?.recs[scenario];
  const changes = useMemo(() => {
    if (!cur || cur instanceof ApiError || !prev || prev instanceof ApiError) return new Map<string, Change>();
    return diff(prev.items, cur.items);
  }, [cur, prev]);
  const intent = snap.intent && !(snap.intent instanceof ApiError) ? snap.intent : undefined;
  // Item titles known from the history and the recommendations.
  const titles = useMemo(() => {
    const m = new Map<string, string>();
    for (const e of events ?? []) if (e.item && e.title) m.set(e.item, e.title);
    for (const r of Object.values(snap.recs)) if (r && !(r instanceof ApiError)) for (const it of r.items) if (it.title) m.set(it.id, it.title);
    return m;
  }, [events, snap]);
  const titleOf = (id: string) => titles.get(id) ?? id;
  const historyUnavailable = eventsError instanceof ApiError && eventsError.notAvailable;

  return (
    <div class="page" data-testid="page-shopper">
      <PageHead title={t('title')} lead={t('lead')} />
      <div class="shopper-layout">
        <UserPicker current={user} onPick={pickUser} />
        <div class="page" style={{ gap: '1rem' }}>
          {!user && <p class="muted">{t('pickUser')}</p>}
          {user && (
            <>
              <div class="row" style={{ justifyContent: 'space-between' }}>
                <h2 data-testid="shopper-id">
                  <span class="mono">{user}</span>
                </h2>
                <span class="row small muted">
                  {t('simulatedNote', { id: session })}
                  <button
                    type="button"
                    class="btn small"
                    data-testid="reset-session"
                    onClick={() => {
                      setSession(newSessionId());
                      setSimulated(false);
                      setPrevSnap(null);
                      setBanner(null);
                      const u = user;
                      setUser('');
                      setTimeout(() => setUser(u), 0);
                    }}
                  >
                    {t('resetSession')}
                  </button>
                </span>
              </div>
              {banner && (
                <div class="change-banner" role="status" data-testid="change-banner">
                  {banner}
                </div>
              )}
              <div class="grid cols-2">
                <Card title={t('intent')} testid="intent-panel">
                  <p class="muted small">{t('intentLead')}</p>
                  {snap.intent instanceof ApiError && <ErrorBox error={snap.intent} path="/v1/intent" />}
                  {!snap.intent && loading && <Loading />}
                  {intent && (
                    <div class="page" style={{ gap: '1.25rem' }}>
                      <IntentGauge
                        label={t('sessionIntent')}
                        sub={intent.session ? t('sessionLabel', { id: intent.session }) + (simulated ? ` (${t('consoleSession')})` : '') : undefined}
                        part={intent.session_intent}
                        testid="intent-session"
                      />
                      <IntentGauge label={t('customerIntent')} part={intent.customer_intent} testid="intent-customer" />
                      {intent.items && intent.items.length > 0 && (
                        <div data-testid="intent-items">
                          <h3>{t('itemIntent')}</h3>
                          <div class="drivers" style={{ gridTemplateColumns: 'minmax(0,1fr) 110px 4.5rem' }}>
                            {intent.items.slice(0, 6).map((x) => [
                              <span key={x.item + 'l'}>
                                {titleOf(x.item)} <span class="muted small mono">{titleOf(x.item) !== x.item ? x.item : ''}</span>
                              </span>,
                              <Bar key={x.item + 'b'} value={x.probability} max={1} label={x.item} />,
                              <span key={x.item + 'v'} class="num small mono">
                                {pct(x.probability)}
                              </span>,
                            ])}
                          </div>
                        </div>
                      )}
                      {intent.notes && intent.notes.length > 0 && <p class="muted small">{intent.notes.join(' · ')}</p>}
                    </div>
                  )}
                </Card>
                <Card title={t('history')} testid="history-panel">
                  {historyUnavailable ? (
                    <p class="notice small" data-testid="not-available">
                      {t('historyUnavailable')}
                    </p>
                  ) : eventsError ? (
                    <ErrorBox error={eventsError} />
                  ) : events ? (
                    <Timeline events={events} consoleSession={session} />
                  ) : (
                    <Loading />
                  )}
                </Card>
              </div>
              <Card title={t('recs')} testid="recs-panel">
                <p class="muted small">{t('recsLead')}</p>
                <Tabs
                  label={t('recs')}
                  testid="rec-tabs"
                  tabs={SCENARIOS.map((s) => ({ key: s, label: t(`sc_${s}` as Key) }))}
                  value={scenario}
                  onChange={(s) => setScenario(s)}
                />
                {NEEDS_ITEM.includes(scenario) && contextItem && <p class="small muted">{t('forItem', { title: contextItem.title ?? contextItem.id })}</p>}
                {busy && <Loading label={t('simulating', { type: t(`type_${busy}` as Key) })} />}
                {!cur && loading && <Loading />}
                {!cur && !loading && NEEDS_ITEM.includes(scenario) && !contextItem && <p class="muted">{t('noContextItem')}</p>}
                {cur instanceof ApiError && <ErrorBox error={cur} path={`/v1/recommendations/${scenario}`} />}
                {cur && !(cur instanceof ApiError) && (
                  <>
                    <p class="small muted" data-testid="rec-meta">
                      {cur.candidates !== undefined && t('candidates', { n: fmtNum(cur.candidates) })}
                      {cur.cold_start && <span class="pill warn">{t('coldStart')}</span>}
                      {cur.pipeline && <span class="pill">{cur.pipeline}</span>}
                      {cur.notes?.length ? ` · ${cur.notes.join(' · ')}` : ''}
                    </p>
                    {cur.items.length === 0 && <p class="muted">{t('noRecs')}</p>}
                    <div class="recs" data-testid="rec-list" data-scenario={scenario}>
                      {cur.items.map((it, i) => (
                        <RecCard key={it.id} item={it} rank={i + 1} change={changes.get(it.id)} busy={!!busy} onAct={(type) => act(type, it)} />
                      ))}
                    </div>
                    <JsonView value={cur} />
                  </>
                )}
              </Card>
            </>
          )}
        </div>
      </div>
    </div>
  );
}
