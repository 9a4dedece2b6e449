// ssh2's internal crypto module: @types/ssh2 does not describe it, and only this flag is read.
declare module 'ssh2/lib/protocol/crypto.js' {
  export const bindingAvailable: boolean;
}
