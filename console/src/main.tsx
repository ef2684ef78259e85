import { render } from 'preact';
import { App } from './app';
import { setKey } from './api';
import './style.css';

// `?key=sk_...` in the address: store it, then drop it from the address bar so
// it does not stay in the history or get shared by copy-paste.
function takeKeyFromUrl(): void {
  const url = new URL(location.href);
  let key = url.searchParams.get('key');
  if (key) url.searchParams.delete('key');
  // Also accept it inside the hash route: '#/search?key=...'.
  const [hp, hq] = url.hash.split('?', 2);
  if (hq) {
    const q = new URLSearchParams(hq);
    const hk = q.get('key');
    if (hk) {
      key = key ?? hk;
      q.delete('key');
      const rest = q.toString();
      url.hash = rest ? `${hp}?${rest}` : hp;
    }
  }
  if (key) {
    setKey(key.trim());
    history.replaceState(null, '', url.pathname + url.search + url.hash);
  }
}

takeKeyFromUrl();
render(<App />, document.getElementById('app')!);
