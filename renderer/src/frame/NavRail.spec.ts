import { render, screen } from '@testing-library/svelte';
import '@testing-library/svelte/vitest';
import { userEvent } from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { VIEWS } from '../lib/views.ts';
import NavRail from './NavRail.svelte';

const install = VIEWS[2];

describe('NavRail', () => {
  it('is a labelled navigation of links to every view, the current one marked', () => {
    render(NavRail, { views: VIEWS, current: install });
    const nav = screen.getByRole('navigation', { name: 'Views' });
    const links = screen.getAllByRole('link');
    expect(nav.contains(links[0]!)).toBe(true);
    expect(links.map((a) => a.getAttribute('href'))).toEqual(['#/overview', '#/hosts', '#/install', '#/snapshots', '#/transfers', '#/terminal', '#/audit', '#/schedules']);
    expect(links.map((a) => a.getAttribute('aria-current'))).toEqual([null, null, 'page', null, null, null, null, null]);
    expect(links[6]!.getAttribute('aria-keyshortcuts')).toBe('Control+7');
    expect(links[7]!.getAttribute('aria-keyshortcuts')).toBe('Control+8');
  });

  it('is one tab stop; the arrow keys, Home and End move along it and wrap', async () => {
    const user = userEvent.setup();
    render(NavRail, { views: VIEWS, current: install });
    const links = screen.getAllByRole('link');
    expect(links.map((a) => a.tabIndex)).toEqual([-1, -1, 0, -1, -1, -1, -1, -1]);
    await user.tab();
    expect(document.activeElement).toBe(links[2]);
    await user.keyboard('{ArrowDown}');
    expect(document.activeElement).toBe(links[3]);
    await user.keyboard('{ArrowUp}{ArrowUp}{ArrowUp}{ArrowUp}');
    expect(document.activeElement).toBe(links[7]);
    await user.keyboard('{ArrowDown}');
    expect(document.activeElement).toBe(links[0]);
    await user.keyboard('{End}');
    expect(document.activeElement).toBe(links[7]);
    await user.keyboard('{Home}');
    expect(document.activeElement).toBe(links[0]);
  });
});
