// Small shared building blocks for the pages.
import type { ComponentChildren, JSX } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api';
import { useT } from './i18n';

const dict = {
  en: {
    loading: 'Loading…',
    notAvailable: 'This part of the API is not available on this server yet ({path}).',
    unauthorized: 'The API key is missing or not allowed to do this. Enter an admin key above.',
    error: 'Error',
    status: 'HTTP {status}',
    field: 'field: {field}',
    showJson: 'Raw JSON',
    noRows: 'No rows.',
    retry: 'Retry',
  },
  zh: {
    loading: '加载中…',
    notAvailable: '此服务器尚未提供这部分 API（{path}）。',
    unauthorized: 'API 密钥缺失或无权执行此操作。请在上方输入管理员密钥。',
    error: '错误',
    status: 'HTTP {status}',
    field: '字段：{field}',
    showJson: '原始 JSON',
    noRows: '没有数据。',
    retry: '重试',
  },
};

/** A page's title and lead paragraph, with optional actions on the right. */
export function PageHead(props: { title: string; lead: string; children?: ComponentChildren }) {
  return (
    <div class="page-head">
      <div>
        <h1>{props.title}</h1>
        <p>{props.lead}</p>
      </div>
      {props.children}
    </div>
  );
}

export function Card(props: {
  title?: ComponentChildren;
  actions?: ComponentChildren;
  children?: ComponentChildren;
  class?: string;
  testid?: string;
  id?: string;
}) {
  return (
    <section class={'card ' + (props.class ?? '')} data-testid={props.testid} id={props.id}>
      {(props.title || props.actions) && (
        <header class="card-head">
          {props.title && <h2>{props.title}</h2>}
          {props.actions && <div class="card-actions">{props.actions}</div>}
        </header>
      )}
      {props.children}
    </section>
  );
}

export function Stat(props: { label: ComponentChildren; value: ComponentChildren; hint?: ComponentChildren; testid?: string }) {
  return (
    <div class="stat" data-testid={props.testid}>
      <div class="stat-label">{props.label}</div>
      <div class="stat-value">{props.value}</div>
      {props.hint && <div class="stat-hint">{props.hint}</div>}
    </div>
  );
}

export interface Column<R> {
  key: string;
  label: ComponentChildren;
  render?: (row: R, index: number) => ComponentChildren;
  align?: 'left' | 'right' | 'center';
}

/** A table that scrolls horizontally inside its card on narrow screens. */
export function Table<R = Record<string, unknown>>(props: {
  columns: Column<R>[];
  rows: R[];
  testid?: string;
  caption?: string;
  rowKey?: (row: R, index: number) => string | number;
  rowClass?: (row: R) => string | undefined;
}) {
  const t = useT(dict);
  if (props.rows.length === 0) return <p class="muted">{t('noRows')}</p>;
  return (
    <div class="table-wrap" data-testid={props.testid} tabIndex={0} role="region" aria-label={props.caption ?? 'table'}>
      <table>
        {props.caption && <caption class="sr-only">{props.caption}</caption>}
        <thead>
          <tr>
            {props.columns.map((c) => (
              <th key={c.key} scope="col" style={{ textAlign: c.align ?? 'left' }}>
                {c.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.rows.map((r, i) => (
            <tr key={props.rowKey ? props.rowKey(r, i) : i} class={props.rowClass?.(r)}>
              {props.columns.map((c) => (
                <td key={c.key} style={{ textAlign: c.align ?? 'left' }}>
                  {c.render ? c.render(r, i) : String((r as Record<string, unknown>)[c.key] ?? '')}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Shows an error; a 404 "no route" becomes a friendly "not available yet". */
export function ErrorBox(props: { error: unknown; path?: string; onRetry?: () => void }) {
  const t = useT(dict);
  const e = props.error;
  if (!e) return null;
  if (e instanceof ApiError && e.notAvailable) {
    return (
      <div class="notice" role="status" data-testid="not-available">
        {t('notAvailable', { path: props.path ?? '' })}
      </div>
    );
  }
  const api = e instanceof ApiError ? e : null;
  return (
    <div class="error" role="alert" data-testid="error-box">
      <strong>{t('error')}</strong>
      {api && api.status > 0 && <span class="pill">{t('status', { status: api.status })}</span>}
      {api && <code>{api.code}</code>}
      <div>{api && (api.status === 401 || api.status === 403) ? t('unauthorized') : (e as Error).message ?? String(e)}</div>
      {api?.field && <div class="muted">{t('field', { field: api.field })}</div>}
      {props.onRetry && (
        <button type="button" class="btn small" onClick={props.onRetry}>
          {t('retry')}
        </button>
      )}
    </div>
  );
}

export function Loading(props: { label?: string }) {
  const t = useT(dict);
  return (
    <div class="loading" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" />
      {props.label ?? t('loading')}
    </div>
  );
}

/** Collapsible raw JSON, for the curious. */
export function JsonView(props: { value: unknown; label?: string; open?: boolean }) {
  const t = useT(dict);
  return (
    <details class="json" open={props.open}>
      <summary>{props.label ?? t('showJson')}</summary>
      <pre>{JSON.stringify(props.value, null, 2)}</pre>
    </details>
  );
}

/** A horizontal bar for a value in [0, max] (or signed around zero). */
export function Bar(props: { value: number; max: number; signed?: boolean; label?: string; color?: string }) {
  const max = props.max > 0 ? props.max : 1;
  const frac = Math.min(1, Math.abs(props.value) / max);
  if (props.signed) {
    const pos = props.value >= 0;
    return (
      <div class="sbar" role="meter" aria-valuemin={-max} aria-valuemax={max} aria-valuenow={props.value} aria-label={props.label ?? 'value'}>
        <div class="sbar-half neg">{!pos && <span style={{ width: `${frac * 100}%` }} />}</div>
        <div class="sbar-half pos">{pos && <span style={{ width: `${frac * 100}%` }} />}</div>
      </div>
    );
  }
  return (
    <div class="hbar" role="meter" aria-valuemin={0} aria-valuemax={max} aria-valuenow={props.value} aria-label={props.label ?? 'value'}>
      <span style={{ width: `${frac * 100}%`, background: props.color }} />
    </div>
  );
}

/** State of one API call: data, error, loading, and reload(). */
export interface Async<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/** Runs `fn` when `deps` change; results from stale calls are dropped. */
export function useAsync<T>(fn: () => Promise<T>, deps: unknown[]): Async<T> {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const seq = useRef(0);
  const run = useCallback(() => {
    const my = ++seq.current;
    setState((s) => ({ ...s, loading: true }));
    fn().then(
      (data) => my === seq.current && setState({ data, loading: false }),
      (error) => my === seq.current && setState({ error, loading: false }),
    );
  }, deps);
  useEffect(run, [run]);
  return { data: state.data, error: state.error, loading: state.loading, reload: run };
}

/** A value that follows `value` after `ms` without change. */
export function useDebounced<T>(value: T, ms: number): T {
  const [v, set] = useState(value);
  useEffect(() => {
    const id = setTimeout(() => set(value), ms);
    return () => clearTimeout(id);
  }, [value, ms]);
  return v;
}

export function Tabs<K extends string>(props: {
  tabs: { key: K; label: ComponentChildren }[];
  value: K;
  onChange: (k: K) => void;
  testid?: string;
  label?: string;
}): JSX.Element {
  return (
    <div class="tabs" role="tablist" aria-label={props.label} data-testid={props.testid}>
      {props.tabs.map((tab) => (
        <button
          type="button"
          role="tab"
          key={tab.key}
          aria-selected={tab.key === props.value}
          class={tab.key === props.value ? 'tab active' : 'tab'}
          data-testid={`tab-${tab.key}`}
          onClick={() => props.onChange(tab.key)}
        >
          {tab.label}
        </button>
      ))}
    </div>
  );
}

/** Milliseconds since epoch -> local date-time text. */
export function fmtTime(ms: number | undefined | null): string {
  if (!ms && ms !== 0) return '–';
  const d = new Date(ms);
  return isNaN(d.getTime()) ? '–' : d.toLocaleString();
}

/** Number with a fixed number of decimals (no grouping), '–' when missing. */
export function fix(n: number | null | undefined, digits = 3): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–';
  return n.toFixed(digits);
}
