/* libFuzzer target for the frame decoder: consume frames from the input the
 * way conn.c does, and check that every decoded message encodes back to the
 * exact bytes it came from (decode and encode agree on every field). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct msg rx, rx2;
static uint8_t enc[PROTO_HEADER_LEN + PROTO_FRAME_MAX_DEFAULT];

static void check_reencode(const uint8_t *frame, size_t len)
{
	size_t used = 0, want = 0;
	long n;

	n = proto_encode(&rx, enc, sizeof(enc));
	if (n < 0 || (size_t)n != len || memcmp(enc, frame, len) != 0) {
		fprintf(stderr, "re-encoded %s differs: %ld bytes vs %zu\n",
		        proto_type_name(rx.type), n, len);
		abort();
	}
	if (proto_encoded_len(&rx, &want) != 0 || want != len)
		abort();
	if (proto_decode_frame(enc, (size_t)n, PROTO_FRAME_MAX_DEFAULT, &rx2, &used) != 0 ||
	    used != len)
		abort();
	n = proto_encode(&rx2, enc, sizeof(enc));
	if (n < 0 || (size_t)n != len || memcmp(enc, frame, len) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;

	while (off < size) {
		size_t used = 0;
		int r =
		    proto_decode_frame(data + off, size - off, PROTO_FRAME_MAX_DEFAULT, &rx, &used);

		if (r != 0)
			break;
		if (used < PROTO_HEADER_LEN || used > size - off)
			abort();
		check_reencode(data + off, used);
		off += used;
	}
	return 0;
}
