import type { MenuItemConstructorOptions } from 'electron';
import { describe, expect, it, vi } from 'vitest';

// menu.ts builds the real menu with electron's Menu; the template itself is plain data.
vi.mock('electron', () => ({ dialog: {}, Menu: {}, shell: {} }));
const { APP_NAME, aboutDetail, contextMenuTemplate, menuTemplate } = await import('../../../electron/main/menu.ts');

const ctx = { version: '1.2.3', home: '/home/op/.config/iCBD Console', dev: false, platform: 'linux' as NodeJS.Platform };
const actions = { about: vi.fn(), showDataFolder: vi.fn() };

const items = (menu: MenuItemConstructorOptions | undefined) => (menu?.submenu ?? []) as MenuItemConstructorOptions[];
const roles = (menu: MenuItemConstructorOptions | undefined) => items(menu).map((i) => i.role ?? i.label ?? i.type);
const find = (template: MenuItemConstructorOptions[], label: string) => template.find((m) => m.label === label || m.role === label);

describe('application menu', () => {
  it('has File, Edit, View, Window and Help', () => {
    expect(menuTemplate(ctx, actions).map((m) => m.label ?? m.role)).toEqual(['&File', '&Edit', '&View', 'windowMenu', 'help']);
  });

  it('quits from File and edits text with the standard roles', () => {
    const template = menuTemplate(ctx, actions);
    expect(roles(find(template, '&File'))).toEqual(['quit']);
    expect(roles(find(template, '&Edit'))).toEqual(expect.arrayContaining(['undo', 'redo', 'cut', 'copy', 'paste', 'selectAll']));
  });

  it('offers reload and developer tools only while developing', () => {
    const packaged = roles(find(menuTemplate(ctx, actions), '&View'));
    expect(packaged).toEqual(['resetZoom', 'zoomIn', 'zoomOut', 'separator', 'togglefullscreen']);
    const dev = roles(find(menuTemplate({ ...ctx, dev: true }, actions), '&View'));
    expect(dev).toEqual(expect.arrayContaining(['reload', 'toggleDevTools', 'togglefullscreen', 'zoomIn']));
  });

  it('shows About and the data folder from Help', () => {
    const help = items(find(menuTemplate(ctx, actions), 'help'));
    help.find((i) => i.label === `About ${APP_NAME}`)!.click!({} as never, undefined, {} as never);
    help.find((i) => i.label === 'Show Data Folder')!.click!({} as never, undefined, {} as never);
    expect(actions.about).toHaveBeenCalledOnce();
    expect(actions.showDataFolder).toHaveBeenCalledOnce();
  });

  it('puts About in the application menu on macOS', () => {
    const template = menuTemplate({ ...ctx, platform: 'darwin' }, actions);
    expect(template[0]!.label).toBe(APP_NAME);
    expect(items(template[0]).map((i) => i.label ?? i.role ?? i.type)).toEqual(expect.arrayContaining([`About ${APP_NAME}`, 'quit']));
    expect(roles(find(template, '&File'))).toEqual(['close']);
  });

  it('says where the data is in About', () => {
    const detail = aboutDetail(ctx, { ...process.versions, electron: '45.5.0', chrome: '140.0.0.0' });
    expect(detail).toContain(`Data directory: ${ctx.home}`);
    expect(detail).toContain('Electron 45.5.0');
  });
});

describe('context menu', () => {
  it('offers cut, copy, paste and select all, each enabled only when the page allows it', () => {
    const template = contextMenuTemplate({ canCut: false, canCopy: true, canPaste: true, canSelectAll: true });
    expect(template.map((i) => i.role ?? i.type)).toEqual(['cut', 'copy', 'paste', 'separator', 'selectAll']);
    expect(template.filter((i) => i.role).map((i) => i.enabled)).toEqual([false, true, true, true]);
  });
});
