/* libFuzzer target for videod's JSON request bodies. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_video_stubs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct api_req r;
	char err[160];

	if (api_parse((const char *)data, size, &r, err, sizeof(err)) < 0)
		return 0;
	if (strlen(r.room) > PROTO_ROOM_MAX || r.offer.npub > VD_TRACKS_MAX ||
	    r.offer.nsub > VD_SUBS_MAX)
		abort();
	for (int i = 0; i < r.offer.nsub; i++)
		if (strlen(r.offer.sub_mid[i]) > VD_MID_MAX)
			abort();
	api_req_free(&r);
	return 0;
}
