/* packet.c - a frame from the TAP: the Ethernet type chooses the family's parser */
#include "packet.h"

enum stat_id
pkt_parse(struct pkt *p, uint8_t *buf, uint32_t len)
{
	p->buf = buf;
	p->data = buf + PKT_VNET_LEN;
	p->len = len;
	p->tcpflags = 0;
	p->af = 0;
	p->frag = PKT_FRAG_NONE;
	p->frag_id = 0;
	p->icmp = PKT_ICMP_OTHER;
	p->csum = PKT_CSUM_FULL;
	p->gso_size = 0;

	if (len < ETH_HLEN_)
		return STAT_DROP_MALFORMED;
	p->ethtype = (uint16_t)(p->data[12] << 8 | p->data[13]);
	switch (p->ethtype) {
	case ETHTYPE_ARP:
		return STAT_NONE;
	case ETHTYPE_IPV4:
		return pkt_parse4(p, len);
	case ETHTYPE_IPV6:
		return pkt_parse6(p, len);
	default:
		return STAT_DROP_UNEXPECTED;
	}
}
