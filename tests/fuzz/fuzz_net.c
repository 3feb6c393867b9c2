/*
 * fuzz_net.c — fuzz target for the data plane's L2-L4 code (dp_net.h) and
 * what a worker does next with each verdict: dp_parse_frame on a fixed
 * interface; for ARP, dp_arp_parse and an answer built by dp_arp_build that
 * must parse back; for an ICMP echo request, dp_icmp_echo_reply on a copy,
 * which must be a valid echo reply (RFC 792, RFC 1624 checksum update); for
 * UDP, the RFC 7983 classifier, sfu_rtp_parse and sfu_rtcp_validate on the
 * payload.  Every invariant is checked by abort(): offsets stay inside the
 * frame and agree with the interface, drop reasons are named ones.
 *
 * Mutations almost always break the IPv4 header checksum first, so each input
 * is run a second time with its IPv4 total length, UDP length and the IPv4,
 * UDP and ICMP checksums repaired: the layers behind the checksum get the
 * mutated bytes too.
 *
 * Threading: single-threaded; driven by driver.c or libFuzzer.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "dp_net.h"
#include "sfu_rtp.h"

#define FUZZ_CHECK(cond)                 \
	do {                             \
		if (!(cond))             \
			abort();         \
	} while (0)

#define ETH_LEN 14
#define IP_LEN 20
#define UDP_LEN 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The data plane's address as in tests/unit/test_net.c and the corpus. */
static const struct dp_iface ifc = {
	.mac = { { 0x02, 0, 0, 0, 0, 1 } },
	.ip = 0xC6120001, /* 198.18.0.1 */
	.port_min = 40000,
	.port_max = 40100,
	.check_udp_csum = true,
};

/* Folded into so reads are not optimised away. */
static volatile uint8_t sink;

static void check_arp(const uint8_t *p, size_t size)
{
	static const struct rte_ether_addr none;
	struct dp_arp arp, back;
	uint8_t reply[64];
	int rc;

	memset(&arp, 0xa5, sizeof(arp));
	rc = dp_arp_parse(p, (uint32_t)size, &arp);
	FUZZ_CHECK(rc == 0 || rc == -EINVAL);
	if (rc < 0)
		return;
	FUZZ_CHECK(size >= ETH_LEN + sizeof(struct rte_arp_hdr));
	FUZZ_CHECK(arp.op == RTE_ARP_OP_REQUEST || arp.op == RTE_ARP_OP_REPLY);
	FUZZ_CHECK(rte_is_unicast_ether_addr(&arp.sha) && !rte_is_zero_ether_addr(&arp.sha));
	/* spa and tpa are the frame's bytes 28..31 and 38..41, host order. */
	FUZZ_CHECK(arp.spa == ((uint32_t)p[28] << 24 | (uint32_t)p[29] << 16 |
			       (uint32_t)p[30] << 8 | p[31]));
	FUZZ_CHECK(arp.tpa == ((uint32_t)p[38] << 24 | (uint32_t)p[39] << 16 |
			       (uint32_t)p[40] << 8 | p[41]));

	/* What slowpath.c answers to a request: a reply that parses back. */
	memset(reply, 0, sizeof(reply));
	FUZZ_CHECK(dp_arp_build(reply, RTE_ARP_OP_REPLY, &ifc.mac, ifc.ip, &arp.sha, arp.spa) ==
		   ETH_LEN + sizeof(struct rte_arp_hdr));
	FUZZ_CHECK(dp_arp_parse(reply, ETH_LEN + sizeof(struct rte_arp_hdr), &back) == 0);
	FUZZ_CHECK(back.op == RTE_ARP_OP_REPLY && back.spa == ifc.ip && back.tpa == arp.spa);
	FUZZ_CHECK(rte_is_same_ether_addr(&back.sha, &ifc.mac) &&
		   rte_is_same_ether_addr(&back.tha, &arp.sha));
	/* And a request for its sender, as the neighbour code sends. */
	dp_arp_build(reply, RTE_ARP_OP_REQUEST, &ifc.mac, ifc.ip, &none, arp.spa);
	FUZZ_CHECK(dp_arp_parse(reply, ETH_LEN + sizeof(struct rte_arp_hdr), &back) == 0);
	FUZZ_CHECK(back.op == RTE_ARP_OP_REQUEST && back.tpa == arp.spa);
	FUZZ_CHECK(rte_is_broadcast_ether_addr((const struct rte_ether_addr *)reply));
}

static void check_icmp(const uint8_t *p, size_t size, const struct dp_pkt_info *pi)
{
	const struct rte_ipv4_hdr *ip;
	const struct rte_icmp_hdr *icmp;
	uint8_t *copy;

	FUZZ_CHECK(pi->l3_off == ETH_LEN && pi->l4_off == ETH_LEN + IP_LEN);
	FUZZ_CHECK(pi->payload_off == pi->l4_off && pi->payload_len >= sizeof(*icmp));
	FUZZ_CHECK((size_t)pi->l4_off + pi->payload_len <= size);
	FUZZ_CHECK(pi->dst_ip == ifc.ip);

	copy = malloc(size);
	if (copy == NULL)
		return;
	memcpy(copy, p, size);
	dp_icmp_echo_reply(copy, pi);
	ip = (const struct rte_ipv4_hdr *)(copy + pi->l3_off);
	icmp = (const struct rte_icmp_hdr *)(copy + pi->l4_off);
	/* Addresses swapped, a valid IPv4 header, an echo reply whose checksum
	 * verifies (RFC 1071: the words sum to 0xffff), the rest untouched. */
	FUZZ_CHECK(memcmp(copy, p + 6, 6) == 0 && memcmp(copy + 6, p, 6) == 0);
	FUZZ_CHECK(rte_be_to_cpu_32(ip->src_addr) == pi->dst_ip &&
		   rte_be_to_cpu_32(ip->dst_addr) == pi->src_ip);
	FUZZ_CHECK(ip->time_to_live == 64 && rte_ipv4_cksum(ip) == 0);
	FUZZ_CHECK(icmp->icmp_type == RTE_IP_ICMP_ECHO_REPLY && icmp->icmp_code == 0);
	FUZZ_CHECK(rte_raw_cksum(icmp, pi->payload_len) == 0xffff);
	FUZZ_CHECK(memcmp(copy + pi->l4_off + 4, p + pi->l4_off + 4, size - pi->l4_off - 4) == 0);
	free(copy);
}

static void check_rtcp(const uint8_t *p, size_t len)
{
	struct sfu_rtcp_pkt pkt;
	size_t off = 0;
	int n = sfu_rtcp_validate(p, len), seen = 0, rc;

	FUZZ_CHECK(n > 0 || n == -EINVAL);
	if (n < 0)
		return;
	while ((rc = sfu_rtcp_next(p, len, &off, &pkt)) == 1) {
		FUZZ_CHECK(pkt.len >= 4 && (size_t)pkt.off + pkt.len <= len && off <= len);
		seen++;
		FUZZ_CHECK(seen <= n);
	}
	FUZZ_CHECK(rc == 0 && seen == n);
}

static void check_udp(const uint8_t *p, size_t size, const struct dp_pkt_info *pi)
{
	const uint8_t *pl = p + pi->payload_off;
	struct sfu_rtp_info ri;
	enum sfu_pkt_class cls;
	int rc;

	FUZZ_CHECK(pi->l3_off == ETH_LEN && pi->l4_off == ETH_LEN + IP_LEN);
	FUZZ_CHECK(pi->payload_off == DP_HDRS_LEN);
	FUZZ_CHECK((size_t)pi->payload_off + pi->payload_len <= size);
	FUZZ_CHECK(pi->dst_ip == ifc.ip);
	FUZZ_CHECK(pi->dst_port >= ifc.port_min && pi->dst_port <= ifc.port_max);
	FUZZ_CHECK(pi->src_port == (uint16_t)(p[34] << 8 | p[35]));

	/* The worker's RFC 7983 demux, then the media parsers. */
	cls = sfu_pkt_classify(pl, pi->payload_len);
	FUZZ_CHECK(cls >= SFU_PKT_UNKNOWN && cls <= SFU_PKT_RTCP);
	if (pi->payload_len > 0 && pl[0] <= 3)
		FUZZ_CHECK(cls == SFU_PKT_STUN);
	if (pi->payload_len > 0 && pl[0] >= 20 && pl[0] <= 63)
		FUZZ_CHECK(cls == SFU_PKT_DTLS);
	memset(&ri, 0xa5, sizeof(ri));
	rc = sfu_rtp_parse(pl, pi->payload_len, &ri);
	FUZZ_CHECK(rc == 0 || rc == -EINVAL);
	if (rc == 0) {
		FUZZ_CHECK(cls == SFU_PKT_RTP || cls == SFU_PKT_RTCP);
		FUZZ_CHECK(ri.hdr_len >= 12 + 4 * ri.cc && ri.hdr_len <= pi->payload_len);
		sink ^= pl[ri.hdr_len - 1];
	}
	if (cls == SFU_PKT_RTCP)
		check_rtcp(pl, pi->payload_len);
}

static void run_frame(const uint8_t *p, size_t size)
{
	struct dp_pkt_info pi;
	enum dp_pkt_kind kind;

	memset(&pi, 0xa5, sizeof(pi));
	kind = dp_parse_frame(p, (uint32_t)size, &ifc, &pi);
	switch (kind) {
	case DP_PKT_DROP:
		FUZZ_CHECK(pi.drop < SFU_DROP_N);
		break;
	case DP_PKT_ARP:
		FUZZ_CHECK(size >= ETH_LEN && pi.l3_off == ETH_LEN);
		check_arp(p, size);
		break;
	case DP_PKT_ICMP_ECHO:
		check_icmp(p, size, &pi);
		break;
	case DP_PKT_UDP:
		check_udp(p, size, &pi);
		break;
	default:
		abort();
	}
}

/*
 * Repair an IPv4 frame's lengths and checksums in place (size >= 34, IHL 5):
 * total length := what the frame holds; for UDP its length too and a correct
 * checksum, or 0 ("none", RFC 768) when the last byte is even; for ICMP its
 * checksum.  Everything else stays as mutated.
 */
static void repair(uint8_t *p, size_t size)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(p + ETH_LEN);
	size_t tot = size - ETH_LEN;

	if (tot > UINT16_MAX)
		tot = UINT16_MAX;
	ip->total_length = rte_cpu_to_be_16((uint16_t)tot);
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	if (ip->next_proto_id == IPPROTO_UDP && tot >= IP_LEN + UDP_LEN) {
		struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(p + ETH_LEN + IP_LEN);

		udp->dgram_len = rte_cpu_to_be_16((uint16_t)(tot - IP_LEN));
		udp->dgram_cksum = 0;
		if (p[size - 1] & 1)
			udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
	} else if (ip->next_proto_id == IPPROTO_ICMP && tot >= IP_LEN + 4) {
		struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)(p + ETH_LEN + IP_LEN);

		/* RFC 1071: the complement of the sum with the field zeroed. */
		icmp->icmp_cksum = 0;
		icmp->icmp_cksum = (uint16_t)~rte_raw_cksum(icmp, tot - IP_LEN);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;

	run_frame(data, size);
	if (size < ETH_LEN + IP_LEN || data[12] != 0x08 || data[13] != 0x00 ||
	    data[ETH_LEN] != 0x45)
		return 0;
	/* An exact-size heap copy, so ASan still sees one-byte over-reads. */
	copy = malloc(size);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	repair(copy, size);
	run_frame(copy, size);
	free(copy);
	return 0;
}
