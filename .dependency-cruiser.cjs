// The import rules of electron/ and shared/, checked by `npm run check` (depcruise) and proven to
// bite by test/unit/dependency-rules.test.ts. Inside the core one direction only:
//   core.ts -> handlers -> services (transfers, installer/service.ts) -> domain (replication,
//   installer) -> the node port (remote) -> ssh, terminal, secrets -> util.
// The other layer rules (shared/ and the renderer have no Node, only the doors import electron)
// are eslint's (eslint.config.js): they are about packages, not about our own folders.
const CORE = '^electron/core/';
const DOORS = ['main', 'serve', 'cli'];
const layer = (name, comment, from, to) => ({ name, comment, severity: 'error', from: { path: from }, to: { path: to } });

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No import cycle between any two files of electron/ or shared/ (so none between folders either).',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    layer('core-not-doors', 'The core is what the doors (main/, cli/, serve/) wrap: it never imports them.', CORE, `^electron/(${DOORS.join('|')})/`),
    ...DOORS.map((door) =>
      layer(
        `doors-apart-${door}`,
        'A door (window, CLI, browser mode) wraps the core; what two doors share lives in the core.',
        `^electron/${door}/`,
        `^electron/(${DOORS.filter((d) => d !== door).join('|')})/`,
      ),
    ),
    layer('shared-alone', 'shared/ runs on both sides: it imports nothing of electron/.', '^shared/', '^electron/'),
    layer('handlers-only-from-root', 'Only the composition root (core.ts) reaches the handlers.', `${CORE}(?!core\\.ts$|handlers/)`, `${CORE}handlers/`),
    layer(
      'services-from-above',
      'The services (transfers, installer/service.ts) are called by the handlers, never by what they use.',
      `${CORE}(replication|installer|remote|ssh|terminal|secrets|util|audit|jobs|inventory|lab)/`,
      `${CORE}(transfers/|installer/service\\.ts$)`,
    ),
    layer('domain-from-above', 'Replication planning and the installer steps sit above the node port and ssh.', `${CORE}(remote|ssh|terminal|secrets|util|audit|jobs|inventory|lab)/`, `${CORE}(replication|installer)/`),
    layer('domains-apart', 'Replication and the installer do not know each other; a service combines them.', `${CORE}replication/`, `${CORE}installer/`),
    // One exception: the installer places replication's receive wrapper and key on the nodes, and the
    // wrapper is built by the very builder of the receiving end (replication/pipeline.ts), so that
    // the two cannot drift apart.
    { ...layer('domains-apart-back', 'Replication and the installer do not know each other; a service combines them.', `${CORE}installer/`, `${CORE}replication/`), to: { path: `${CORE}replication/`, pathNot: `${CORE}replication/pipeline\\.ts$` } },
    layer('port-from-above', 'The node port (remote/) is built on ssh/, not the other way round.', `${CORE}(ssh|terminal|secrets|util|audit|jobs|inventory)/`, `${CORE}remote/`),
    layer('ssh-over-terminal', 'terminal/ holds the pty sessions that ssh/ builds shells on, secrets/ the keyring ssh/ reads: neither imports ssh/.', `${CORE}(terminal|secrets)/`, `${CORE}ssh/`),
    layer('util-is-a-leaf', 'util/ is what everything uses; it uses nothing else of the core.', `${CORE}util/`, `${CORE}(?!util/)`),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // A type-only import is still a dependency a reader has to follow.
    tsPreCompilationDeps: true,
  },
};
