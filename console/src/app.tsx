// The console shell: header, navigation, language switch, API-key form and
// the hash router that picks one of the seven pages.
import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { getKey, onAuthFailure, onKeyChange, setKey, ApiError } from './api';
import { setLang, useLang, useT } from './i18n';
import { useRoute } from './router';

// Every page file exports `default function Page()`. The glob imports all of
// them eagerly (they share one bundle) and keeps the build green while a page
// is still being written.
const modules = import.meta.glob<{ default: ComponentType }>('./pages/*.tsx', { eager: true });
function pageOf(name: string): ComponentType | undefined {
  return modules[`./pages/${name}.tsx`]?.default;
}

interface NavItem {
  name: string;
  path: string;
  file: string;
}
const NAV: NavItem[] = [
  { name: 'overview', path: '/', file: 'overview' },
  { name: 'search', path: '/search', file: 'search' },
  { name: 'shopper', path: '/shopper', file: 'shopper' },
  { name: 'evaluation', path: '/evaluation', file: 'evaluation' },
  { name: 'quality', path: '/quality', file: 'quality' },
  { name: 'experiments', path: '/experiments', file: 'experiments' },
  { name: 'learn', path: '/learn', file: 'learn' },
];

const dict = {
  en: {
    product: 'Souk',
    subtitle: 'console',
    overview: 'Overview',
    search: 'Search',
    shopper: 'Shopper',
    evaluation: 'Evaluation',
    quality: 'Data quality',
    experiments: 'Experiments',
    learn: 'Learn',
    menu: 'Menu',
    mainNav: 'Main',
    switchTo: '中文',
    switchLabel: 'Switch language to Chinese',
    keyTitle: 'API key',
    keyHelp: 'The console talks to the engine through its public HTTP API. Paste an admin key (create one with `souk keys create --role admin`). It is kept in this browser only.',
    keyRejected: 'The server rejected the key ({code}). Enter another one.',
    keyPlaceholder: 'sk_…',
    save: 'Save',
    cancel: 'Cancel',
    changeKey: 'Key',
    changeKeyLabel: 'Change API key',
    notFound: 'No such page: {path}',
    pageMissing: 'This page is not built yet.',
    skip: 'Skip to content',
  },
  zh: {
    product: 'Souk',
    subtitle: '控制台',
    overview: '总览',
    search: '搜索',
    shopper: '顾客',
    evaluation: '评估',
    quality: '数据质量',
    experiments: '实验',
    learn: '教程',
    menu: '菜单',
    mainNav: '主导航',
    switchTo: 'EN',
    switchLabel: '切换到英文',
    keyTitle: 'API 密钥',
    keyHelp: '控制台通过公开的 HTTP API 与引擎通信。请粘贴管理员密钥（用 `souk keys create --role admin` 创建）。密钥只保存在此浏览器中。',
    keyRejected: '服务器拒绝了该密钥（{code}）。请输入另一个。',
    keyPlaceholder: 'sk_…',
    save: '保存',
    cancel: '取消',
    changeKey: '密钥',
    changeKeyLabel: '更换 API 密钥',
    notFound: '没有这个页面：{path}',
    pageMissing: '此页面尚未完成。',
    skip: '跳到正文',
  },
};

function KeyForm(props: { rejected?: ApiError | null; onDone: () => void; canCancel: boolean }) {
  const t = useT(dict);
  const [value, setValue] = useState('');
  return (
    <form
      class="key-form card"
      data-testid="api-key-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (!value.trim()) return;
        setKey(value.trim());
        props.onDone();
      }}
    >
      <h2>{t('keyTitle')}</h2>
      <p class="muted">{t('keyHelp')}</p>
      {props.rejected && (
        <p class="error" role="alert">
          {t('keyRejected', { code: props.rejected.code })}
        </p>
      )}
      <div class="row">
        <label class="sr-only" for="api-key-input">
          {t('keyTitle')}
        </label>
        <input
          id="api-key-input"
          data-testid="api-key-input"
          type="password"
          autocomplete="off"
          placeholder={t('keyPlaceholder')}
          value={value}
          onInput={(e) => setValue((e.target as HTMLInputElement).value)}
        />
        <button type="submit" class="btn primary" data-testid="api-key-save">
          {t('save')}
        </button>
        {props.canCancel && (
          <button type="button" class="btn" onClick={props.onDone}>
            {t('cancel')}
          </button>
        )}
      </div>
    </form>
  );
}

export function App() {
  const t = useT(dict);
  const lang = useLang();
  const route = useRoute();
  const [hasKey, setHasKey] = useState(() => !!getKey());
  const [rejected, setRejected] = useState<ApiError | null>(null);
  const [showKey, setShowKey] = useState(false);
  const [menuOpen, setMenuOpen] = useState(false);
  const [epoch, setEpoch] = useState(0); // remounts the page after a key change

  useEffect(() => {
    const off1 = onKeyChange(() => {
      setHasKey(!!getKey());
      setRejected(null);
      setEpoch((e) => e + 1);
    });
    const off2 = onAuthFailure((e) => setRejected(e));
    return () => {
      off1();
      off2();
    };
  }, []);

  useEffect(() => {
    setMenuOpen(false);
    window.scrollTo(0, 0);
  }, [route.path]);

  const current = NAV.find((n) => n.path === route.path);
  const Page = current ? pageOf(current.file) : undefined;
  const needKey = !hasKey || !!rejected || showKey;

  return (
    <div class="shell">
      <a class="skip" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById('main')?.focus(); }}>
        {t('skip')}
      </a>
      <header class="topbar">
        <a class="brand" href="#/" data-testid="brand">
          <span class="logo" aria-hidden="true">◆</span>
          <span>{t('product')}</span>
          <span class="brand-sub">{t('subtitle')}</span>
        </a>
        <button
          type="button"
          class="btn menu-btn"
          data-testid="menu-button"
          aria-expanded={menuOpen}
          aria-controls="main-nav"
          onClick={() => setMenuOpen(!menuOpen)}
        >
          <span aria-hidden="true">☰</span> {t('menu')}
        </button>
        <nav id="main-nav" class={menuOpen ? 'nav open' : 'nav'} aria-label={t('mainNav')}>
          {NAV.map((n) => (
            <a
              key={n.name}
              href={'#' + n.path}
              data-testid={`nav-${n.name}`}
              class={current?.name === n.name ? 'active' : ''}
              aria-current={current?.name === n.name ? 'page' : undefined}
            >
              {t(n.name as keyof typeof dict.en)}
            </a>
          ))}
        </nav>
        <div class="top-actions">
          <button
            type="button"
            class="btn small"
            data-testid="key-button"
            title={t('changeKeyLabel')}
            onClick={() => setShowKey(!showKey)}
          >
            {t('changeKey')}
          </button>
          <button
            type="button"
            class="btn small"
            data-testid="lang-switch"
            title={t('switchLabel')}
            lang={lang === 'en' ? 'zh' : 'en'}
            onClick={() => setLang(lang === 'en' ? 'zh' : 'en')}
          >
            {t('switchTo')}
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {needKey && (
          <KeyForm
            rejected={rejected}
            canCancel={hasKey && !rejected}
            onDone={() => {
              setShowKey(false);
              setRejected(null);
              setEpoch((e) => e + 1);
            }}
          />
        )}
        {hasKey &&
          (current ? (
            Page ? (
              <Page key={`${current.name}-${epoch}`} />
            ) : (
              <div class="notice" data-testid={`page-${current.name}`}>
                {t('pageMissing')}
              </div>
            )
          ) : (
            <div class="notice">{t('notFound', { path: route.path })}</div>
          ))}
      </main>
    </div>
  );
}
