/* record: a room's mix to an Ogg Opus file (libopusenc), started and
 * stopped by an admin. The file is written under a temporary name and
 * renamed into place when the recording stops, so a reader never sees a
 * file without its end. */
#include "audiod.h"
#include "fsutil.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <opusenc.h>

/* Room names may hold '@' and ':' (DMs): keep file names tame. */
static void record_file_name(const struct room *r, char *out, size_t outlen)
{
	char safe[PROTO_ROOM_MAX + 1];
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	size_t i;

	for (i = 0; r->name[i] && i < sizeof(safe) - 1; i++) {
		char c = r->name[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		          (c >= '0' && c <= '9') || c == '-' || c == '_';
		safe[i] = ok ? c : '_';
	}
	safe[i] = '\0';
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	snprintf(out, outlen, "%s/%s-%s.opus", audiod.cfg.record_dir, safe, stamp);
}

int record_start(struct room *r, char *why, size_t whylen)
{
	char tmp[CONFIG_PATH_MAX + 136];
	OggOpusComments *c;
	int err = 0;

	err = fsutil_mkdir_p(audiod.cfg.record_dir, 0750);
	if (err < 0) {
		snprintf(why, whylen, "cannot create %s: %s", audiod.cfg.record_dir,
		         strerror(-err));
		return err;
	}
	record_file_name(r, r->rec_name, sizeof(r->rec_name));
	snprintf(tmp, sizeof(tmp), "%s.part", r->rec_name);
	c = ope_comments_create();
	if (!c)
		fatal("out of memory");
	ope_comments_add(c, "TITLE", r->name);
	ope_comments_add(c, "ENCODER", AUDIOD_VERSION);
	r->rec = ope_encoder_create_file(tmp, c, AUDIO_RATE, 1, 0, &err);
	ope_comments_destroy(c);
	if (!r->rec) {
		snprintf(why, whylen, "cannot record to %s: %s", tmp, ope_strerror(err));
		return -EIO;
	}
	ope_encoder_ctl(r->rec, OPUS_SET_BITRATE(48000));
	log_info("recording voice room %s to %s", r->name, r->rec_name);
	return 0;
}

void record_write(struct room *r, const int16_t *pcm, int samples)
{
	int err = ope_encoder_write(r->rec, pcm, samples);

	if (err != OPE_OK) {
		log_warn("recording of %s failed: %s; stopped", r->name, ope_strerror(err));
		record_stop(r);
	}
}

void record_stop(struct room *r)
{
	char tmp[CONFIG_PATH_MAX + 136];
	int err;

	if (!r->rec)
		return;
	err = ope_encoder_drain(r->rec);
	ope_encoder_destroy(r->rec);
	r->rec = NULL;
	snprintf(tmp, sizeof(tmp), "%s.part", r->rec_name);
	if (err != OPE_OK || rename(tmp, r->rec_name) < 0)
		log_warn("recording %s may be incomplete: %s", r->rec_name,
		         err != OPE_OK ? ope_strerror(err) : strerror(errno));
	else
		log_info("recording of voice room %s saved as %s", r->name, r->rec_name);
}
