/* audio_dev: the microphone and the speaker for `nexus talk`, through a
 * PulseAudio server (PipeWire's pulse server too). 48 kHz mono s16le, 20 ms
 * frames, as audio_io. Each direction runs on its own thread with the
 * blocking pa_simple API, so the device paces it; frames cross to the event
 * loop through small bounded rings, with an eventfd to wake the loop. */
#ifndef NEXUS_AUDIO_DEV_H
#define NEXUS_AUDIO_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audio_io.h"

struct audio_dev;

/* Open the microphone (capture) and/or the speaker (play). A NULL name is
 * the server's default source or sink. Returns 0, or a negative errno with
 * a sentence in err naming the server and device tried. */
int audio_dev_open(bool capture, const char *in_name, bool play, const char *out_name,
                   struct audio_dev **ret, char *err, size_t errlen);
/* Readable when captured frames wait or a device failed. */
int audio_dev_fd(const struct audio_dev *d);
/* Clear the wake-up; call before draining with audio_dev_read. */
void audio_dev_ack(struct audio_dev *d);
/* One captured frame: 1, 0 when none waits, or -EIO when a device failed
 * (audio_dev_error says why). */
int audio_dev_read(struct audio_dev *d, int16_t pcm[AUDIO_IO_FRAME]);
/* Queue one frame for the speaker (the oldest is dropped when the speaker
 * runs slower than our clock). */
void audio_dev_write(struct audio_dev *d, const int16_t pcm[AUDIO_IO_FRAME]);
const char *audio_dev_error(const struct audio_dev *d);
/* Frames dropped because a ring was full (captured, to play: the speaker
 * ran slower than our clock), and frames of silence the speaker played
 * because our loop was late. */
void audio_dev_dropped(const struct audio_dev *d, uint64_t *ret_in, uint64_t *ret_out,
                       uint64_t *ret_silences);
/* Stop the threads and close the streams; waits at most about 1 s for a
 * sound server that stopped answering, then leaves its thread. NULL-safe. */
void audio_dev_close(struct audio_dev *d);

#endif
