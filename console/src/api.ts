// Thin client for the public Souk HTTP API (/v1/...). Same origin; the API key
// lives in localStorage under 'souk.key' and goes out as a Bearer token.

export const KEY_STORAGE = 'souk.key';

/** An error answer from the API: HTTP status plus the body's error code/field. */
export class ApiError extends Error {
  status: number;
  code: string;
  field?: string;
  requestId?: string;
  constructor(status: number, code: string, message: string, field?: string, requestId?: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.field = field;
    this.requestId = requestId;
  }
  /** True when the route does not exist on this server (yet). */
  get notAvailable(): boolean {
    return this.status === 404 && this.code === 'not_found' && /no route/i.test(this.message);
  }
}

export function getKey(): string {
  try {
    return localStorage.getItem(KEY_STORAGE) ?? '';
  } catch {
    return '';
  }
}

export function setKey(key: string): void {
  try {
    if (key) localStorage.setItem(KEY_STORAGE, key);
    else localStorage.removeItem(KEY_STORAGE);
  } catch {
    /* storage disabled: the key lives for this page only */
  }
  authListeners.forEach((f) => f());
}

// The shell listens for 401/403 answers to show the key form again.
type AuthListener = () => void;
const authListeners = new Set<AuthListener>();
const authFailureListeners = new Set<(e: ApiError) => void>();
export function onKeyChange(f: AuthListener): () => void {
  authListeners.add(f);
  return () => authListeners.delete(f);
}
export function onAuthFailure(f: (e: ApiError) => void): () => void {
  authFailureListeners.add(f);
  return () => authFailureListeners.delete(f);
}

/** Query parameters; an array value repeats the parameter (facet=a&facet=b). */
export type Params = Record<string, string | number | boolean | undefined | (string | number)[]>;

function url(path: string, params?: Params): string {
  const q = new URLSearchParams();
  if (params) {
    for (const [k, v] of Object.entries(params)) {
      if (v === undefined || v === '') continue;
      if (Array.isArray(v)) v.forEach((x) => q.append(k, String(x)));
      else q.set(k, String(v));
    }
  }
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

async function request<T>(method: string, path: string, body?: unknown, accept = 'application/json'): Promise<T> {
  const headers: Record<string, string> = { Accept: accept };
  const key = getKey();
  if (key) headers.Authorization = `Bearer ${key}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, 'network', `network error: ${(e as Error).message}`);
  }
  const text = await res.text();
  if (!res.ok) {
    let code = 'http_' + res.status;
    let message = text || res.statusText;
    let field: string | undefined;
    let requestId: string | undefined;
    try {
      const j = JSON.parse(text);
      if (j && j.error) {
        code = j.error.code ?? code;
        message = j.error.message ?? message;
        field = j.error.field;
        requestId = j.error.request_id;
      }
    } catch {
      /* not JSON */
    }
    const err = new ApiError(res.status, code, message, field, requestId);
    if (res.status === 401 || res.status === 403) authFailureListeners.forEach((f) => f(err));
    throw err;
  }
  if (accept !== 'application/json') return text as unknown as T;
  if (!text) return undefined as unknown as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ApiError(res.status, 'bad_json', 'the server answered with something that is not JSON');
  }
}

export async function apiGet<T = any>(path: string, params?: Params): Promise<T> {
  return request<T>('GET', url(path, params));
}

export async function apiPost<T = any>(path: string, body?: unknown): Promise<T> {
  return request<T>('POST', path, body ?? {});
}

export async function apiDelete<T = any>(path: string): Promise<T> {
  return request<T>('DELETE', path);
}

/** GET /metrics as Prometheus text (admin key). */
export async function metricsText(): Promise<string> {
  return request<string>('GET', '/metrics', undefined, 'text/plain');
}

/** One sample of a Prometheus text exposition. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses Prometheus text format (comments skipped). */
export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    if (m[3]) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
      let lm: RegExpExecArray | null;
      while ((lm = re.exec(m[3]))) labels[lm[1]] = lm[2].replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    }
    const value = Number(m[4]);
    if (Number.isFinite(value)) out.push({ name: m[1], labels, value });
  }
  return out;
}
