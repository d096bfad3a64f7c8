/* libFuzzer target for videod's SDP offer parser and answer builder. */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_video_stubs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sdp_offer off;
static struct sdp_answer ans;
static char out[256 * 1024];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (sdp_parse((const char *)data, size, &off) < 0)
		return 0;
	memset(&ans, 0, sizeof(ans));
	ans.ufrag = "ufrag";
	ans.pwd = "pwd";
	ans.fingerprint = "AA:BB";
	ans.candidates[0] = "10.0.0.1";
	ans.ncandidates = 1;
	ans.port = 5000;
	for (int i = 0; i < off.n; i++) {
		ans.m[i].codec = sdp_pick_codec(&off.m[i]);
		ans.m[i].dir = (enum sdp_dir)(i & 3);
		ans.m[i].ssrc = (uint32_t)i;
		ans.m[i].stream = "s";
		ans.m[i].track = "t";
		if (ans.m[i].codec >= off.m[i].ncodecs)
			abort();
	}
	if (sdp_answer_build(&off, &ans, out, sizeof(out)) >= (int)sizeof(out))
		abort();
	return 0;
}
