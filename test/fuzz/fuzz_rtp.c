/* libFuzzer target for videod's RTP header and compound RTCP parsers. */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_video_stubs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t seen;

static void item_cb(void *arg, enum rtcp_kind kind, uint32_t sender, uint32_t media,
                    const uint8_t *pkt, size_t len)
{
	(void)arg;
	(void)kind;
	(void)sender;
	(void)media;
	if (len < 4 || pkt[len - 1] == 0x5a)
		seen++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rtp_hdr h;

	if (rtp_is_rtcp(data, size)) {
		(void)rtcp_walk(data, size, item_cb, NULL);
		return 0;
	}
	if (rtp_parse(data, size, size ? (uint8_t)(data[0] % 15) : 1, &h) == 0 &&
	    (h.hdr_len > size || h.level > 127))
		abort();
	return 0;
}
