// @bpfjs/link against the init-netns cases of the conformance suite: machine-global (the init
// netns's flow dissector), so serial.
import { runNetNsLinkConformance } from './conformance.js';

runNetNsLinkConformance(undefined, { initNetns: true, skipChildNetns: true });
