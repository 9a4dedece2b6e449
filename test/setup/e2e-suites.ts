// The browser group's setup file: each of its files fails, with the install command, when a package is missing.
import { requireSystemPackages } from './system-packages.ts';

requireSystemPackages('browser', ...(process.env.ICBD_LAB_TESTS === 'skip' ? [] : (['lab'] as const)));
