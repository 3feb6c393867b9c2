/*
 * dp_net.c — L2-L4 validation and header building (dp_net.h).
 *
 * Threading: pure functions, any lcore.  Validation order follows the
 * headers outwards-in so each frame is charged to the first thing wrong
 * with it; everything the fast path accepts is well formed.
 */
#include <errno.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "dp_net.h"

static enum dp_pkt_kind drop(struct dp_pkt_info *pi, enum sfu_drop why)
{
	pi->drop = why;
	return DP_PKT_DROP;
}

uint16_t dp_cksum(const void *buf, size_t len, uint32_t init)
{
	const uint8_t *p = buf;
	uint64_t sum = init, a = 0, b = 0;

	/* Two accumulators keep the adds independent; 2^32 words cannot
	 * overflow 64 bits for any packet. */
	for (; len >= 16; len -= 16, p += 16) {
		uint32_t w[4];

		memcpy(w, p, sizeof(w));
		a += (uint64_t)w[0] + w[2];
		b += (uint64_t)w[1] + w[3];
	}
	sum += a + b;
	for (; len >= 4; len -= 4, p += 4) {
		uint32_t w;

		memcpy(&w, p, sizeof(w));
		sum += w;
	}
	if (len >= 2) {
		uint16_t h;

		memcpy(&h, p, sizeof(h));
		sum += h;
		p += 2;
		len -= 2;
	}
	if (len) {
		uint16_t h = 0;

		memcpy(&h, p, 1);
		sum += h;
	}
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* RFC 768: pseudo-header + datagram, checksum included, sums to 0xffff. */
static bool udp_csum_ok(const struct rte_ipv4_hdr *ip, const struct rte_udp_hdr *udp,
			uint16_t ulen)
{
	return dp_cksum(udp, ulen, rte_ipv4_phdr_cksum(ip, 0)) == 0xffff;
}

static enum dp_pkt_kind parse_ipv4(const uint8_t *p, uint32_t len, const struct dp_iface *ifc,
				   struct dp_pkt_info *pi)
{
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(p + pi->l3_off);
	uint32_t avail = len - pi->l3_off;
	uint16_t tot, frag;

	if (avail < sizeof(*ip))
		return drop(pi, SFU_DROP_IP_SHORT);
	if ((ip->version_ihl >> 4) != 4)
		return drop(pi, SFU_DROP_IP_VERSION);
	if ((ip->version_ihl & 0xf) < 5)
		return drop(pi, SFU_DROP_IP_LEN);
	/* RFC 791 options are legal but never needed by media: a cheap filter. */
	if ((ip->version_ihl & 0xf) != 5)
		return drop(pi, SFU_DROP_IP_OPTIONS);
	tot = rte_be_to_cpu_16(ip->total_length);
	/* Ethernet pads short frames: trailing bytes beyond total_length are fine. */
	if (tot < sizeof(*ip) || tot > avail)
		return drop(pi, SFU_DROP_IP_LEN);
	/* With the checksum field included a valid header sums to 0xffff,
	 * whose complement rte_ipv4_cksum returns as 0. */
	if (rte_ipv4_cksum(ip) != 0)
		return drop(pi, SFU_DROP_IP_CSUM);
	frag = rte_be_to_cpu_16(ip->fragment_offset);
	if ((frag & RTE_IPV4_HDR_MF_FLAG) || (frag & RTE_IPV4_HDR_OFFSET_MASK))
		return drop(pi, SFU_DROP_IP_FRAGMENT);
	pi->src_ip = rte_be_to_cpu_32(ip->src_addr);
	pi->dst_ip = rte_be_to_cpu_32(ip->dst_addr);
	if (pi->dst_ip != ifc->ip)
		return drop(pi, SFU_DROP_IP_DST);
	pi->l4_off = (uint16_t)(pi->l3_off + sizeof(*ip));

	if (ip->next_proto_id == IPPROTO_UDP) {
		const struct rte_udp_hdr *udp = (const struct rte_udp_hdr *)(p + pi->l4_off);
		uint16_t l4len = (uint16_t)(tot - sizeof(*ip)), ulen;

		if (l4len < sizeof(*udp))
			return drop(pi, SFU_DROP_UDP_SHORT);
		ulen = rte_be_to_cpu_16(udp->dgram_len);
		if (ulen < sizeof(*udp) || ulen != l4len)
			return drop(pi, SFU_DROP_UDP_LEN);
		if (ifc->check_udp_csum && udp->dgram_cksum != 0 && !udp_csum_ok(ip, udp, ulen))
			return drop(pi, SFU_DROP_UDP_CSUM);
		pi->src_port = rte_be_to_cpu_16(udp->src_port);
		pi->dst_port = rte_be_to_cpu_16(udp->dst_port);
		if (pi->dst_port < ifc->port_min || pi->dst_port > ifc->port_max)
			return drop(pi, SFU_DROP_UDP_PORT);
		pi->payload_off = (uint16_t)(pi->l4_off + sizeof(*udp));
		pi->payload_len = (uint16_t)(ulen - sizeof(*udp));
		return DP_PKT_UDP;
	}
	if (ip->next_proto_id == IPPROTO_ICMP) {
		const struct rte_icmp_hdr *icmp = (const struct rte_icmp_hdr *)(p + pi->l4_off);
		uint16_t l4len = (uint16_t)(tot - sizeof(*ip));

		if (l4len < sizeof(*icmp))
			return drop(pi, SFU_DROP_ICMP_MALFORMED);
		if (rte_raw_cksum(icmp, l4len) != 0xffff)
			return drop(pi, SFU_DROP_ICMP_MALFORMED);
		if (icmp->icmp_type != RTE_IP_ICMP_ECHO_REQUEST || icmp->icmp_code != 0)
			return drop(pi, SFU_DROP_ICMP_UNSUPPORTED);
		pi->payload_off = pi->l4_off;
		pi->payload_len = l4len;
		return DP_PKT_ICMP_ECHO;
	}
	return drop(pi, SFU_DROP_IP_PROTO);
}

enum dp_pkt_kind dp_parse_frame(const uint8_t *p, uint32_t len, const struct dp_iface *ifc,
				 struct dp_pkt_info *pi)
{
	const struct rte_ether_hdr *eth = (const struct rte_ether_hdr *)p;
	uint16_t type;

	memset(pi, 0, sizeof(*pi));
	if (len < sizeof(*eth))
		return drop(pi, SFU_DROP_ETH_SHORT);
	type = rte_be_to_cpu_16(eth->ether_type);
	pi->l3_off = sizeof(*eth);
	if (type == RTE_ETHER_TYPE_ARP) {
		/* ARP requests are broadcast; replies are unicast to us. */
		if (!rte_is_broadcast_ether_addr(&eth->dst_addr) &&
		    !rte_is_same_ether_addr(&eth->dst_addr, &ifc->mac))
			return drop(pi, SFU_DROP_ETH_DST);
		return DP_PKT_ARP;
	}
	if (!rte_is_same_ether_addr(&eth->dst_addr, &ifc->mac))
		return drop(pi, SFU_DROP_ETH_DST);
	if (type != RTE_ETHER_TYPE_IPV4)
		return drop(pi, SFU_DROP_ETH_TYPE);
	return parse_ipv4(p, len, ifc, pi);
}

int dp_arp_parse(const uint8_t *p, uint32_t len, struct dp_arp *arp)
{
	const struct rte_arp_hdr *a = (const struct rte_arp_hdr *)(p + sizeof(struct rte_ether_hdr));
	uint16_t op;

	if (len < sizeof(struct rte_ether_hdr) + sizeof(*a))
		return -EINVAL;
	if (a->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
	    a->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
	    a->arp_hlen != RTE_ETHER_ADDR_LEN || a->arp_plen != 4)
		return -EINVAL;
	op = rte_be_to_cpu_16(a->arp_opcode);
	if (op != RTE_ARP_OP_REQUEST && op != RTE_ARP_OP_REPLY)
		return -EINVAL;
	arp->op = op;
	arp->sha = a->arp_data.arp_sha;
	arp->spa = rte_be_to_cpu_32(a->arp_data.arp_sip);
	arp->tha = a->arp_data.arp_tha;
	arp->tpa = rte_be_to_cpu_32(a->arp_data.arp_tip);
	/* A multicast or zero sender hardware address is never a neighbour. */
	if (!rte_is_unicast_ether_addr(&arp->sha) || rte_is_zero_ether_addr(&arp->sha))
		return -EINVAL;
	return 0;
}

uint32_t dp_arp_build(uint8_t *p, uint16_t op, const struct rte_ether_addr *sha, uint32_t spa,
		      const struct rte_ether_addr *tha, uint32_t tpa)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)p;
	struct rte_arp_hdr *a = (struct rte_arp_hdr *)(eth + 1);
	static const struct rte_ether_addr zero;

	if (op == RTE_ARP_OP_REQUEST)
		memset(&eth->dst_addr, 0xff, sizeof(eth->dst_addr));
	else
		eth->dst_addr = *tha;
	eth->src_addr = *sha;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	a->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	a->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	a->arp_hlen = RTE_ETHER_ADDR_LEN;
	a->arp_plen = 4;
	a->arp_opcode = rte_cpu_to_be_16(op);
	a->arp_data.arp_sha = *sha;
	a->arp_data.arp_sip = rte_cpu_to_be_32(spa);
	a->arp_data.arp_tha = op == RTE_ARP_OP_REQUEST ? zero : *tha;
	a->arp_data.arp_tip = rte_cpu_to_be_32(tpa);
	return (uint32_t)(sizeof(*eth) + sizeof(*a));
}

void dp_icmp_echo_reply(uint8_t *p, const struct dp_pkt_info *pi)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)p;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(p + pi->l3_off);
	struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)(p + pi->l4_off);
	struct rte_ether_addr tmac = eth->src_addr;
	uint32_t tip = ip->src_addr;

	eth->src_addr = eth->dst_addr;
	eth->dst_addr = tmac;
	ip->src_addr = ip->dst_addr;
	ip->dst_addr = tip;
	ip->time_to_live = 64;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	/* Recomputed in full (slow path, small packets): an incremental update
	 * (RFC 1624) turns the all-zero message's 0xffff into 0x0000, which a
	 * receiver rejects. */
	icmp->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	icmp->icmp_cksum = 0;
	icmp->icmp_cksum = (uint16_t)~dp_cksum(icmp, pi->payload_len, 0);
}

void dp_udp_build(uint8_t *p, const struct dp_flow *f, uint16_t payload_len, bool udp_csum)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)p;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);

	eth->dst_addr = f->dst_mac;
	eth->src_addr = f->src_mac;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->type_of_service = 0;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + sizeof(*udp) + payload_len));
	/* RFC 6864: atomic datagrams (DF set) need no unique identification. */
	ip->packet_id = 0;
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = rte_cpu_to_be_32(f->src_ip);
	ip->dst_addr = rte_cpu_to_be_32(f->dst_ip);
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp->src_port = rte_cpu_to_be_16(f->src_port);
	udp->dst_port = rte_cpu_to_be_16(f->dst_port);
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(sizeof(*udp) + payload_len));
	udp->dgram_cksum = 0;
	if (udp_csum) {
		uint16_t c = (uint16_t)~dp_cksum(udp, sizeof(*udp) + payload_len,
						 rte_ipv4_phdr_cksum(ip, 0));

		/* RFC 768: a computed 0 is sent as all ones. */
		udp->dgram_cksum = c ? c : 0xffff;
	}
}
