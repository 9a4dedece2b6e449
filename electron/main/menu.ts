import { dialog, Menu, shell, type BrowserWindow, type MenuItemConstructorOptions, type WebContents } from 'electron';

export const APP_NAME = 'iCBD Console';

export interface MenuContext {
  version: string;
  /** The data directory (resolveHome()), shown in About and opened by "Show Data Folder". */
  home: string;
  /** Reload and developer tools only while developing: a packaged app has nothing to reload from. */
  dev: boolean;
  platform: NodeJS.Platform;
}

export interface MenuActions {
  about(): void;
  showDataFolder(): void;
}

const separator: MenuItemConstructorOptions = { type: 'separator' };

/** The application menu as data, so a test can read it without Electron. */
export function menuTemplate(ctx: MenuContext, actions: MenuActions): MenuItemConstructorOptions[] {
  const mac = ctx.platform === 'darwin';
  const about: MenuItemConstructorOptions = { label: `About ${APP_NAME}`, click: actions.about };
  const appMenu: MenuItemConstructorOptions = {
    label: APP_NAME,
    submenu: [about, separator, { role: 'services' }, separator, { role: 'hide' }, { role: 'hideOthers' }, { role: 'unhide' }, separator, { role: 'quit' }],
  };
  return [
    ...(mac ? [appMenu] : []),
    { label: '&File', submenu: [mac ? { role: 'close' } : { role: 'quit' }] },
    {
      label: '&Edit',
      submenu: [{ role: 'undo' }, { role: 'redo' }, separator, { role: 'cut' }, { role: 'copy' }, { role: 'paste' }, { role: 'delete' }, separator, { role: 'selectAll' }],
    },
    {
      label: '&View',
      submenu: [
        ...(ctx.dev ? [{ role: 'reload' }, { role: 'forceReload' }, { role: 'toggleDevTools' }, separator] satisfies MenuItemConstructorOptions[] : []),
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        separator,
        { role: 'togglefullscreen' },
      ],
    },
    { role: 'windowMenu' },
    {
      role: 'help',
      submenu: [{ label: 'Show Data Folder', click: actions.showDataFolder }, ...(mac ? [] : [separator, about])],
    },
  ];
}

export function aboutDetail(ctx: MenuContext, versions: NodeJS.ProcessVersions = process.versions): string {
  return [
    `Data directory: ${ctx.home}`,
    '',
    `Electron ${versions.electron ?? '?'}, Chromium ${versions.chrome ?? '?'}, Node ${versions.node}`,
  ].join('\n');
}

/** Builds the menu and makes it the application menu; `window` is the dialogs' parent. */
export function installMenu(ctx: MenuContext, window: () => BrowserWindow | undefined): void {
  const actions: MenuActions = {
    about() {
      const options = { type: 'info' as const, title: `About ${APP_NAME}`, message: `${APP_NAME} ${ctx.version}`, detail: aboutDetail(ctx), buttons: ['OK'] };
      const parent = window();
      void (parent ? dialog.showMessageBox(parent, options) : dialog.showMessageBox(options));
    },
    showDataFolder() {
      void shell.openPath(ctx.home).then((error) => {
        if (error) dialog.showErrorBox('Could not open the data folder', `${error}\n\nIt is ${ctx.home}; open it with your file manager.`);
      });
    },
  };
  Menu.setApplicationMenu(Menu.buildFromTemplate(menuTemplate(ctx, actions)));
}

/**
 * The right-click menu of the page: cut, copy, paste and select all, enabled as the page's
 * selection allows. Without it Electron shows none, and the terminal's copy and paste are
 * reachable only by keyboard.
 */
export function contextMenuTemplate(flags: { canCut: boolean; canCopy: boolean; canPaste: boolean; canSelectAll: boolean }): MenuItemConstructorOptions[] {
  return [
    { role: 'cut', enabled: flags.canCut },
    { role: 'copy', enabled: flags.canCopy },
    { role: 'paste', enabled: flags.canPaste },
    { type: 'separator' },
    { role: 'selectAll', enabled: flags.canSelectAll },
  ];
}

export function installContextMenu(contents: WebContents): void {
  contents.on('context-menu', (_event, params) => Menu.buildFromTemplate(contextMenuTemplate(params.editFlags)).popup());
}
