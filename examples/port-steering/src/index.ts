/**
 * Port steering with sk_lookup (example): the service's BPF side, the pinned steering state and the
 * CLI.
 *
 * @packageDocumentation
 */
export { DEFAULT_PIN_DIR, type Io, run } from './cli.js';
export { LINK_PIN, SteeringService, type SteeringServiceOptions } from './service.js';
export {
  type BindingRow,
  LABEL_MAX,
  type Metrics,
  PROTOCOLS,
  type Protocol,
  rangePrefixes,
  SteeringState,
} from './state.js';
