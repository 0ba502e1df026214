/* xdp_pass.c - an XDP program that passes every frame: what attaching XDP alone costs (bench/run.sh nft-xdp) */
/*
 * clang -O2 -target bpf -c bench/xdp_pass.c -o xdp_pass.o
 *
 * An AF_XDP data path (issue 21 item 5) needs an XDP program on the
 * director's interfaces. On a veth, attaching one turns the peer's TCP
 * segmentation offload off (the program must see frames of at most the
 * MTU), whatever the program does; this one does nothing, so that the
 * kernel's own NAT measured with it (system nft-xdp) shows that cost
 * alone, against nft without it, in the same run.
 */
#include <linux/bpf.h>

__attribute__((section("xdp"), used)) int
xdp_pass(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

char _license[] __attribute__((section("license"), used)) = "GPL";
