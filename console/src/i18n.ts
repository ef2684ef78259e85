// Tiny i18n: a global language (persisted in localStorage 'souk.lang') and
// per-page dictionaries. Components re-render on a switch through useLang().
import { useEffect, useState } from 'preact/hooks';

export type Lang = 'en' | 'zh';
const STORAGE = 'souk.lang';
const listeners = new Set<(l: Lang) => void>();

function initial(): Lang {
  try {
    const s = localStorage.getItem(STORAGE);
    if (s === 'en' || s === 'zh') return s;
  } catch {
    /* ignore */
  }
  return 'en';
}

let current: Lang = initial();

export function getLang(): Lang {
  return current;
}

export function setLang(l: Lang): void {
  if (l === current) return;
  current = l;
  try {
    localStorage.setItem(STORAGE, l);
  } catch {
    /* ignore */
  }
  document.documentElement.lang = l === 'zh' ? 'zh-CN' : 'en';
  listeners.forEach((f) => f(l));
}

/** The current language; the calling component re-renders on a switch. */
export function useLang(): Lang {
  const [lang, set] = useState<Lang>(current);
  useEffect(() => {
    listeners.add(set);
    if (lang !== current) set(current);
    return () => {
      listeners.delete(set);
    };
  }, []);
  return lang;
}

/** Formats `{name}` placeholders. */
export function format(s: string, vars?: Record<string, string | number>): string {
  if (!vars) return s;
  return s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
}

/** Returns t(key, vars) for the current language; falls back to English, then the key. */
export function useT<D extends { en: Record<string, string>; zh: Record<string, string> }>(
  dict: D,
): (key: keyof D['en'], vars?: Record<string, string | number>) => string {
  const lang = useLang();
  return (key, vars) => {
    const k = key as string;
    const s = (dict[lang] as Record<string, string>)[k] ?? (dict.en as Record<string, string>)[k] ?? k;
    return format(s, vars);
  };
}

/** Number formatting that follows the language. */
export function fmtNum(n: number | null | undefined, digits = 0): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–';
  return n.toLocaleString(current === 'zh' ? 'zh-CN' : 'en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

document.documentElement.lang = current === 'zh' ? 'zh-CN' : 'en';
