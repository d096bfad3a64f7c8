/* Unit tests for videod's RTP audio level, RTCP walking, and an SDP offer
 * in the shape Chromium sends, answered. rtp.c and sdp.c are compiled in
 * (videod is not a library). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "../../videod/rtp.c"
#include "../../videod/sdp.c"

struct videod videod;

uint64_t vd_now_ms(void)
{
	return 1;
}

static void test_rtp_level(void **state)
{
	const uint8_t pkt[] = {0x90, 111,  0,    1, 0, 0,    0,         2, 0xde, 0xad, 0xbe,
	                       0xef, 0xBE, 0xDE, 0, 1, 0x10, 0x80 | 33, 0, 0,    0xfc, 0xff};
	struct rtp_hdr h;

	(void)state;
	assert_int_equal(rtp_parse(pkt, sizeof(pkt), 1, &h), 0);
	assert_int_equal(h.pt, 111);
	assert_int_equal(h.seq, 1);
	assert_int_equal(h.ssrc, 0xdeadbeef);
	assert_int_equal(h.hdr_len, 20);
	assert_int_equal(h.level, 33);
	assert_true(h.voice);
	assert_int_equal(rtp_parse(pkt, sizeof(pkt), 2, &h), 0);
	assert_int_equal(h.level, -1);
	assert_int_not_equal(rtp_parse(pkt, 15, 1, &h), 0);
	assert_false(rtp_is_rtcp(pkt, sizeof(pkt)));
}

static int nitems, npli;
static uint32_t pli_media;

static void item_cb(void *arg, enum rtcp_kind kind, uint32_t sender, uint32_t media,
                    const uint8_t *pkt, size_t len)
{
	(void)arg;
	(void)sender;
	(void)pkt;
	(void)len;
	nitems++;
	if (kind == RTCP_PLI) {
		npli++;
		pli_media = media;
	}
}

static void test_rtcp_walk(void **state)
{
	uint8_t buf[64];
	size_t n;

	(void)state;
	/* An empty receiver report, then a PLI we build, then a REMB. */
	const uint8_t rr[] = {0x80, 201, 0, 1, 0, 0, 0, 7};
	memcpy(buf, rr, sizeof(rr));
	n = sizeof(rr);
	n += rtcp_build_pli(buf + n, 7, 0x11223344);
	n += rtcp_build_remb(buf + n, 7, 0x11223344, 1500000);
	assert_true(rtp_is_rtcp(buf, n));
	assert_int_equal(rtcp_walk(buf, n, item_cb, NULL), 0);
	assert_int_equal(nitems, 3);
	assert_int_equal(npli, 1);
	assert_int_equal(pli_media, 0x11223344);
	buf[3] = 9; /* the first length runs past the end */
	assert_int_not_equal(rtcp_walk(buf, n, item_cb, NULL), 0);
}

static const char offer[] =
    "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1 2\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\nc=IN IP4 0.0.0.0\r\na=ice-ufrag:Ab12\r\n"
    "a=ice-pwd:0123456789abcdefghijklmn\r\na=fingerprint:sha-256 AB:CD\r\na=setup:actpass\r\n"
    "a=mid:0\r\na=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\na=sendonly\r\n"
    "a=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\na=rtpmap:0 PCMU/8000\r\na=ssrc:1234 cname:x\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97 102\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=sendonly\r\n"
    "a=rtcp-mux\r\na=rtpmap:96 VP8/90000\r\na=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n"
    "a=rtpmap:102 H264/90000\r\na=fmtp:102 packetization-mode=1;profile-level-id=42001f\r\n"
    "a=ssrc-group:FID 5678 5679\r\na=ssrc:5678 cname:x\r\na=ssrc:5679 cname:x\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 102\r\nc=IN IP4 0.0.0.0\r\na=mid:2\r\na=recvonly\r\n"
    "a=rtcp-mux\r\na=rtpmap:102 H264/90000\r\n"
    "a=fmtp:102 packetization-mode=1;profile-level-id=42001f\r\n";

static void test_sdp_offer_answer(void **state)
{
	static struct sdp_offer o;
	static struct sdp_answer a;
	static char out[8192];

	(void)state;
	assert_int_equal(sdp_parse(offer, strlen(offer), &o), 0);
	assert_int_equal(o.n, 3);
	assert_string_equal(o.ufrag, "Ab12");
	assert_string_equal(o.fingerprint, "AB:CD");
	assert_int_equal(o.m[0].kind, SDP_AUDIO);
	assert_int_equal(o.m[0].ssrc, 1234);
	assert_int_equal(o.m[0].ext_level, 1);
	assert_int_equal(o.m[1].ssrc, 5678); /* the FID group's primary, not RTX */
	assert_int_equal(o.m[2].dir, SDP_RECVONLY);
	assert_string_equal(o.m[0].codecs[sdp_pick_codec(&o.m[0])].name, "opus");
	assert_string_equal(o.m[1].codecs[sdp_pick_codec(&o.m[1])].name, "VP8");
	/* Without VP8, H.264 with packetization-mode 1. */
	assert_string_equal(o.m[2].codecs[sdp_pick_codec(&o.m[2])].name, "H264");

	memset(&a, 0, sizeof(a));
	a.ufrag = "srv1";
	a.pwd = "srvpwd";
	a.fingerprint = "EE:FF";
	a.candidates[0] = "10.99.0.1";
	a.ncandidates = 1;
	a.port = 5000;
	a.m[0] = (struct sdp_answer_media){sdp_pick_codec(&o.m[0]), SDP_RECVONLY, 0, NULL, NULL};
	a.m[1] = (struct sdp_answer_media){sdp_pick_codec(&o.m[1]), SDP_RECVONLY, 0, NULL, NULL};
	a.m[2] =
	    (struct sdp_answer_media){sdp_pick_codec(&o.m[2]), SDP_SENDONLY, 42, "pub", "pub-cam"};
	assert_true(sdp_answer_build(&o, &a, out, sizeof(out)) > 0);
	assert_non_null(strstr(out, "a=group:BUNDLE 0 1 2\r\n"));
	assert_non_null(strstr(out, "a=ice-lite\r\n"));
	assert_non_null(strstr(out, "a=setup:passive\r\n"));
	assert_non_null(strstr(out, "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n"));
	assert_non_null(strstr(out, "a=ssrc:42 msid:pub pub-cam\r\n"));
	assert_non_null(strstr(out, "a=candidate:1 1 udp 2130706431 10.99.0.1 5000 typ host\r\n"));
	assert_null(strstr(out, "rtx"));
	assert_int_equal(sdp_answer_build(&o, &a, out, 100), -ENOBUFS);
	/* Missing ICE credentials or a NUL inside: refused. */
	assert_int_not_equal(sdp_parse("v=0\r\nm=audio 9 RTP/AVP 0\r\n", 26, &o), 0);
	assert_int_not_equal(sdp_parse(offer, sizeof(offer), &o), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rtp_level),
	    cmocka_unit_test(test_rtcp_walk),
	    cmocka_unit_test(test_sdp_offer_answer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
