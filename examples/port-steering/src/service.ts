/**
 * The steering service's BPF side: loads `steering.bpf.c` (through its generated skeleton) with its
 * maps pinned in a pin directory, attaches it to a network namespace with a pinned link, and
 * upgrades it in place. A second start with the same pin directory — a restart, or a new version of
 * the program — reuses the pinned maps and swaps the program on the pinned link atomically, so the
 * bindings and registered sockets never go away and no connection misses the program.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { attachNetNs, Link, Program } from '@bpfjs/link';
import type { NetNs } from '@bpfjs/netns';
import { SteeringState } from './state.js';
import { open, type SteeringObject } from './steering.skel.js';

/** Options of {@link SteeringService.start}. */
export interface SteeringServiceOptions {
  /** A directory on a bpf file system: the maps and the link are pinned here. */
  readonly pinDir: string;
  /** The netns to steer in; needed only when no link is pinned yet (the first start). */
  readonly netns?: NetNs | string;
}

/** The pinned link's file name in the pin directory. */
export const LINK_PIN = 'steer_link';

/** The loaded program, its pinned link and the steering state. Closing it leaves all pins in place. */
export class SteeringService implements Disposable {
  #object: SteeringObject;
  readonly #link: Link;
  readonly #pinDir: string;
  /** Bindings and sockets (the pinned maps, through this load's skeleton). */
  #state: SteeringState;

  private constructor(object: SteeringObject, link: Link, pinDir: string) {
    this.#object = object;
    this.#link = link;
    this.#pinDir = pinDir;
    this.#state = new SteeringState(object.maps);
  }

  /**
   * Loads the program (maps pinned by name in `pinDir`: reused when present) and makes it the one
   * the pinned link runs: a fresh link attached to `netns` and pinned on the first start; otherwise
   * `link.update(program, { replace: current })`, which fails (EPERM) rather than overwrite a
   * program someone else attached meanwhile.
   * @throws BpfError from load/attach/update; TypeError when no link is pinned and no netns given.
   */
  static start(options: SteeringServiceOptions): SteeringService {
    const object = open().load({ pinPath: options.pinDir });
    let link: Link | undefined;
    try {
      const linkPath = join(options.pinDir, LINK_PIN);
      if (existsSync(linkPath)) {
        link = Link.fromPin(linkPath);
        replaceProgram(link, object.programs.steer);
      } else {
        if (options.netns === undefined)
          throw new TypeError(`no link pinned at ${linkPath} and no netns given`);
        link = attachNetNs(object.programs.steer, options.netns);
        link.pin(linkPath);
      }
      return new SteeringService(object, link, options.pinDir);
    } catch (e) {
      link?.close();
      object.close();
      throw e;
    }
  }

  /** The bindings and registered sockets. */
  get state(): SteeringState {
    return this.#state;
  }

  /** The program currently loaded by this service. */
  get program(): Program {
    return this.#object.programs.steer;
  }

  /** The pinned link. */
  get link(): Link {
    return this.#link;
  }

  /** Connections steered by this service's current program (its own `.bss` counter). */
  get steered(): bigint {
    return this.#object.variables.steered;
  }

  /**
   * Loads the program again (a new version in a real deployment) and swaps it in atomically: the
   * link runs the old program until the update and the new one from then on, with the same maps.
   * The old program is closed afterwards. Returns the new program's id.
   */
  upgrade(): number {
    const next = open().load({ pinPath: this.#pinDir });
    try {
      this.#link.update(next.programs.steer, { replace: this.#object.programs.steer });
    } catch (e) {
      next.close();
      throw e;
    }
    const old = this.#object;
    this.#object = next;
    this.#state = new SteeringState(next.maps);
    old.close();
    return next.programs.steer.id;
  }

  /** Closes this process's fds; the link, the maps and the registered sockets stay (pinned). */
  close(): void {
    this.#link.close();
    this.#object.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** Makes `link` run `program` in place of whatever it runs now (compare-and-swap on the program). */
function replaceProgram(link: Link, program: Program): void {
  using current = Program.fromId(link.info().programId);
  link.update(program, { replace: current });
}
