import { DEFAULT_VIEW, VIEWS, type View, type ViewId } from './views.ts';

export const viewHref = (id: ViewId) => `#/${id}`;

function viewFromHash(hash: string): View {
  const id = hash.replace(/^#\/?/, '');
  return VIEWS.find((v) => v.id === id) ?? VIEWS.find((v) => v.id === DEFAULT_VIEW)!;
}

/**
 * Hash routing (#/hosts): a reload keeps the view, and a hash change stays inside the page,
 * which matters in Electron where every real navigation is denied.
 */
class Router {
  current = $state.raw<View>(viewFromHash(location.hash));

  constructor() {
    window.addEventListener('hashchange', () => {
      this.current = viewFromHash(location.hash);
    });
  }

  go(id: ViewId): void {
    location.hash = viewHref(id);
  }
}

export const router = new Router();
