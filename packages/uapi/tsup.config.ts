import { packageConfig } from '../../tsup.base';

export default packageConfig({
  index: 'src/index.ts',
  'linux/bpf': 'src/generated/linux/bpf.ts',
  'linux/bpf_common': 'src/generated/linux/bpf_common.ts',
  'linux/btf': 'src/generated/linux/btf.ts',
  'linux/if_link': 'src/generated/linux/if_link.ts',
  'linux/if_xdp': 'src/generated/linux/if_xdp.ts',
  'linux/netlink': 'src/generated/linux/netlink.ts',
});
