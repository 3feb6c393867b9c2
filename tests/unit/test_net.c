/*
 * test_net.c — dp_net: every frame shape the data plane accepts, and each
 * malformed one charged to its named drop reason.
 */
#include <arpa/inet.h>
#include <string.h>

#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "dp_net.h"
#include "unit.h"

static const struct dp_iface ifc = {
	.mac = { { 0x02, 0, 0, 0, 0, 1 } },
	.ip = 0xC6120001, /* 198.18.0.1 */
	.port_min = 40000,
	.port_max = 40100,
	.check_udp_csum = true,
};

static const struct dp_flow flow_in = {
	.src_mac = { { 0x02, 0, 0, 0, 0, 2 } },
	.dst_mac = { { 0x02, 0, 0, 0, 0, 1 } },
	.src_ip = 0xC612000B, /* 198.18.0.11 */
	.dst_ip = 0xC6120001,
	.src_port = 5000,
	.dst_port = 40000,
};

/* A valid UDP frame with an n-byte payload of 0x80.. at buf; returns length. */
static uint32_t udp_frame(uint8_t *buf, uint16_t n)
{
	memset(buf + DP_HDRS_LEN, 0x80, n);
	dp_udp_build(buf, &flow_in, n, true);
	return DP_HDRS_LEN + n;
}

static struct rte_ipv4_hdr *ip_of(uint8_t *buf)
{
	return (struct rte_ipv4_hdr *)(buf + 14);
}

static void refresh_ip_csum(uint8_t *buf)
{
	ip_of(buf)->hdr_checksum = 0;
	ip_of(buf)->hdr_checksum = rte_ipv4_cksum(ip_of(buf));
}

UT_TEST(udp_valid)
{
	uint8_t buf[1600];
	struct dp_pkt_info pi;
	uint32_t len = udp_frame(buf, 1200);

	UT_EQ(dp_parse_frame(buf, len, &ifc, &pi), DP_PKT_UDP);
	UT_EQ(pi.payload_off, DP_HDRS_LEN);
	UT_EQ(pi.payload_len, 1200);
	UT_EQ(pi.src_ip, 0xC612000B);
	UT_EQ(pi.src_port, 5000);
	UT_EQ(pi.dst_port, 40000);
	/* Ethernet padding after the IP datagram is allowed. */
	UT_EQ(dp_parse_frame(buf, len + 6, &ifc, &pi), DP_PKT_UDP);
	/* A zero UDP checksum means "not computed" (RFC 768). */
	((struct rte_udp_hdr *)(buf + 34))->dgram_cksum = 0;
	UT_EQ(dp_parse_frame(buf, len, &ifc, &pi), DP_PKT_UDP);
}

static void expect_drop(const uint8_t *buf, uint32_t len, enum sfu_drop why)
{
	struct dp_pkt_info pi;

	UT_EQ(dp_parse_frame(buf, len, &ifc, &pi), DP_PKT_DROP);
	UT_EQ(pi.drop, why);
}

UT_TEST(every_truncation_is_dropped)
{
	uint8_t buf[1600];
	uint32_t len = udp_frame(buf, 100);
	struct dp_pkt_info pi;

	for (uint32_t l = 0; l < len; l++)
		UT_EQ(dp_parse_frame(buf, l, &ifc, &pi), DP_PKT_DROP);
	expect_drop(buf, 10, SFU_DROP_ETH_SHORT);
	expect_drop(buf, 14 + 19, SFU_DROP_IP_SHORT);
	expect_drop(buf, 14 + 20 + 50, SFU_DROP_IP_LEN);
}

UT_TEST(bad_headers)
{
	uint8_t buf[1600];
	uint32_t len;

	len = udp_frame(buf, 64);
	buf[0] = 0x04; /* another host's MAC */
	expect_drop(buf, len, SFU_DROP_ETH_DST);

	len = udp_frame(buf, 64);
	buf[12] = 0x86; /* IPv6 */
	buf[13] = 0xdd;
	expect_drop(buf, len, SFU_DROP_ETH_TYPE);

	len = udp_frame(buf, 64);
	ip_of(buf)->version_ihl = 0x65;
	refresh_ip_csum(buf);
	expect_drop(buf, len, SFU_DROP_IP_VERSION);

	len = udp_frame(buf, 64);
	ip_of(buf)->version_ihl = 0x46; /* options */
	refresh_ip_csum(buf);
	expect_drop(buf, len, SFU_DROP_IP_OPTIONS);

	len = udp_frame(buf, 64);
	ip_of(buf)->version_ihl = 0x44;
	expect_drop(buf, len, SFU_DROP_IP_LEN);

	len = udp_frame(buf, 64);
	ip_of(buf)->hdr_checksum ^= 0x0101;
	expect_drop(buf, len, SFU_DROP_IP_CSUM);

	len = udp_frame(buf, 64);
	ip_of(buf)->fragment_offset = htons(RTE_IPV4_HDR_MF_FLAG);
	refresh_ip_csum(buf);
	expect_drop(buf, len, SFU_DROP_IP_FRAGMENT);

	len = udp_frame(buf, 64);
	ip_of(buf)->fragment_offset = htons(185); /* a later fragment */
	refresh_ip_csum(buf);
	expect_drop(buf, len, SFU_DROP_IP_FRAGMENT);

	len = udp_frame(buf, 64);
	ip_of(buf)->dst_addr = htonl(0xC6120002);
	refresh_ip_csum(buf);
	expect_drop(buf, len, SFU_DROP_IP_DST);

	len = udp_frame(buf, 64);
	ip_of(buf)->next_proto_id = IPPROTO_TCP;
	refresh_ip_csum(buf);
	expect_drop(buf, len, SFU_DROP_IP_PROTO);

	len = udp_frame(buf, 64);
	buf[DP_HDRS_LEN + 3] ^= 0xff; /* payload corrupted in flight */
	expect_drop(buf, len, SFU_DROP_UDP_CSUM);

	len = udp_frame(buf, 64);
	((struct rte_udp_hdr *)(buf + 34))->dgram_len = htons(60);
	expect_drop(buf, len, SFU_DROP_UDP_LEN);

	len = udp_frame(buf, 64);
	((struct rte_udp_hdr *)(buf + 34))->dst_port = htons(39999);
	((struct rte_udp_hdr *)(buf + 34))->dgram_cksum = 0;
	expect_drop(buf, len, SFU_DROP_UDP_PORT);

	/* An IP datagram too short for a UDP header. */
	len = udp_frame(buf, 0);
	ip_of(buf)->total_length = htons(24);
	refresh_ip_csum(buf);
	expect_drop(buf, 14 + 24, SFU_DROP_UDP_SHORT);
}

UT_TEST(arp_roundtrip)
{
	uint8_t buf[64];
	struct dp_arp arp;
	struct dp_pkt_info pi;
	const struct rte_ether_addr peer = { { 0x02, 0, 0, 0, 0, 9 } }, none = { { 0 } };
	uint32_t len = dp_arp_build(buf, 1, &peer, 0xC6120009, &none, ifc.ip);

	UT_EQ(len, 42);
	UT_EQ(dp_parse_frame(buf, len, &ifc, &pi), DP_PKT_ARP);
	UT_EQ(dp_arp_parse(buf, len, &arp), 0);
	UT_EQ(arp.op, 1);
	UT_EQ(arp.spa, 0xC6120009);
	UT_EQ(arp.tpa, ifc.ip);
	UT_MEMEQ(&arp.sha, &peer, 6);
	for (uint32_t l = 0; l < len; l++)
		UT_EQ(dp_arp_parse(buf, l, &arp), -EINVAL);
	buf[14 + 7] = 3; /* opcode 3 */
	UT_EQ(dp_arp_parse(buf, len, &arp), -EINVAL);
	len = dp_arp_build(buf, 1, &peer, 0xC6120009, &none, ifc.ip);
	buf[14 + 4] = 8; /* hlen */
	UT_EQ(dp_arp_parse(buf, len, &arp), -EINVAL);
	/* A multicast sender address is never learned. */
	{
		const struct rte_ether_addr mc = { { 0x01, 0, 0x5e, 0, 0, 1 } };

		len = dp_arp_build(buf, 2, &mc, 0xC6120009, &ifc.mac, ifc.ip);
		UT_EQ(dp_arp_parse(buf, len, &arp), -EINVAL);
	}
}

/* An ICMP echo request as ping sends it. */
static uint32_t echo_request(uint8_t *buf, uint16_t data_len)
{
	struct rte_ipv4_hdr *ip = ip_of(buf);
	struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)(buf + 34);

	dp_udp_build(buf, &flow_in, 0, false); /* Ethernet + IPv4 shell */
	ip->next_proto_id = IPPROTO_ICMP;
	ip->total_length = htons((uint16_t)(20 + 8 + data_len));
	refresh_ip_csum(buf);
	memset(icmp, 0, 8);
	icmp->icmp_type = RTE_IP_ICMP_ECHO_REQUEST;
	icmp->icmp_ident = htons(77);
	icmp->icmp_seq_nb = htons(3);
	for (uint16_t i = 0; i < data_len; i++)
		buf[42 + i] = (uint8_t)i;
	icmp->icmp_cksum = (uint16_t)~rte_raw_cksum(icmp, 8u + data_len);
	return 34 + 8 + data_len;
}

UT_TEST(icmp_echo)
{
	uint8_t buf[256];
	struct dp_pkt_info pi;
	uint32_t len = echo_request(buf, 56);

	UT_EQ(dp_parse_frame(buf, len, &ifc, &pi), DP_PKT_ICMP_ECHO);
	dp_icmp_echo_reply(buf, &pi);
	UT_EQ(buf[34], RTE_IP_ICMP_ECHO_REPLY);
	UT_EQ(rte_raw_cksum(buf + 34, 64), 0xffff);
	UT_EQ(rte_ipv4_cksum(ip_of(buf)), 0);
	UT_EQ(ntohl(ip_of(buf)->dst_addr), 0xC612000B);
	UT_MEMEQ(buf, &flow_in.src_mac, 6);

	len = echo_request(buf, 56);
	buf[50] ^= 1;
	UT_EQ(dp_parse_frame(buf, len, &ifc, &pi), DP_PKT_DROP);
	UT_EQ(pi.drop, SFU_DROP_ICMP_MALFORMED);

	len = echo_request(buf, 56);
	buf[34] = 13; /* timestamp request */
	((struct rte_icmp_hdr *)(buf + 34))->icmp_cksum = 0;
	((struct rte_icmp_hdr *)(buf + 34))->icmp_cksum =
		(uint16_t)~rte_raw_cksum(buf + 34, 64);
	UT_EQ(dp_parse_frame(buf, len, &ifc, &pi), DP_PKT_DROP);
	UT_EQ(pi.drop, SFU_DROP_ICMP_UNSUPPORTED);
}

/* The all-zero echo (id 0, seq 0, no data): its reply's checksum is 0xffff,
 * never 0x0000, or the sender rejects it. */
UT_TEST(icmp_echo_all_zero)
{
	uint8_t buf[64];
	struct dp_pkt_info pi;
	uint32_t len = echo_request(buf, 0);
	struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)(buf + 34);

	icmp->icmp_ident = 0;
	icmp->icmp_seq_nb = 0;
	icmp->icmp_cksum = 0;
	icmp->icmp_cksum = (uint16_t)~rte_raw_cksum(icmp, 8);
	UT_EQ(dp_parse_frame(buf, len, &ifc, &pi), DP_PKT_ICMP_ECHO);
	dp_icmp_echo_reply(buf, &pi);
	UT_EQ(icmp->icmp_cksum, 0xffff);
	UT_EQ(rte_raw_cksum(icmp, 8), 0xffff);
}

UT_TEST(udp_build_checksums)
{
	uint8_t buf[1600];
	uint32_t len = udp_frame(buf, 333);
	struct dp_pkt_info pi;

	UT_EQ(rte_ipv4_cksum(ip_of(buf)), 0);
	UT_CHECK(((struct rte_udp_hdr *)(buf + 34))->dgram_cksum != 0);
	UT_EQ(ntohs(ip_of(buf)->total_length), 20 + 8 + 333);
	UT_EQ(dp_parse_frame(buf, len, &ifc, &pi), DP_PKT_UDP);
	/* Without UDP checksum the field is 0 and the frame still parses. */
	dp_udp_build(buf, &flow_in, 333, false);
	UT_EQ(((struct rte_udp_hdr *)(buf + 34))->dgram_cksum, 0);
	UT_EQ(dp_parse_frame(buf, len, &ifc, &pi), DP_PKT_UDP);
}

UT_TEST(cksum_matches_reference)
{
	uint8_t buf[1600];
	int ok = 1;

	for (unsigned int i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 131 + 7);
	/* Every length and alignment up to a full frame, with and without a seed. */
	for (size_t off = 0; off < 8; off++)
		for (size_t len = 0; len + off <= sizeof(buf); len += (len < 64 ? 1 : 37)) {
			uint32_t ref = rte_raw_cksum(buf + off, len);

			if (dp_cksum(buf + off, len, 0) != ref)
				ok = 0;
			ref = __rte_raw_cksum_reduce(__rte_raw_cksum(buf + off, len, 0x1234));
			if (dp_cksum(buf + off, len, 0x1234) != ref)
				ok = 0;
		}
	UT_CHECK(ok);
	memset(buf, 0xff, 64);
	UT_EQ(dp_cksum(buf, 64, 0), 0xffff);
}

UT_MAIN("net", UT_CASE(cksum_matches_reference), UT_CASE(udp_valid), UT_CASE(every_truncation_is_dropped), UT_CASE(bad_headers),
	UT_CASE(arp_roundtrip), UT_CASE(icmp_echo), UT_CASE(icmp_echo_all_zero), UT_CASE(udp_build_checksums))
