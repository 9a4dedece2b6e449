import { render, screen } from '@testing-library/svelte';
import '@testing-library/svelte/vitest';
import { describe, expect, it } from 'vitest';
import ProgressBar from './ProgressBar.svelte';

describe('progress bar', () => {
  it('is named, and shows a known fraction', () => {
    render(ProgressBar, { label: 'Transfer win10@3 to cache01', fraction: 0.25, active: true });
    const bar = screen.getByRole<HTMLProgressElement>('progressbar', { name: 'Transfer win10@3 to cache01' });
    expect(bar.value).toBe(0.25);
    expect(bar.hasAttribute('value')).toBe(true);
  });

  it('is indeterminate while running without a known total, not 0 %', () => {
    render(ProgressBar, { label: 'Upload disk.img to cache01', fraction: null, active: true });
    const bar = screen.getByRole<HTMLProgressElement>('progressbar', { name: 'Upload disk.img to cache01' });
    expect(bar.hasAttribute('value')).toBe(false);
    expect(bar.matches(':indeterminate')).toBe(true);
  });

  it('stops moving once the work has ended', () => {
    render(ProgressBar, { label: 'Upload disk.img to cache01', fraction: null, active: false });
    expect(screen.getByRole<HTMLProgressElement>('progressbar').hasAttribute('value')).toBe(true);
  });
});
