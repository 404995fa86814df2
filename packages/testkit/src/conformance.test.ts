// @bpfjs/link against the exported netns link conformance suite (child netns cases).
import { runNetNsLinkConformance } from './conformance.js';

runNetNsLinkConformance();
