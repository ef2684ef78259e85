import { defineConfig } from 'vite';

// The console is served by `souk serve` under /console. During development
// (`npm run dev`) Vite proxies the public API to a running server, whose
// address comes from SOUK_URL (default http://127.0.0.1:8090).
const target = process.env.SOUK_URL ?? 'http://127.0.0.1:8090';

export default defineConfig({
  base: '/console/',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2020',
    chunkSizeWarningLimit: 900,
    // ECharts is most of the weight and changes rarely: its own chunk caches well.
    rollupOptions: {
      output: {
        manualChunks(id: string) {
          if (id.includes('node_modules/echarts') || id.includes('node_modules/zrender')) return 'echarts';
          if (id.includes('node_modules/preact')) return 'preact';
          return undefined;
        },
      },
    },
  },
  server: {
    port: 5173,
    proxy: {
      '/v1': { target, changeOrigin: true },
      '/metrics': { target, changeOrigin: true },
      '/healthz': { target, changeOrigin: true },
    },
  },
  preview: {
    port: 4173,
    proxy: {
      '/v1': { target, changeOrigin: true },
      '/metrics': { target, changeOrigin: true },
      '/healthz': { target, changeOrigin: true },
    },
  },
});
