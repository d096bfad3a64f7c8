/* audio_io: sound in and out of files and pipes for `nexus talk`: WAV
 * (16-bit PCM, 48 kHz, mono or stereo mixed down), Ogg Opus (libopusfile
 * to read, libopusenc to write) and raw 48 kHz mono s16le. The format comes
 * from --format, else the file name, else (stdin) the first bytes. */
#include "audio_io.h"
#include "fsutil.h"

#include <stdbool.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <opusenc.h>
#include <opusfile.h>

struct audio_in {
	enum audio_fmt fmt;
	int fd;
	OggOpusFile *of;
	unsigned channels; /* WAV */
	uint64_t left;     /* WAV data bytes left */
	uint8_t pre[16];   /* bytes read while sniffing */
	size_t npre, pre_off;
};

struct audio_out {
	enum audio_fmt fmt;
	int fd;
	OggOpusEnc *enc;
	uint64_t bytes;
};

static const char *audio_ext(const char *path)
{
	const char *dot = strrchr(path, '.');

	return dot && !strchr(dot, '/') ? dot + 1 : "";
}

enum audio_fmt audio_fmt_parse(const char *name)
{
	if (!strcmp(name, "wav"))
		return AUDIO_FMT_WAV;
	if (!strcmp(name, "ogg") || !strcmp(name, "opus"))
		return AUDIO_FMT_OGG;
	if (!strcmp(name, "raw") || !strcmp(name, "pcm") || !strcmp(name, "s16le"))
		return AUDIO_FMT_RAW;
	return AUDIO_FMT_AUTO;
}

static enum audio_fmt audio_fmt_of_path(const char *path)
{
	const char *e = audio_ext(path);

	if (!strcasecmp(e, "wav"))
		return AUDIO_FMT_WAV;
	if (!strcasecmp(e, "ogg") || !strcasecmp(e, "opus") || !strcasecmp(e, "oga"))
		return AUDIO_FMT_OGG;
	return AUDIO_FMT_RAW;
}

/* read exactly n bytes (less only at end of file) */
static ssize_t audio_read_full(struct audio_in *in, void *buf, size_t n)
{
	size_t got = 0;
	uint8_t *p = buf;

	while (got < n && in->pre_off < in->npre)
		p[got++] = in->pre[in->pre_off++];
	while (got < n) {
		ssize_t r = read(in->fd, p + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* RIFF header through to the data chunk; refuses what is not 16-bit 48 kHz */
static int audio_wav_header(struct audio_in *in, char *err, size_t errlen)
{
	uint8_t h[12], ch[8], fmt[16];
	bool have_fmt = false;

	if (audio_read_full(in, h, 12) != 12 || memcmp(h, "RIFF", 4) || memcmp(h + 8, "WAVE", 4)) {
		snprintf(err, errlen, "not a WAV file");
		return -EINVAL;
	}
	for (;;) {
		uint32_t len;

		if (audio_read_full(in, ch, 8) != 8) {
			snprintf(err, errlen, "WAV file without data");
			return -EINVAL;
		}
		len = le32(ch + 4);
		if (!memcmp(ch, "data", 4))
			break;
		if (!memcmp(ch, "fmt ", 4) && len >= 16) {
			if (audio_read_full(in, fmt, 16) != 16)
				return -EINVAL;
			have_fmt = true;
			len -= 16;
		}
		/* skip the rest of the chunk (padded to even) */
		for (uint32_t k = 0; k < len + (len & 1); k++) {
			uint8_t b;
			if (audio_read_full(in, &b, 1) != 1)
				return -EINVAL;
		}
	}
	if (!have_fmt || le16(fmt) != 1 || le16(fmt + 14) != 16 || le32(fmt + 4) != 48000 ||
	    le16(fmt + 2) < 1 || le16(fmt + 2) > 2) {
		snprintf(err, errlen,
		         "WAV must be 16-bit PCM at 48000 Hz, mono or stereo (convert with: sox IN "
		         "-r 48000 -b 16 OUT.wav)");
		return -EINVAL;
	}
	in->channels = le16(fmt + 2);
	in->left = le32(ch + 4);
	/* streamed WAVs (sox to a pipe) carry a bogus length: read to the end */
	if (in->left == 0 || in->left == 0xffffffffu)
		in->left = UINT64_MAX;
	return 0;
}

static int audio_ogg_read(void *src, unsigned char *buf, int n)
{
	struct audio_in *in = src;
	ssize_t r = audio_read_full(in, buf, (size_t)n);

	return r < 0 ? -1 : (int)r;
}

static int audio_ogg_open(struct audio_in *in, char *err, size_t errlen)
{
	static const OpusFileCallbacks cbs = {audio_ogg_read, NULL, NULL, NULL};
	int e = 0;

	in->of = op_open_callbacks(in, &cbs, NULL, 0, &e);
	if (!in->of) {
		snprintf(err, errlen, "not an Ogg Opus stream (error %d)", e);
		return -EINVAL;
	}
	return 0;
}

int audio_in_open(const char *path, enum audio_fmt fmt, struct audio_in **ret, char *err,
                  size_t errlen)
{
	struct audio_in *in = calloc(1, sizeof(*in));
	int r = 0;

	if (!in)
		return -ENOMEM;
	in->fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (in->fd < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		free(in);
		return r;
	}
	if (fmt == AUDIO_FMT_AUTO && in->fd != STDIN_FILENO)
		fmt = audio_fmt_of_path(path);
	if (fmt == AUDIO_FMT_AUTO) {
		ssize_t n = audio_read_full(in, in->pre, 4);
		in->npre = n > 0 ? (size_t)n : 0;
		fmt = n == 4 && !memcmp(in->pre, "RIFF", 4)   ? AUDIO_FMT_WAV
		      : n == 4 && !memcmp(in->pre, "OggS", 4) ? AUDIO_FMT_OGG
		                                              : AUDIO_FMT_RAW;
	}
	in->fmt = fmt;
	in->channels = 1;
	in->left = UINT64_MAX;
	if (fmt == AUDIO_FMT_WAV)
		r = audio_wav_header(in, err, errlen);
	else if (fmt == AUDIO_FMT_OGG)
		r = audio_ogg_open(in, err, errlen);
	if (r < 0) {
		audio_in_close(in);
		return r;
	}
	*ret = in;
	return 0;
}

static int audio_in_pcm(struct audio_in *in, int16_t *pcm, int n)
{
	int16_t buf[2 * AUDIO_IO_FRAME];
	size_t want = (size_t)n * in->channels * 2;
	ssize_t got;
	int frames;

	if (want > in->left)
		want = (size_t)in->left & ~(size_t)(2 * in->channels - 1);
	got = audio_read_full(in, buf, want);
	if (got <= 0)
		return (int)got;
	if (in->left != UINT64_MAX)
		in->left -= (uint64_t)got;
	frames = (int)((size_t)got / (2 * in->channels));
	for (int i = 0; i < frames; i++)
		pcm[i] = in->channels == 2 ? (int16_t)((buf[2 * i] + buf[2 * i + 1]) / 2) : buf[i];
	return frames;
}

int audio_in_read(struct audio_in *in, int16_t pcm[AUDIO_IO_FRAME])
{
	int have = 0;

	while (have < AUDIO_IO_FRAME) {
		int r;
		if (in->fmt == AUDIO_FMT_OGG)
			r = op_read(in->of, pcm + have, AUDIO_IO_FRAME - have, NULL);
		else
			r = audio_in_pcm(in, pcm + have, AUDIO_IO_FRAME - have);
		if (r < 0 && in->fmt == AUDIO_FMT_OGG && r == OP_HOLE)
			continue;
		if (r <= 0)
			break;
		have += r;
	}
	if (have == 0)
		return 0;
	memset(pcm + have, 0, (size_t)(AUDIO_IO_FRAME - have) * sizeof(*pcm));
	return AUDIO_IO_FRAME;
}

void audio_in_close(struct audio_in *in)
{
	if (!in)
		return;
	if (in->of)
		op_free(in->of);
	if (in->fd > STDERR_FILENO)
		close(in->fd);
	free(in);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* A 44-byte WAV header; data_len 0xffffffff while unknown (pipes). */
static void audio_wav_hdr(uint8_t h[44], uint32_t data_len)
{
	memcpy(h, "RIFF", 4);
	put_le32(h + 4, data_len == 0xffffffffu ? data_len : data_len + 36);
	memcpy(h + 8, "WAVEfmt ", 8);
	put_le32(h + 16, 16);
	h[20] = 1, h[21] = 0; /* PCM */
	h[22] = 1, h[23] = 0; /* mono */
	put_le32(h + 24, 48000);
	put_le32(h + 28, 96000);
	h[32] = 2, h[33] = 0;
	h[34] = 16, h[35] = 0;
	memcpy(h + 36, "data", 4);
	put_le32(h + 40, data_len);
}

static int audio_ope_write(void *user, const unsigned char *ptr, opus_int32 len)
{
	struct audio_out *o = user;

	return fsutil_write_all(o->fd, ptr, (size_t)len) < 0;
}

static int audio_ope_close(void *user)
{
	(void)user;
	return 0;
}

int audio_out_open(const char *path, enum audio_fmt fmt, struct audio_out **ret, char *err,
                   size_t errlen)
{
	static const OpusEncCallbacks cbs = {audio_ope_write, audio_ope_close};
	struct audio_out *o = calloc(1, sizeof(*o));
	uint8_t h[44];
	int r = 0, e = 0;

	if (!o)
		return -ENOMEM;
	o->fd = strcmp(path, "-") == 0 ? STDOUT_FILENO
	                               : open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (o->fd < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
		free(o);
		return r;
	}
	if (fmt == AUDIO_FMT_AUTO)
		fmt = o->fd == STDOUT_FILENO ? AUDIO_FMT_RAW : audio_fmt_of_path(path);
	o->fmt = fmt;
	if (fmt == AUDIO_FMT_WAV) {
		audio_wav_hdr(h, 0xffffffffu);
		r = fsutil_write_all(o->fd, h, sizeof(h));
	} else if (fmt == AUDIO_FMT_OGG) {
		OggOpusComments *c = ope_comments_create();
		if (c)
			o->enc = ope_encoder_create_callbacks(&cbs, o, c, 48000, 1, 0, &e);
		ope_comments_destroy(c);
		if (!o->enc)
			r = -EIO;
	}
	if (r < 0) {
		snprintf(err, errlen, "cannot write to %s", path);
		audio_out_close(o);
		return r;
	}
	*ret = o;
	return 0;
}

int audio_out_write(struct audio_out *o, const int16_t *pcm, int n)
{
	if (o->fmt == AUDIO_FMT_OGG)
		return ope_encoder_write(o->enc, pcm, n) == OPE_OK ? 0 : -EIO;
	o->bytes += (uint64_t)n * 2;
	return fsutil_write_all(o->fd, pcm, (size_t)n * 2);
}

int audio_out_close(struct audio_out *o)
{
	uint8_t h[44];
	int r = 0;

	if (!o)
		return 0;
	if (o->enc) {
		if (ope_encoder_drain(o->enc) != OPE_OK)
			r = -EIO;
		ope_encoder_destroy(o->enc);
	}
	/* a WAV file (not a pipe) gets its real lengths */
	if (o->fmt == AUDIO_FMT_WAV && lseek(o->fd, 0, SEEK_SET) == 0) {
		audio_wav_hdr(h, o->bytes > 0xfffffff0u ? 0xfffffff0u : (uint32_t)o->bytes);
		r = fsutil_write_all(o->fd, h, sizeof(h));
	}
	if (o->fd > STDERR_FILENO && close(o->fd) < 0)
		r = -errno;
	free(o);
	return r;
}
