/**
 * The one place the CLI touches the object API (@bpfjs/link, @bpfjs/netns): opening objects named
 * on the command line and listing what exists. Everything here closes what it opens.
 */
import { Link, type LinkInfo, links, Program, type ProgramInfo, programs, queryPrograms } from '@bpfjs/link';
import { NetNs } from '@bpfjs/netns';
import { describeSelector, type Selector, withContext } from './context.js';

/** A link opened by `<id | pinned path>` (a typed `Link` subclass). Caller closes it. */
export function openLink(sel: Selector): Link {
  return withContext(describeSelector(sel, 'link'), () =>
    sel.kind === 'id' ? Link.fromId(sel.id) : Link.fromPin(sel.path),
  );
}

/** A program opened by `<id | pinned path>`. Caller closes it. */
export function openProgram(sel: Selector): Program {
  return withContext(describeSelector(sel, 'program'), () =>
    sel.kind === 'id' ? Program.fromId(sel.id) : Program.fromPin(sel.path),
  );
}

/** The info of every link on the system (links that vanish while listing are skipped). */
export function allLinkInfos(): LinkInfo[] {
  return [...links()];
}

/** The info of every loaded program. */
export function allProgramInfos(): ProgramInfo[] {
  return [...programs()];
}

/**
 * Opens a netns named on the command line: a name under `/run/netns` (iproute2's `ip netns`), or
 * a path (anything with a `/`, e.g. `/proc/1234/ns/net`). Caller closes it.
 */
export function openNetNs(nameOrPath: string): NetNs {
  return withContext(`netns ${nameOrPath}`, () =>
    nameOrPath.includes('/') ? NetNs.open(nameOrPath) : NetNs.fromName(nameOrPath),
  );
}

/** Names of the named netns (`ip netns list`). */
export function netnsNames(): string[] {
  return NetNs.list();
}

/** Program ids attached to `ns` for `attachType`, in the kernel's order. */
export function attachedPrograms(ns: NetNs, attachType: string): number[] {
  return [...queryPrograms(ns, attachType).programIds];
}
