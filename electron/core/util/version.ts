import pkg from '../../../package.json' with { type: 'json' };

/** From package.json, so the doors and the packaged app never disagree on the version. */
export const APP_VERSION: string = pkg.version;
