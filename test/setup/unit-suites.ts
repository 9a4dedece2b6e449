// The unit group's setup file: each of its files fails, with the install command, when a package is missing.
import { requireSystemPackages } from './system-packages.ts';

requireSystemPackages('unit');
