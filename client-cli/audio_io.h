/* audio_io: sound in and out of files and pipes for `nexus talk`: WAV,
 * Ogg Opus and raw 48 kHz mono s16le. Mono 16-bit frames of 20 ms. */
#ifndef NEXUS_AUDIO_IO_H
#define NEXUS_AUDIO_IO_H

#include <stddef.h>
#include <stdint.h>

#define AUDIO_IO_RATE 48000
#define AUDIO_IO_FRAME 960

enum audio_fmt { AUDIO_FMT_AUTO, AUDIO_FMT_WAV, AUDIO_FMT_OGG, AUDIO_FMT_RAW };

/* "wav", "ogg"/"opus", "raw"; AUDIO_FMT_AUTO for anything else. */
enum audio_fmt audio_fmt_parse(const char *name);

struct audio_in;
/* path "-" is stdin. Returns 0 or a negative errno with a sentence in err. */
int audio_in_open(const char *path, enum audio_fmt fmt, struct audio_in **ret, char *err,
                  size_t errlen);
/* One 20 ms frame (the last one padded with silence): AUDIO_IO_FRAME, or 0
 * at the end. */
int audio_in_read(struct audio_in *in, int16_t pcm[AUDIO_IO_FRAME]);
void audio_in_close(struct audio_in *in);

struct audio_out;
/* path "-" is stdout (raw unless fmt says otherwise). */
int audio_out_open(const char *path, enum audio_fmt fmt, struct audio_out **ret, char *err,
                   size_t errlen);
int audio_out_write(struct audio_out *o, const int16_t *pcm, int n);
/* Finish (WAV lengths, Ogg end of stream) and close. NULL-safe. */
int audio_out_close(struct audio_out *o);

#endif
